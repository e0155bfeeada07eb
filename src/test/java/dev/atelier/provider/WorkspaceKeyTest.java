package dev.atelier.provider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkspaceKeyTest {

    @TempDir
    Path dir;

    @Test
    void aMissingKeyIsGeneratedOnceReadableOnlyByTheEngineAndOpenSshReadsIt() throws Exception {
        Path file = dir.resolve("ssh").resolve("gateway-workspace-key");
        WorkspaceKey key = WorkspaceKey.at(file);

        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(key.publicKey()).matches("ssh-ed25519 [A-Za-z0-9+/]+=* atelier-gateway");
        assertThat(WorkspaceKey.at(file).publicKey()).as("the same key after a restart").isEqualTo(key.publicKey());
        assertThat(key.toString()).doesNotContain("PRIVATE").contains(key.publicKey());

        // OpenSSH's own tool derives the same public key from the file the engine wrote.
        Process p = new ProcessBuilder("ssh-keygen", "-y", "-f", file.toString()).start();
        String derived = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(key.publicKey()).startsWith(derived.split(" ")[0] + " " + derived.split(" ")[1]);
    }

    @Test
    void aGivenKeyMadeBySshKeygenIsUsedAndAnythingElseRefusedWithoutQuotingIt() throws Exception {
        Path given = dir.resolve("given");
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", given.toString())
                .start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String expected = Files.readString(dir.resolve("given.pub")).trim().split(" ")[1];
        assertThat(WorkspaceKey.at(given).publicKey()).isEqualTo("ssh-ed25519 " + expected + " atelier-gateway");

        Path garbage = dir.resolve("garbage");
        Files.writeString(garbage, "not-a-key-secretvalue");
        assertThatThrownBy(() -> WorkspaceKey.at(garbage)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("not an OpenSSH private key").hasMessageNotContaining("secretvalue");
        assertThat(Files.readString(garbage)).as("a given file is never replaced").isEqualTo("not-a-key-secretvalue");
    }
}
