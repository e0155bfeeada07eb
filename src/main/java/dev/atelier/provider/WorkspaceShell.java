package dev.atelier.provider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What the SSH gateway asks of a provider that can reach inside its workspaces: start a process there (with or
 * without a terminal) and open a TCP connection to a port as the workspace sees it. The engine decides who may do
 * this (authentication, authorisation, the workspace's state, audit); the provider only carries bytes. A provider
 * that cannot offer this does not implement the interface, and the gateway says so to the client.
 */
public interface WorkspaceShell {

    /** The provider name, as {@link WorkspaceProvider#name()}. */
    String name();

    /**
     * Starts a process inside the running workspace {@code target}.
     *
     * @throws ProviderException when the workspace is not running there or the process cannot be started
     */
    ShellProcess open(Target target, ShellRequest request);

    /**
     * A TCP connection to {@code host:port} as seen from inside the workspace ({@code localhost} is the workspace
     * itself): the gateway's local port forwarding.
     *
     * @throws ProviderException when the connection cannot be made
     */
    ShellProcess connect(Target target, String host, int port);

    /** {@link #open(Target, ShellRequest)} for a caller that knows only the workspace id (tools, tests). */
    default ShellProcess open(String workspaceId, ShellRequest request) {
        return open(Target.of(workspaceId), request);
    }

    /** {@link #connect(Target, String, int)} for a caller that knows only the workspace id (tools, tests). */
    default ShellProcess connect(String workspaceId, String host, int port) {
        return connect(Target.of(workspaceId), host, port);
    }

    /**
     * The workspace the gateway reaches, as the engine knows it when a channel opens. Providers that keep their own
     * placement (local, docker, kubernetes, ssh hosts) need only the id; a VM's provider finds the VM's address in
     * the connection info it gave and trusts only the SSH host keys the workspace's agent reported for the current
     * build, which the engine recorded as an event.
     *
     * @param connection the workspace's connection info (the provider's own keys: {@code sshHost}, {@code sshPort}...)
     * @param hostKeys   SHA256 fingerprints of the workspace's SSH host keys reported by its agent for the current
     *                   build ({@code SHA256:...}, as {@code ssh-keygen -l} prints them); empty when none was
     */
    record Target(String workspaceId, Map<String, String> connection, List<String> hostKeys) {
        public Target {
            connection = connection == null ? Map.of() : Map.copyOf(connection);
            hostKeys = hostKeys == null ? List.of() : List.copyOf(hostKeys);
        }

        public static Target of(String workspaceId) {
            return new Target(workspaceId, Map.of(), List.of());
        }
    }

    /**
     * @param command  the argument vector; empty: the workspace user's login shell
     * @param terminal the client's pseudo-terminal; null: plain pipes (exec, sftp)
     * @param env      variables the client sent that the gateway lets through (TERM, LANG...)
     */
    record ShellRequest(List<String> command, Terminal terminal, Map<String, String> env) {
        public ShellRequest {
            command = List.copyOf(command);
            env = Map.copyOf(env);
        }
    }

    /** A pseudo-terminal's type and size. */
    record Terminal(String type, int columns, int rows) {
    }

    /**
     * A process (or connection) in the workspace. With a terminal, stderr is merged into stdout and
     * {@link #stderr()} returns null. {@link #exit()} completes with the exit status (a connection: 0 when closed).
     */
    interface ShellProcess extends AutoCloseable {
        OutputStream stdin();

        InputStream stdout();

        InputStream stderr();

        void resize(int columns, int rows);

        CompletableFuture<Integer> exit();

        /** Ends the process (or the connection); idempotent. */
        @Override
        void close() throws IOException;
    }
}
