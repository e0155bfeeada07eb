package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Local ports to ports inside a workspace, through the gateway: ssh {@code -N -L 127.0.0.1:LOCAL:localhost:REMOTE}
 * with this CLI as ProxyCommand, until interrupted.
 */
@Command(name = "port-forward", description = "Forward local ports to ports in a workspace (until Ctrl-C).")
final class PortForwardCommand extends AtelierCommand {

    @Parameters(index = "0", paramLabel = "WORKSPACE", description = "Name or <owner>.<name>.")
    String workspace;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "[LOCAL:]REMOTE", description = "e.g. 8080 or 9000:8080.")
    List<String> ports;

    @Option(names = {"-i", "--identity-file"}, paramLabel = "FILE", description = "The private key ssh offers.")
    Path identity;

    @Option(names = "--ssh-command", paramLabel = "PATH", defaultValue = "ssh", description = "The ssh to run (default ${DEFAULT-VALUE}).")
    String ssh;

    @Option(names = "--cli-command", paramLabel = "PATH", description = "How ssh runs this CLI in ProxyCommand.")
    String cli;

    @Override
    int execute() {
        List<String> forwards = new ArrayList<>();
        for (String spec : ports) {
            String[] parts = spec.split(":");
            if (parts.length > 2 || !parts[0].matches("[0-9]{1,5}") || !parts[parts.length - 1].matches("[0-9]{1,5}")
                    || Integer.parseInt(parts[0]) > 65535 || Integer.parseInt(parts[parts.length - 1]) > 65535) {
                throw new CliException(ExitCodes.USAGE, "a forward is REMOTE or LOCAL:REMOTE, ports 1-65535");
            }
            String local = parts[0];
            String remote = parts[parts.length - 1];
            forwards.add("127.0.0.1:" + local + ":localhost:" + remote);
        }
        Workspaces workspaces = new Workspaces(engine());
        JsonNode found = workspaces.find(workspace);
        SshConfigFile.Entry entry = SshSupport.entry(workspaces, found);
        Gateway target = Gateway.fetch(engine());
        Path knownHosts = SshSupport.knownHosts(env());
        target.writeKnownHosts(knownHosts);
        List<String> argv = SshSupport.sshOptions(ssh, SshSupport.proxyCommand(SshSupport.cliCommand(env(), cli), target),
                entry.workspace(), knownHosts, entry.user(), identity);
        argv.addAll(List.of("-N", "-o", "ExitOnForwardFailure=yes"));
        forwards.forEach(f -> argv.addAll(List.of("-L", f)));
        argv.add(entry.alias());
        forwards.forEach(f -> out().progress("Forwarding " + f.replace(":localhost:", " -> " + found.path("name").asText() + ":")
                + " (Ctrl-C to stop)"));
        return SshSupport.run(argv);
    }
}
