package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "delete", description = "Delete a workspace (its resources with it) and wait until it is gone.")
final class DeleteCommand extends TransitionCommand {

    @Option(names = "--force", description = "Delete even when the provider cannot remove the resources (they may be left behind).")
    boolean force;

    @Override
    JsonNode request(EngineClient engine, String id) {
        return engine.delete("/api/v1/workspaces/" + id + (force ? "?force=true" : ""));
    }

    @Override
    String target() {
        return "DELETED";
    }

    @Override
    String verb() {
        return "Deleting";
    }
}
