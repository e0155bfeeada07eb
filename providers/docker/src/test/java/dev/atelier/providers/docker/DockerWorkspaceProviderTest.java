package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The docker provider against a real Docker Engine API: podman's, on a local socket, with images built locally by
 * deploy/test-infra/podman.sh. Every assertion is on what the daemon reports or what runs in the containers.
 */
class DockerWorkspaceProviderTest {

    private static DockerClient docker;
    private static DockerWorkspaceProvider provider;
    private final List<String> workspaces = new ArrayList<>();

    @BeforeAll
    static void daemon() {
        String host = TestInfra.podman();
        DockerProviderProperties properties = new DockerProviderProperties(true, host, false, null, "127.0.0.1", null,
                Duration.ofMillis(300), Duration.ofSeconds(1), Duration.ofSeconds(60), List.of());
        docker = DockerProviderConfiguration.client(properties);
        provider = new DockerWorkspaceProvider(DockerProviderConfiguration.client(properties), properties);
    }

    @AfterAll
    static void close() throws Exception {
        provider.close();
        docker.close();
    }

    @AfterEach
    void removeLeftovers() {
        for (String id : workspaces) {
            provider.delete(request(id, 99, Map.of("image", TestInfra.BUSYBOX_IMAGE)));
        }
    }

    @Test
    void aWorkspaceIsLabelledLimitedContainersWhoseVolumesSurviveStopAndStartAndAllGoOnDelete() throws Exception {
        String id = newWorkspace();
        Map<String, Object> spec = Map.of(
                "image", TestInfra.BUSYBOX_IMAGE,
                "command", List.of("/bin/sh", "-c", "echo \"$GREETING $ATELIER_PARAM_COLOUR\" >> /workspace/boots.txt; "
                        + "exec sleep 100000"),
                "env", Map.of("GREETING", "hello"),
                "cpus", 0.5, "memoryMb", 64, "pidsLimit", 50,
                "volumes", List.of(Map.of("name", "data", "mountPath", "/data")),
                "ports", List.of(8080),
                "sidecars", List.of(Map.of("name", "db", "image", TestInfra.BUSYBOX_IMAGE, "memoryMb", 32,
                        "command", List.of("/bin/sh", "-c", "mkdir -p /www && echo db-says-hi > /www/index.html && "
                                + "exec httpd -f -p 8080 -h /www"))));
        ProvisionRequest build1 = request(id, 1, spec);

        ProviderOperation started = untilDone(build1, provider.create(build1));
        String main = "atelier-" + id;
        assertThat(started.resourceId()).isEqualTo(main);
        assertThat(started.connection()).containsEntry("type", "docker").containsEntry("container", main)
                .containsKey("port.8080").containsEntry("network", "atelier-" + id);
        assertThat(started.connection().get("exec")).contains("exec -it " + main);

        InspectContainerResponse c = docker.inspectContainerCmd(main).exec();
        assertThat(c.getState().getRunning()).isTrue();
        assertThat(c.getConfig().getLabels()).containsEntry("atelier-workspace-id", id).containsEntry("atelier-build", "1");
        assertThat(c.getHostConfig().getMemory()).isEqualTo(64L * 1024 * 1024);
        assertThat(c.getHostConfig().getNanoCPUs()).isEqualTo(500_000_000L);
        assertThat(c.getHostConfig().getPidsLimit()).isEqualTo(50L);
        // ...and the kernel enforces them (cgroup v1 or v2 files, whichever the host has).
        assertThat(exec(main, "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null "
                + "|| cat /sys/fs/cgroup/memory/memory.limit_in_bytes").trim()).isEqualTo(Long.toString(64L * 1024 * 1024));
        assertThat(exec(main, "sh", "-c", "cat /sys/fs/cgroup/pids.max 2>/dev/null "
                + "|| cat /sys/fs/cgroup/pids/pids.max").trim()).isEqualTo("50");
        assertThat(exec(main, "cat", "/workspace/boots.txt")).isEqualTo("hello blue\n");

        // The sidecar is on the workspace's network under its name; the port is published on loopback.
        assertThat(exec(main, "wget", "-qO-", "http://db:8080/")).isEqualTo("db-says-hi\n");
        InspectContainerResponse db = docker.inspectContainerCmd(main + "-db").exec();
        assertThat(db.getConfig().getLabels()).containsEntry("atelier-workspace-id", id).containsEntry("atelier-build", "1")
                .containsEntry("atelier-sidecar", "db");
        assertThat(db.getHostConfig().getMemory()).isEqualTo(32L * 1024 * 1024);
        assertThat(started.connection().get("port.8080")).startsWith("127.0.0.1:");

        // The agent runs beside the workload; its token is in a file, not in the container's configuration.
        assertThat(exec(main, "ps", "-o", "args")).contains("/.atelier/agent.sh");
        assertThat(exec(main, "cat", "/.atelier/agent.env")).contains("ATELIER_AGENT_TOKEN='secret-token-1'");
        assertThat(String.join(" ", c.getConfig().getEnv())).doesNotContain("secret-token");

        assertThat(docker.inspectVolumeCmd(main + "-home").exec().getLabels()).containsEntry("atelier-workspace-id", id);
        assertThat(docker.inspectVolumeCmd(main + "-data").exec().getLabels()).containsEntry("atelier-build", "1");
        assertThat(docker.inspectNetworkCmd().withNetworkId(main).exec().getLabels()).containsEntry("atelier-workspace-id", id);
        assertThat(provider.inventory(Map.of("atelier-workspace-id", id))).extracting(ResourceDescription::resourceId)
                .containsExactlyInAnyOrder("container/" + main, "container/" + main + "-db", "volume/" + main + "-home",
                        "volume/" + main + "-data", "network/" + main);
        assertThat(provider.describe(build1).state()).isEqualTo(ResourceDescription.State.RUNNING);

        exec(main, "sh", "-c", "echo kept > /data/file.txt");
        ProvisionRequest stop = request(id, 2, spec);
        untilDone(stop, provider.stop(stop));
        assertThat(docker.inspectContainerCmd(main).exec().getState().getRunning()).isFalse();
        assertThat(docker.inspectContainerCmd(main + "-db").exec().getState().getRunning()).isFalse();
        assertThat(provider.describe(stop).state()).isEqualTo(ResourceDescription.State.STOPPED);

        ProvisionRequest build3 = request(id, 3, spec);
        untilDone(build3, provider.start(build3));
        InspectContainerResponse restarted = docker.inspectContainerCmd(main).exec();
        assertThat(restarted.getState().getRunning()).isTrue();
        assertThat(restarted.getConfig().getLabels()).containsEntry("atelier-build", "3");
        assertThat(exec(main, "cat", "/data/file.txt")).isEqualTo("kept\n");
        assertThat(exec(main, "cat", "/workspace/boots.txt")).isEqualTo("hello blue\nhello blue\n");

        ProvisionRequest delete = request(id, 4, spec);
        assertThat(provider.delete(delete).done()).isTrue();
        assertThat(provider.inventory(Map.of("atelier-workspace-id", id))).isEmpty();
        assertThatThrownBy(() -> docker.inspectContainerCmd(main).exec()).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> docker.inspectVolumeCmd(main + "-home").exec()).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> docker.inspectVolumeCmd(main + "-data").exec()).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> docker.inspectNetworkCmd().withNetworkId(main).exec()).isInstanceOf(NotFoundException.class);
        assertThat(provider.describe(delete).state()).isEqualTo(ResourceDescription.State.ABSENT);
        // Deleting what is gone succeeds.
        assertThat(provider.delete(delete).done()).isTrue();
    }

    @Test
    void aRetriedCreateFindsTheContainerOfTheFirstAttempt() {
        String id = newWorkspace();
        ProvisionRequest build1 = request(id, 1, Map.of("image", TestInfra.BUSYBOX_IMAGE,
                "command", List.of("sleep", "100000")));
        provider.create(build1);
        String first = docker.inspectContainerCmd("atelier-" + id).exec().getId();
        ProviderOperation retried = untilDone(build1, provider.create(build1));
        assertThat(docker.inspectContainerCmd("atelier-" + id).exec().getId()).isEqualTo(first);
        List<Container> all = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of("atelier-workspace-id", id)).exec();
        assertThat(all).hasSize(1);
        assertThat(retried.connection()).containsEntry("container", "atelier-" + id);
    }

    @Test
    void aContainerThatExitsFailsTheStartWithItsExitCodeAndOutput() {
        String id = newWorkspace();
        ProvisionRequest build1 = request(id, 1, Map.of("image", TestInfra.BUSYBOX_IMAGE,
                "command", List.of("/bin/sh", "-c", "echo missing config >&2; exit 3")));
        ProviderOperation op = provider.create(build1);
        assertThatThrownBy(() -> untilDone(build1, op))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("exit code 3").hasMessageContaining("missing config");
    }

    @Test
    void anImageThatCannotBePulledFailsTheStartWithTheDaemonsReason() {
        String id = newWorkspace();
        ProvisionRequest build1 = request(id, 1, Map.of("image", "localhost:1/atelier-test-missing:1"));
        ProviderOperation op = provider.create(build1);
        assertThat(op.done()).isFalse();
        assertThat(OperationId.parse("docker", op.operationId()).kind()).isEqualTo("pull");
        assertThatThrownBy(() -> untilDone(build1, op))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("could not pull image localhost:1/atelier-test-missing:1");
    }

    @Test
    void stopKillsAWorkloadThatIgnoresSigtermAfterTheGracePeriod() {
        String id = newWorkspace();
        Map<String, Object> spec = Map.of("image", TestInfra.BUSYBOX_IMAGE,
                "command", List.of("/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"));
        untilDone(request(id, 1, spec), provider.create(request(id, 1, spec)));
        Instant before = Instant.now();
        ProviderOperation stopping = provider.stop(request(id, 2, spec));
        assertThat(stopping.done()).isFalse();
        untilDone(request(id, 2, spec), stopping);
        assertThat(Duration.between(before, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(docker.inspectContainerCmd("atelier-" + id).exec().getState().getRunning()).isFalse();
    }

    @Test
    void operationIdsStoredBeforeOperationIdExistedAreStillPolled() {
        // A transition saga in flight across the upgrade polls with the id it stored then: <kind>:<key>[:<millis>].
        String id = newWorkspace();
        Map<String, Object> spec = Map.of("image", TestInfra.BUSYBOX_IMAGE,
                "command", List.of("/bin/sh", "-c", "exec sleep 100000"));
        ProvisionRequest build1 = request(id, 1, spec);
        ProviderOperation launched = provider.poll(build1, "pull:" + build1.idempotencyKey());
        assertThat(OperationId.parse("docker", launched.operationId()).kind()).as("images there: launched").isEqualTo("start");
        long longAgo = Instant.now().minusSeconds(60).toEpochMilli();
        ProviderOperation running = provider.poll(build1, "start:" + build1.idempotencyKey() + ":" + longAgo);
        assertThat(running.done()).isTrue();
        assertThat(running.connection()).containsEntry("container", "atelier-" + id);

        ProvisionRequest build2 = request(id, 2, spec);
        provider.stop(build2);
        String oldStop = "stop:" + build2.idempotencyKey() + ":" + Instant.now().plusSeconds(30).toEpochMilli();
        ProviderOperation stopped = untilDone(build2, provider.poll(build2, oldStop));
        assertThat(stopped.done()).isTrue();
        assertThat(docker.inspectContainerCmd("atelier-" + id).exec().getState().getRunning()).isFalse();
        assertThatThrownBy(() -> provider.poll(build2, "await:RUNNING")).isInstanceOf(ProviderException.class)
                .hasMessageContaining("unknown docker operation");
    }

    private String newWorkspace() {
        String id = UUID.randomUUID().toString();
        workspaces.add(id);
        return id;
    }

    private static ProvisionRequest request(String id, long build, Map<String, Object> spec) {
        WorkspaceAgent agent = new WorkspaceAgent("while :; do sleep 30; done\n", Map.of(
                "ATELIER_URL", "http://127.0.0.1:1", "ATELIER_WORKSPACE_ID", id,
                "ATELIER_AGENT_TOKEN", "secret-token-" + build));
        return new ProvisionRequest(id, build, "alice", null, spec, Map.of("colour", "blue"),
                Map.of("atelier-workspace-id", id, "atelier-build", Long.toString(build)), agent);
    }

    /** Polls like the engine does until the operation is done (or throws what the provider throws). */
    private static ProviderOperation untilDone(ProvisionRequest request, ProviderOperation op) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!op.done()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("operation " + op.operationId() + " did not finish");
            }
            sleep(op.pollAfter());
            op = provider.poll(request, op.operationId());
        }
        return op;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(50, d == null ? 200 : d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs a command in a container and returns its standard output. */
    static String exec(String container, String... command) {
        String execId = docker.execCreateCmd(container).withCmd(command).withAttachStdout(true).withAttachStderr(true)
                .exec().getId();
        StringBuilder out = new StringBuilder();
        try {
            docker.execStartCmd(execId).exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    if (frame.getStreamType() == com.github.dockerjava.api.model.StreamType.STDOUT
                            || frame.getStreamType() == com.github.dockerjava.api.model.StreamType.RAW) {
                        out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                    }
                }
            }).awaitCompletion(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString();
    }
}
