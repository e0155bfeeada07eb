package dev.atelier.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The marked block in ~/.ssh/config: put in, replaced where it stands, removed, and nothing else touched. */
class SshConfigFileTest {

    private static final String USER_CONFIG = "ServerAliveInterval 60\n\nHost build\n  HostName build.example.com\n";

    private static String block(String... workspaces) {
        return SshConfigFile.block("http://engine:8080", java.util.Arrays.stream(workspaces)
                        .map(w -> new SshConfigFile.Entry("atelier." + w, w, w)).toList(),
                "atelier ssh --stdio --gateway engine:2222", Path.of("/home/u/.config/atelier/known_hosts"), null);
    }

    @Test
    void theBlockIsAppendedAfterTheUsersOwnLinesAndHasOneHostPerWorkspaceSorted() {
        String config = SshConfigFile.apply(USER_CONFIG, block("web", "api"));
        assertThat(config).startsWith(USER_CONFIG + "\n" + SshConfigFile.BEGIN + "\n");
        assertThat(config).endsWith(SshConfigFile.END + "\n");
        assertThat(config.indexOf("Host atelier.api")).isLessThan(config.indexOf("Host atelier.web"));
        assertThat(config).contains("Host atelier.web\n  User web\n  ProxyCommand atelier ssh --stdio --gateway engine:2222 web\n"
                + "  UserKnownHostsFile /home/u/.config/atelier/known_hosts\n  HostKeyAlias atelier-gateway\n"
                + "  StrictHostKeyChecking yes\n");
    }

    @Test
    void applyingTheSameBlockAgainChangesNothingAndANewOneReplacesItWhereItStands() {
        String once = SshConfigFile.apply(USER_CONFIG, block("web"));
        assertThat(SshConfigFile.apply(once, block("web"))).isEqualTo(once);
        String withTail = once + "\nHost later\n  User x\n";
        String replaced = SshConfigFile.apply(withTail, block("web", "db"));
        assertThat(replaced).startsWith(USER_CONFIG).endsWith("\nHost later\n  User x\n").contains("Host atelier.db");
        assertThat(replaced.split(java.util.regex.Pattern.quote(SshConfigFile.BEGIN), -1)).hasSize(2);
    }

    @Test
    void removingTakesOutExactlyWhatWasAddedAndIsIdempotent() {
        String added = SshConfigFile.apply(USER_CONFIG, block("web"));
        assertThat(SshConfigFile.apply(added, null)).isEqualTo(USER_CONFIG);
        assertThat(SshConfigFile.apply(USER_CONFIG, null)).isEqualTo(USER_CONFIG);
        assertThat(SshConfigFile.apply("", block("web"))).isEqualTo(block("web"));
        assertThat(SshConfigFile.apply(SshConfigFile.apply("", block("web")), null)).isEmpty();
        String noNewline = "Host x";
        assertThat(SshConfigFile.apply(SshConfigFile.apply(noNewline, block("web")), null)).isEqualTo("Host x\n");
    }

    @Test
    void aMarkerQuotedInsideSomeOtherLineIsNoBlock() {
        String config = "# see " + SshConfigFile.BEGIN + "\nHost a\n";
        assertThat(SshConfigFile.apply(config, null)).isEqualTo(config);
    }

    @Test
    void valuesAreQuotedForSshConfigAndTheShell() {
        assertThat(SshConfigFile.shellWord("/usr/local/bin/atelier")).isEqualTo("/usr/local/bin/atelier");
        assertThat(SshConfigFile.shellWord("/opt/my tools/atelier")).isEqualTo("'/opt/my tools/atelier'");
        assertThat(SshConfigFile.shellWord("/x/it's;rm -rf")).isEqualTo("'/x/it'\\''s;rm -rf'");
        assertThat(SshConfigFile.configValue("/home/a b/kh")).isEqualTo("\"/home/a b/kh\"");
        assertThatThrownBy(() -> SshConfigFile.configValue("/x\nHost *")).isInstanceOf(CliException.class);
    }

    @Test
    void aNewFileIsPrivateAndAnExistingFileKeepsItsPermissions(@TempDir Path dir) throws Exception {
        Path config = dir.resolve(".ssh").resolve("config");
        SshConfigFile.writeAtomically(config, "a\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config.getParent()))).isEqualTo("rwx------");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        SshConfigFile.writeAtomically(config, "b\n");
        assertThat(Files.readString(config)).isEqualTo("b\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-r--r--");
        try (var files = Files.list(config.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).isEqualTo(List.of("config"));
        }
    }
}
