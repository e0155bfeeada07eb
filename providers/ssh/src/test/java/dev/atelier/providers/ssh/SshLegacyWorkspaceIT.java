package dev.atelier.providers.ssh;

import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A workspace an earlier version started on an ssh host, with its records in {@code <dir>/.atelier/}: the current
 * engine installs its control script in the state directory and stops the old process group, but only one that
 * really runs in that workspace's directory; a pid file naming another process of the same user is ignored.
 */
class SshLegacyWorkspaceIT extends EngineIntegrationTest {

    @Autowired
    SshWorkspaceProvider provider;

    @Test
    void aProcessGroupOfAnEarlierVersionIsStoppedAndAForgedOneIsNot() throws Exception {
        TestInfra.SshHost sshd = TestInfra.sshd();
        String pool = UUID.randomUUID().toString().substring(0, 8);
        ApiClient.Response host = admin.post("/api/v1/hosts", Map.of("name", "legacy-" + pool, "address", sshd.address(),
                "port", sshd.port(), "user", sshd.user(), "keyRef", sshd.keyRef(),
                "hostKeyFingerprint", sshd.fingerprint(), "capacity", 1, "labels", Map.of("pool", pool)));
        assertThat(host.status()).as(host.body()).isEqualTo(201);
        String id = UUID.randomUUID().toString();
        Map<String, Object> spec = Map.of("hostSelector", Map.of("pool", pool));
        ProvisionRequest request = new ProvisionRequest(id, 1, "alice", null, spec, Map.of(), Map.of(), null);
        ProviderOperation created = provider.create(request);
        await().atMost(Duration.ofSeconds(30)).until(() -> provider.poll(request, created.operationId()).done());
        ProvisionRequest stop = new ProvisionRequest(id, 2, "alice", null, spec, Map.of(), Map.of(), null);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            ProviderOperation op = provider.stop(stop);
            return op.done() || provider.poll(stop, op.operationId()).done();
        });

        // Turn it into what an earlier version left: no state directory, records inside the workspace.
        Path home = Path.of(run("getent", "passwd", sshd.user()).trim().split(":")[5]);
        Path dir = home.resolve("atelier-workspaces").resolve(id);
        run("rm", "-rf", "--", home.resolve("atelier-workspaces/.atelier").resolve(id).toString());
        String uid = run("id", "-u", sshd.user()).trim();
        Process old = asUser(uid, dir, "1101");
        Process other = asUser(uid, home, "1102");
        String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        Path legacy = Files.createDirectories(dir.resolve(".atelier"));
        Files.writeString(legacy.resolve("control.sh"), "# an earlier version's\n");
        Files.writeString(legacy.resolve("pid"), old.pid() + " " + boot + "\n");
        run("chown", "-R", sshd.user(), legacy.toString());
        try {
            ProvisionRequest again = new ProvisionRequest(id, 3, "alice", null, spec, Map.of(), Map.of(), null);
            ProviderOperation op = provider.stop(again);
            await().atMost(Duration.ofSeconds(30)).until(() -> op.done() || provider.poll(again, op.operationId()).done());
            assertThat(old.waitFor(10, TimeUnit.SECONDS)).as("the old process group ended").isTrue();

            // A pid file naming a process of the same user that does not run in the workspace directory.
            Files.writeString(legacy.resolve("pid"), other.pid() + " " + boot + "\n");
            ProviderOperation forged = provider.stop(again);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> forged.done() || provider.poll(again, forged.operationId()).done());
            assertThat(other.isAlive()).as("a process a forged record names").isTrue();
        } finally {
            old.destroyForcibly();
            other.destroyForcibly();
            provider.delete(new ProvisionRequest(id, 4, "alice", null, spec, Map.of(), Map.of(), null));
        }
        assertThat(dir).doesNotExist();
    }

    /** A process of the host user in a session of its own, working in {@code dir}. */
    private static Process asUser(String uid, Path dir, String seconds) throws Exception {
        return new ProcessBuilder("setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "setsid", "sleep", seconds)
                .directory(dir.toFile()).start();
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }
}
