package dev.atelier.providers.ssh;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Template spec and host validation of the ssh provider, and how values travel to the host's shell. */
class SshSpecTest {

    private static final SshConnector CONNECTOR = new SshConnector(Path.of("/nonexistent"),
            java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1));
    private final SshWorkspaceProvider provider = new SshWorkspaceProvider(null, CONNECTOR, null);

    @org.junit.jupiter.api.AfterAll
    static void close() throws IOException {
        CONNECTOR.close();
    }

    @Test
    void specProblemsNameTheirKeys() {
        assertThat(provider.validateSpec(Map.of("startupScript", "sleep 1", "hostSelector", Map.of("gpu", "a100"),
                "env", Map.of("EDITOR", "vim")))).isEmpty();
        assertThat(provider.validateSpec(Map.of("image", "debian", "startupScript", 3,
                "hostSelector", Map.of("gpu", 1), "env", Map.of("ATELIER_X", "1", "HOME", "/", "1BAD", "x"))))
                .containsExactlyInAnyOrder(
                        "unknown key 'image' for provider ssh (known: startupScript, hostSelector, env)",
                        "startupScript must be a string (a shell script)",
                        "hostSelector: value of 'gpu' must be a string of letters, digits and '._-'",
                        "env name 'ATELIER_X' is reserved: ATELIER_* and HOME are set by the engine",
                        "env name 'HOME' is reserved: ATELIER_* and HOME are set by the engine",
                        "env name '1BAD' is not a valid variable name");
    }

    @Test
    void aHostNeedsAFingerprintInSha256FormAndEveryFieldIsChecked() {
        HostDefinition.Checked ok = HostDefinition.check("box-1", "10.0.0.7", null, "atelier", "box-1.key",
                "SHA256:" + "a".repeat(43), 4, Map.of("gpu", "a100"), null);
        assertThat(ok.problems()).isEmpty();
        assertThat(ok.definition().port()).isEqualTo(22);
        assertThat(ok.definition().directory()).isEqualTo("atelier-workspaces");

        assertThat(HostDefinition.check("Box 1", "a b", 0, "Root;", "../key", "MD5:aa:bb", -1,
                Map.of("gpu", "a 100"), "/srv/../etc").problems())
                .anySatisfy(p -> assertThat(p).startsWith("name:"))
                .anySatisfy(p -> assertThat(p).startsWith("address:"))
                .anySatisfy(p -> assertThat(p).startsWith("port:"))
                .anySatisfy(p -> assertThat(p).startsWith("user:"))
                .anySatisfy(p -> assertThat(p).startsWith("keyRef:"))
                .anySatisfy(p -> assertThat(p).startsWith("hostKeyFingerprint: must look like SHA256:"))
                .anySatisfy(p -> assertThat(p).startsWith("capacity:"))
                .anySatisfy(p -> assertThat(p).startsWith("labels: value of 'gpu'"))
                .anySatisfy(p -> assertThat(p).startsWith("directory:"));
        assertThat(HostDefinition.check("box", "h", 22, "u", "k", null, 1, null, null).problems())
                .containsExactly("hostKeyFingerprint: required; the host's SHA256 key fingerprint, as printed on the "
                        + "host by ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (keys are never trusted on first use)");
    }

    @Test
    void theEnvFileGivesTheShellEveryValueVerbatim(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String nasty = "$(touch " + dir.resolve("pwned") + ") `id` 'single' \"double\" \\ ;|&\nline two $HOME";
        Files.writeString(dir.resolve("env"), SshWorkspaceProvider.envFile(Map.of("ATELIER_PARAM_X", nasty)));
        Process sh = new ProcessBuilder("sh", "-c", "set -a; . ./env; set +a; printf '%s' \"$ATELIER_PARAM_X\" > out")
                .directory(dir.toFile()).start();
        assertThat(sh.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(dir.resolve("out"))).isEqualTo(nasty);
        assertThat(dir.resolve("pwned")).doesNotExist();
    }

    @Test
    void theControlScriptsAreValidShell() throws IOException, InterruptedException {
        for (String script : new String[]{"atelier/ssh/control.sh", "atelier/ssh/launch.sh"}) {
            Path file = Files.createTempFile("script", ".sh");
            try (var in = getClass().getClassLoader().getResourceAsStream(script)) {
                Files.write(file, in.readAllBytes());
            }
            Process check = new ProcessBuilder("sh", "-n", file.toString()).redirectErrorStream(true).start();
            assertThat(check.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(script + ": " + new String(check.getInputStream().readAllBytes())).isZero();
            Files.delete(file);
        }
    }
}
