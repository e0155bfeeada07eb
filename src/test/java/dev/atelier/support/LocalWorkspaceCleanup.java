package dev.atelier.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Local workspaces outlive the engine on purpose (a restart must not kill them), so tests that leave workspaces
 * running end them themselves, from the engine's state directory: SIGKILL to the sandbox's init (which ends its
 * whole pid namespace), or to the process group of a workspace without a sandbox.
 */
public final class LocalWorkspaceCleanup {

    private LocalWorkspaceCleanup() {
    }

    public static void killAll(Path dataDir) {
        Path states = dataDir.resolve("local-state");
        if (!Files.isDirectory(states)) {
            return;
        }
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> dirs = Files.list(states)) {
            dirs.map(d -> d.resolve("process.json")).filter(Files::exists).forEach(state -> {
                try {
                    JsonNode process = json.readTree(state.toFile());
                    if (process.hasNonNull("initPid")) {
                        ProcessHandle.of(process.get("initPid").asLong()).ifPresent(ProcessHandle::destroyForcibly);
                    }
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
