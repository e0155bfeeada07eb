package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Into a workspace through the engine's SSH gateway. {@code atelier ssh <ws> [command]} runs the system ssh with a
 * ProxyCommand of this CLI; {@code atelier ssh --stdio <ws>} is that ProxyCommand: a plain byte pipe between
 * stdin/stdout and the gateway's TCP port (ssh does all of SSH; this never sees keys or passwords).
 */
@Command(name = "ssh", description = "Open a shell or run a command in a workspace, through the engine's SSH gateway.")
final class SshCommand extends AtelierCommand {

    @Parameters(index = "0", paramLabel = "WORKSPACE", description = "Name or <owner>.<name>.")
    String workspace;

    @Parameters(index = "1..*", paramLabel = "COMMAND", description = "A command to run instead of a shell.")
    List<String> command = new ArrayList<>();

    @Option(names = "--stdio", description = "Pipe stdin/stdout to the gateway (for ssh's ProxyCommand).")
    boolean stdio;

    @Option(names = "--gateway", paramLabel = "HOST:PORT", description = "The gateway (default: from the engine, "
            + "GET /api/v1/ssh/host-keys; the host defaults to the engine's).")
    String gateway;

    @Option(names = {"-i", "--identity-file"}, paramLabel = "FILE", description = "The private key ssh offers.")
    Path identity;

    @Option(names = "--ssh-command", paramLabel = "PATH", defaultValue = "ssh", description = "The ssh to run (default ${DEFAULT-VALUE}).")
    String ssh;

    @Option(names = "--cli-command", paramLabel = "PATH", description = "How ssh runs this CLI in ProxyCommand "
            + "(default: ATELIER_CLI, set by the launcher, else 'atelier').")
    String cli;

    @Override
    int execute() {
        if (stdio) {
            String host = gateway != null && gateway.lastIndexOf(':') > 0 ? null : engine().base().getHost();
            Gateway target = gateway != null ? Gateway.parse(gateway, host) : Gateway.fetch(engine());
            return pipe(target);
        }
        SshConfigFile.Entry entry = SshSupport.entry(new Workspaces(engine()), workspace);
        Gateway target = Gateway.fetch(engine());
        if (gateway != null) {
            Gateway given = Gateway.parse(gateway, target.host());
            target = new Gateway(given.host(), given.port(), target.hostKeys());
        }
        Path knownHosts = SshSupport.knownHosts(env());
        target.writeKnownHosts(knownHosts);
        List<String> argv = SshSupport.sshOptions(ssh, SshSupport.proxyCommand(SshSupport.cliCommand(env(), cli), target),
                entry.workspace(), knownHosts, entry.user(), identity);
        argv.add(entry.alias());
        if (!command.isEmpty()) {
            argv.add("--");
            argv.addAll(command);
        }
        return SshSupport.run(argv);
    }

    /** Bytes both ways until the gateway closes the connection; stdin's end half-closes it. */
    private int pipe(Gateway target) {
        try (Socket socket = connect(target)) {
            socket.setTcpNoDelay(true);
            InputStream fromGateway = socket.getInputStream();
            OutputStream toGateway = socket.getOutputStream();
            Thread upstream = new Thread(() -> {
                try {
                    env().stdin().transferTo(toGateway);
                    toGateway.flush();
                    socket.shutdownOutput();
                } catch (IOException ignored) {
                    // the connection closed: the downstream copy ends too
                }
            }, "atelier-stdio-up");
            upstream.setDaemon(true);
            upstream.start();
            OutputStream stdout = env().stdout();
            byte[] buffer = new byte[16384];
            int read;
            while ((read = fromGateway.read(buffer)) >= 0) {
                stdout.write(buffer, 0, read);
                stdout.flush();
            }
            return ExitCodes.OK;
        } catch (IOException e) {
            throw new CliException(ExitCodes.UNAVAILABLE, "cannot reach the SSH gateway at " + target.address() + ": "
                    + e.getMessage());
        }
    }

    /** The first of the host's addresses that accepts (localhost may be ::1 and 127.0.0.1, the gateway on one). */
    private static Socket connect(Gateway target) throws IOException {
        IOException failure = null;
        for (java.net.InetAddress address : java.net.InetAddress.getAllByName(target.host().replace("[", "").replace("]", ""))) {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(address, target.port()), 10_000);
                return socket;
            } catch (IOException e) {
                socket.close();
                failure = e;
            }
        }
        throw failure == null ? new IOException("no address") : failure;
    }
}
