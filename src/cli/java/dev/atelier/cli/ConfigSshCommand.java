package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one {@code Host atelier.<workspace>} entry per workspace into a marked block of ~/.ssh/config
 * ({@link SshConfigFile}), each going through {@code atelier ssh --stdio} to the gateway, and the gateway's host keys
 * into ~/.config/atelier/known_hosts. Then plain {@code ssh atelier.<ws>}, scp, rsync, VS Code Remote SSH and JetBrains
 * Gateway work. Idempotent: with nothing changed, no file is written.
 */
@Command(name = "config-ssh", description = "Add 'Host atelier.<workspace>' entries for your workspaces to ~/.ssh/config "
        + "(a marked block; --remove takes it out).")
final class ConfigSshCommand extends AtelierCommand {

    @Option(names = "--remove", description = "Remove the block again (the rest of the file stays as it is).")
    boolean remove;

    @Option(names = "--all", description = "Also workspaces of others you can see (owners), as atelier.<owner>.<name>.")
    boolean all;

    @Option(names = "--ssh-config", paramLabel = "FILE", description = "The file to change (default ~/.ssh/config).")
    Path sshConfig;

    @Option(names = {"-i", "--identity-file"}, paramLabel = "FILE", description = "An IdentityFile for every entry "
            + "(default: ssh's own choice of keys).")
    Path identity;

    @Option(names = "--gateway", paramLabel = "HOST:PORT", description = "The gateway as seen from here "
            + "(default: the engine's host and the port it reports).")
    String gateway;

    @Option(names = "--cli-command", paramLabel = "PATH", description = "How ssh runs this CLI in ProxyCommand "
            + "(default: ATELIER_CLI, set by the launcher, else 'atelier').")
    String cli;

    @Option(names = "--dry-run", description = "Print the block instead of writing it.")
    boolean dryRun;

    @Override
    int execute() {
        Path config = sshConfig != null ? sshConfig : env().home().resolve(".ssh").resolve("config");
        String before = read(config);
        if (remove) {
            String after = SshConfigFile.apply(before, null);
            boolean changed = !after.equals(before);
            if (changed && !dryRun) {
                write(config, after);
            }
            report(config, changed, 0);
            return ExitCodes.OK;
        }
        Workspaces workspaces = new Workspaces(engine());
        String me = workspaces.me();
        List<SshConfigFile.Entry> entries = new ArrayList<>();
        int skipped = 0;
        for (JsonNode workspace : workspaces.list(all ? null : me)) {
            SshConfigFile.Entry entry = SshSupport.entry(workspace, me);
            if (entry == null) {
                skipped++;
            } else {
                entries.add(entry);
            }
        }
        Gateway target = Gateway.fetch(engine());
        if (gateway != null) {
            Gateway given = Gateway.parse(gateway, target.host());
            target = new Gateway(given.host(), given.port(), target.hostKeys());
        }
        Path knownHosts = SshSupport.knownHosts(env()).toAbsolutePath();
        String block = SshConfigFile.block(engine().base().toString(), entries,
                SshSupport.proxyCommand(SshSupport.cliCommand(env(), cli), target), knownHosts,
                identity == null ? null : identity.toAbsolutePath());
        if (dryRun) {
            out().line(block.stripTrailing());
            return ExitCodes.OK;
        }
        target.writeKnownHosts(knownHosts);
        String after = SshConfigFile.apply(before, block);
        boolean changed = !after.equals(before);
        if (changed) {
            write(config, after);
        }
        if (skipped > 0) {
            out().progress("note: " + skipped + " workspace(s) left out: their owner's id cannot be an SSH user name");
        }
        report(config, changed, entries.size());
        if (!json) {
            entries.stream().map(SshConfigFile.Entry::alias).sorted().forEach(a -> out().line("  ssh " + a));
        }
        return ExitCodes.OK;
    }

    private void report(Path config, boolean changed, int hosts) {
        if (json) {
            ObjectNode result = EngineClient.JSON.createObjectNode();
            result.put("file", config.toString());
            result.put("changed", changed);
            result.put("hosts", hosts);
            out().json(result);
        } else if (remove) {
            out().line(changed ? "Removed the atelier block from " + config : "No atelier block in " + config);
        } else {
            out().line((changed ? "Updated " : "Unchanged: ") + config + " (" + hosts + " host" + (hosts == 1 ? "" : "s") + ")");
        }
    }

    private static String read(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot read " + file + ": " + e.getMessage());
        }
    }

    private static void write(Path file, String text) {
        try {
            SshConfigFile.writeAtomically(file, text);
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot write " + file + ": " + e.getMessage());
        }
    }
}
