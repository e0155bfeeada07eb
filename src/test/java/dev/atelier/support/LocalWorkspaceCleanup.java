package dev.atelier.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Local workspaces outlive the engine on purpose (a restart must not kill them), so tests that leave workspaces
 * running end their process groups themselves.
 */
public final class LocalWorkspaceCleanup {

    private LocalWorkspaceCleanup() {
    }

    public static void killAll(Path dataDir) {
        Path root = dataDir.resolve("workspaces");
        if (!Files.isDirectory(root)) {
            return;
        }
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> dirs = Files.list(root)) {
            dirs.map(d -> d.resolve(".atelier/process.json")).filter(Files::exists).forEach(state -> {
                try {
                    JsonNode process = json.readTree(state.toFile());
                    long group = process.get("pid").asLong();
                    new ProcessBuilder("kill", "-KILL", "--", "-" + group).start().waitFor();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
