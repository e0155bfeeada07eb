package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

@Command(name = "stop", description = "Stop a running workspace and wait until it is stopped.")
final class StopCommand extends TransitionCommand {

    @Override
    JsonNode request(EngineClient engine, String id) {
        return engine.post("/api/v1/workspaces/" + id + "/stop", null);
    }

    @Override
    String target() {
        return "STOPPED";
    }

    @Override
    String verb() {
        return "Stopping";
    }
}
