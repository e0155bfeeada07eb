package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What ssh, port-forward and config-ssh share: the host alias and SSH user of a workspace, the ProxyCommand that pipes
 * ssh through {@code atelier ssh --stdio}, and running the system ssh (with an argument vector, never a shell line).
 */
final class SshSupport {

    /** The environment variable the launcher sets to its own path, so that ProxyCommand finds the same CLI. */
    static final String CLI_VARIABLE = "ATELIER_CLI";

    private SshSupport() {
    }

    /**
     * The alias and gateway user of a workspace: {@code atelier.<name>} and {@code <name>} for the caller's own,
     * {@code atelier.<owner>.<name>} and {@code <owner>.<name>} for somebody else's; null when the owner's id cannot
     * stand in a host alias.
     */
    /** The ssh_config entry of a workspace the caller names, or a usage error if it cannot have one. */
    static SshConfigFile.Entry entry(Workspaces workspaces, String workspace) {
        return entry(workspaces, workspaces.find(workspace));
    }

    /** The ssh_config entry of a workspace the engine described, or a usage error if it cannot have one. */
    static SshConfigFile.Entry entry(Workspaces workspaces, JsonNode workspace) {
        SshConfigFile.Entry entry = entry(workspace, workspaces.me());
        if (entry == null) {
            throw new CliException(ExitCodes.USAGE, "this workspace's owner id cannot be used as an SSH user name");
        }
        return entry;
    }

    static SshConfigFile.Entry entry(JsonNode workspace, String me) {
        String name = workspace.path("name").asText();
        String owner = workspace.path("owner").asText();
        if (!Workspaces.NAME.matcher(name).matches()) {
            return null;
        }
        if (owner.equals(me)) {
            return new SshConfigFile.Entry("atelier." + name, name, name);
        }
        if (!Workspaces.OWNER.matcher(owner).matches()) {
            return null;
        }
        return new SshConfigFile.Entry("atelier." + owner + "." + name, owner + "." + name, owner + "." + name);
    }

    /** How ProxyCommand runs this CLI: ATELIER_CLI (the launcher's path) or {@code atelier} on the PATH. */
    static String cliCommand(CliEnvironment env, String override) {
        String command = override != null ? override : env.get(CLI_VARIABLE);
        return SshConfigFile.shellWord(command == null ? "atelier" : command);
    }

    /** {@code <cli> ssh --stdio --gateway host:port}: the workspace follows. */
    static String proxyCommand(String cli, Gateway gateway) {
        return cli + " ssh --stdio --gateway " + gateway.address();
    }

    static Path knownHosts(CliEnvironment env) {
        return env.configDir().resolve("known_hosts");
    }

    /** The ssh argument vector up to (not including) the destination. */
    static List<String> sshOptions(String ssh, String proxyCommand, String workspace, Path knownHosts, String user,
                                   Path identity) {
        List<String> argv = new ArrayList<>(List.of(ssh,
                "-o", "ProxyCommand=" + proxyCommand + " " + workspace,
                "-o", "UserKnownHostsFile=" + knownHosts,
                "-o", "HostKeyAlias=" + Gateway.HOST_KEY_ALIAS,
                "-o", "StrictHostKeyChecking=yes",
                "-l", user));
        if (identity != null) {
            argv.addAll(List.of("-i", identity.toString(), "-o", "IdentitiesOnly=yes"));
        }
        return argv;
    }

    /** Runs ssh with the terminal attached and returns its exit status. */
    static int run(List<String> argv) {
        try {
            Process ssh = new ProcessBuilder(argv).inheritIO().start();
            // Ended by a signal (kill, a closing terminal): ssh and its ProxyCommand end with us, not orphaned.
            Thread stop = new Thread(() -> {
                ssh.descendants().forEach(ProcessHandle::destroy);
                ssh.destroy();
            }, "atelier-ssh-stop");
            Runtime.getRuntime().addShutdownHook(stop);
            int status = ssh.waitFor();
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            return status;
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot run " + argv.get(0) + " (is OpenSSH installed?): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.ERROR, "interrupted");
        }
    }
}
