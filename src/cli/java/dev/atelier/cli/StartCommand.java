package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

@Command(name = "start", description = "Start a stopped workspace and wait until it runs.")
final class StartCommand extends TransitionCommand {

    @Override
    JsonNode request(EngineClient engine, String id) {
        return engine.post("/api/v1/workspaces/" + id + "/start", null);
    }

    @Override
    String target() {
        return "RUNNING";
    }

    @Override
    String verb() {
        return "Starting";
    }
}
