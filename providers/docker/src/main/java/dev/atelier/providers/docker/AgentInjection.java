package dev.atelier.providers.docker;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.SpecEnvironment;
import dev.atelier.provider.WorkspaceAgent;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeMap;

import static dev.atelier.provider.ShellQuoting.quote;

/**
 * How the workspace agent gets into the main container: an entrypoint wrapper that starts the agent beside the
 * workload and then becomes the workload, and the agent's script and environment, copied into the created container
 * before it starts. The agent's token goes into a file, not into the container's configuration, so that it does not
 * show in {@code docker inspect}.
 */
final class AgentInjection {

    /** The main container's entrypoint: the wrapper, with the workload's command as its arguments. */
    static final List<String> ENTRYPOINT = List.of("/bin/sh", "/.atelier/entrypoint.sh");
    private static final String WRAPPER = """
            #!/bin/sh
            # Written by Atelier: start the workspace agent beside the workload, then become the workload.
            if [ -r /.atelier/agent.sh ] && [ -r /.atelier/agent.env ]; then
              ( set -a; . /.atelier/agent.env; set +a; exec sh /.atelier/agent.sh ) >/dev/null 2>&1 </dev/null &
            fi
            exec "$@"
            """;

    private AgentInjection() {
    }

    /** Copies the wrapper and (when the call brings one) the agent into the created, not yet started container. */
    static void copyInto(DockerApi api, String containerId, WorkspaceAgent agent) {
        api.copyArchive(containerId, archive(agent), "copy the workspace agent into the container");
    }

    /** {@code /.atelier/} with the wrapper, and the agent's script and environment file. */
    static byte[] archive(WorkspaceAgent agent) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry dir = new TarArchiveEntry(".atelier/");
            dir.setMode(040755);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            addFile(tar, ".atelier/entrypoint.sh", WRAPPER, 0100755);
            if (agent != null) {
                addFile(tar, ".atelier/agent.sh", agent.script(), 0100755);
                StringBuilder env = new StringBuilder("# Written by Atelier for the workspace agent.\n");
                new TreeMap<>(agent.environment()).forEach((k, v) -> {
                    if (!SpecEnvironment.NAME.matcher(k).matches()) {
                        throw ProviderException.permanent("invalid agent variable name " + k);
                    }
                    env.append(k).append('=').append(quote(v)).append('\n');
                });
                // Readable by the workspace's own user (the image may not run as root); it is the workspace's token.
                addFile(tar, ".atelier/agent.env", env.toString(), 0100644);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void addFile(TarArchiveOutputStream tar, String name, String content, int mode) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(data.length);
        entry.setMode(mode);
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
    }
}
