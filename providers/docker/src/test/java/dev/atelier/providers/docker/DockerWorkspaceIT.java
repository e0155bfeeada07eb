package dev.atelier.providers.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The docker provider end to end: a template and a workspace through the HTTP API, real containers on podman's
 * Docker API, and an SSH login (OpenSSH client) into the workspace's container, which runs sshd.
 */
class DockerWorkspaceIT extends EngineIntegrationTest {

    private static DockerClient docker;
    private static Path key;
    private final List<String> workspaces = new java.util.ArrayList<>();

    @BeforeAll
    static void daemonAndKey() throws Exception {
        String host = TestInfra.podman();
        docker = DockerProviderConfiguration.client(new DockerProviderProperties(true, host, false, null, "127.0.0.1",
                null, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(1), java.util.List.of()));
        Path dir = Files.createTempDirectory("docker-it-key");
        key = dir.resolve("id_ed25519");
        Process keygen = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "docker-it", "-f",
                key.toString()).start();
        assertThat(keygen.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(keygen.exitValue()).isZero();
    }

    @AfterAll
    static void close() throws Exception {
        docker.close();
    }

    /** Whatever a failed run left behind goes, so that it cannot disturb the next run. */
    @AfterEach
    void removeLeftovers() {
        for (String id : workspaces) {
            List<String> filter = List.of("atelier-workspace-id=" + id);
            docker.listContainersCmd().withShowAll(true).withLabelFilter(filter).exec()
                    .forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).exec());
            var volumes = docker.listVolumesCmd().withFilter("label", filter).exec().getVolumes();
            if (volumes != null) {
                volumes.forEach(v -> docker.removeVolumeCmd(v.getName()).exec());
            }
            docker.listNetworksCmd().withFilter("label", filter).exec()
                    .forEach(n -> docker.removeNetworkCmd(n.getId()).exec());
        }
        workspaces.clear();
    }

    @Test
    void templateWithSidecarToSshableWorkspaceAndBackToNothing() throws Exception {
        ApiClient.Response invalid = admin.post("/api/v1/templates", template("docker-bad", Map.of(
                "image", TestInfra.SSHD_IMAGE, "memory", 256)));
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("detail").asText()).contains("unknown key 'memory' for provider docker");

        ApiClient.Response template = admin.post("/api/v1/templates", template("docker-dev", Map.of(
                "image", TestInfra.SSHD_IMAGE,
                "home", "/root",
                "ssh", Map.of("port", 22, "user", "root"),
                "memoryMb", 256, "cpus", 1, "pidsLimit", 200,
                "env", Map.of("TEAM_CHANNEL", "#dev"),
                "sidecars", List.of(Map.of("name", "cache", "image", TestInfra.BUSYBOX_IMAGE, "memoryMb", 32,
                        "command", List.of("sleep", "100000"))))));
        assertThat(template.status()).as(template.body()).isEqualTo(201);

        String publicKey = Files.readString(Path.of(key + ".pub")).trim();
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", "in-a-box",
                "templateId", template.json().get("id").asText(), "parameters", Map.of("ssh_public_key", publicKey)));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        workspaces.add(id);
        String main = "atelier-" + id;

        JsonNode running = awaitStatus(id, "RUNNING");
        assertThat(running.at("/connection/type").asText()).isEqualTo("docker");
        assertThat(running.at("/connection/container").asText()).isEqualTo(main);
        InspectContainerResponse c = docker.inspectContainerCmd(main).exec();
        assertThat(c.getState().getRunning()).isTrue();
        assertThat(c.getConfig().getLabels()).containsEntry("atelier-workspace-id", id).containsEntry("atelier-build", "1");
        assertThat(c.getHostConfig().getMemory()).isEqualTo(256L * 1024 * 1024);
        assertThat(docker.inspectContainerCmd(main + "-cache").exec().getState().getRunning()).isTrue();

        JsonNode connection = admin.get("/api/v1/workspaces/" + id + "/connection").json();
        assertThat(connection.get("sshUser").asText()).isEqualTo("root");
        assertThat(connection.get("sshConfig").asText()).contains("HostName 127.0.0.1")
                .contains("Port " + connection.get("sshPort").asText());
        // (an SSH login gets sshd's clean environment; the container's own is that of its first process)
        String seen = ssh(connection, "echo kept > /root/note.txt; printf '%s|' \"$(hostname)\"; "
                + "tr '\\0' '\\n' </proc/1/environ | grep -E '^(TEAM_CHANNEL|ATELIER_PARAM_SSH_PUBLIC_KEY)=' | sort | cut -c1-40; "
                + "getent hosts cache >/dev/null && echo sidecar-resolves");
        assertThat(seen).isEqualTo("workspace|ATELIER_PARAM_SSH_PUBLIC_KEY=ssh-ed25519\nTEAM_CHANNEL=#dev\n"
                + "sidecar-resolves\n");

        admin.post("/api/v1/workspaces/" + id + "/stop", Map.of());
        awaitStatus(id, "STOPPED");
        assertThat(docker.inspectContainerCmd(main).exec().getState().getRunning()).isFalse();
        assertThat(docker.inspectContainerCmd(main + "-cache").exec().getState().getRunning()).isFalse();

        admin.post("/api/v1/workspaces/" + id + "/start", Map.of());
        JsonNode restarted = awaitStatus(id, "RUNNING");
        assertThat(restarted.get("buildNumber").asLong()).isEqualTo(3);
        assertThat(docker.inspectContainerCmd(main).exec().getConfig().getLabels()).containsEntry("atelier-build", "3");
        JsonNode again = admin.get("/api/v1/workspaces/" + id + "/connection").json();
        assertThat(ssh(again, "cat /root/note.txt")).as("the home volume survives stop and start").isEqualTo("kept\n");

        assertThat(admin.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        awaitStatus(id, "DELETED");
        List<Container> left = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of("atelier-workspace-id", id)).exec();
        assertThat(left).isEmpty();
        assertThat(docker.listVolumesCmd().withFilter("label", List.of("atelier-workspace-id=" + id)).exec()
                .getVolumes()).isNullOrEmpty();
        assertThat(docker.listNetworksCmd().withFilter("label", List.of("atelier-workspace-id=" + id)).exec()).isEmpty();
    }

    private JsonNode awaitStatus(String id, String status) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            last.set(admin.get("/api/v1/workspaces/" + id).json());
            assertThat(last.get().path("status").asText()).as(last.get().toString()).isEqualTo(status);
        });
        return last.get();
    }

    private static Map<String, Object> template(String name, Map<String, Object> spec) {
        return Map.of("name", name, "provider", "docker", "spec", spec,
                "parameters", List.of(Map.of("name", "ssh_public_key", "type", "STRING", "required", true)),
                "pricing", Map.of("runningPerHour", "0.20", "stoppedPerHour", "0.02", "currency", "EUR"));
    }

    /** Logs in with the OpenSSH client (sshd may need a moment after the container counts as running). */
    private static String ssh(JsonNode connection, String command) {
        AtomicReference<String> out = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            Process p = new ProcessBuilder("ssh", "-i", key.toString(), "-p", connection.get("sshPort").asText(),
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
                    connection.get("sshUser").asText() + "@" + connection.get("sshHost").asText(), command).start();
            String stdout = new String(p.getInputStream().readAllBytes());
            String stderr = new String(p.getErrorStream().readAllBytes());
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(stderr).isZero();
            out.set(stdout);
        });
        return out.get();
    }
}
