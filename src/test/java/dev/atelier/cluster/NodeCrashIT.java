package dev.atelier.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.atelier.AtelierApplication;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineTestSupport;
import dev.atelier.support.TestDatabase;
import dev.atelier.support.TestInfra;
import org.axonframework.eventhandling.Segment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import reactor.core.Disposable;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two engines in two JVMs of their own on one PostgreSQL, with docker workspaces on podman: what a deployment of
 * several nodes promises when a node dies without a word (SIGKILL: no shutdown hook, no released claim).
 *
 * <ol>
 *   <li>A workspace created through node A is watched on node B, and its idle deadline stops it exactly once.</li>
 *   <li>The node that holds a workspace's transition saga is killed while the start is in the middle (the container
 *   exists, the saga waits for the docker provider's readiness delay): the other node finishes the start, the
 *   back end has exactly one container for the workspace, and its events are contiguous with one start, one
 *   success.</li>
 * </ol>
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class NodeCrashIT {

    private static final String SAGA_PROCESSOR = "WorkspaceTransitionSagaProcessor";
    private static final String PACKAGE = "dev.atelier.domain.workspace.";
    /** Long enough to kill a node in the middle of a start; the saga waits on a persistent deadline meanwhile. */
    private static final String READINESS_DELAY = "PT8S";

    private static TestDatabase.Database db;
    private static JdbcTemplate jdbc;
    private static DockerClient docker;
    private static final Map<String, Node> nodes = new LinkedHashMap<>();

    /** One engine JVM. */
    record Node(String id, Process process, int port, Path log, Path dataDir) {
        ApiClient api() {
            return new ApiClient("http://localhost:" + port, EngineTestSupport.ADMIN_TOKEN);
        }
    }

    @BeforeAll
    static void startNodes() throws Exception {
        String dockerHost = TestInfra.podman();
        docker = DockerClientImpl.getInstance(DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(dockerHost).build(), new ApacheDockerHttpClient.Builder()
                .dockerHost(URI.create(dockerHost)).build());
        db = TestDatabase.create();
        DriverManagerDataSource dataSource = new DriverManagerDataSource(db.url(), db.user(), db.password());
        jdbc = new JdbcTemplate(dataSource);
        // Both at once: two cold starts on two cores.
        for (String id : List.of("node-a", "node-b")) {
            nodes.put(id, launch(id));
        }
        for (Node node : nodes.values()) {
            // Generous: a cold start takes ~10 s on an idle machine, far longer on a loaded CI runner.
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(node.process().isAlive()).as("%s exited; log %s:%n%s", node.id(), node.log(),
                        tail(node.log())).isTrue();
                return healthy(node);
            });
        }
    }

    @AfterAll
    static void stopNodes() throws Exception {
        for (Node node : nodes.values()) {
            node.process().destroy();
        }
        for (Node node : nodes.values()) {
            if (!node.process().waitFor(20, TimeUnit.SECONDS)) {
                node.process().destroyForcibly();
            }
        }
        if (docker != null) {
            docker.close();
        }
    }

    @Test
    void anIdleStopFiresOnceAndAStartSurvivesTheDeathOfTheNodeThatCarriesItOut() throws Exception {
        Node a = nodes.get("node-a");
        Node b = nodes.get("node-b");
        String idleTemplate = template(a.api(), "crash-idle", Map.of("idleTimeout", "PT4S"));
        String plainTemplate = template(a.api(), "crash-plain", null);

        // 1. Created through A, watched on B, stopped by its idle deadline once (either node may run the deadline).
        List<ServerSentEvent<JsonNode>> onB = new CopyOnWriteArrayList<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        Disposable watch = b.api().watch("/api/v1/workspaces/watch", subscribed).subscribe(onB::add);
        String idle;
        try {
            assertThat(subscribed.await(10, TimeUnit.SECONDS)).isTrue();
            idle = create(a.api(), "idle", idleTemplate);
            awaitOrExplain(idle, () -> statuses(onB, idle).contains("STOPPED"));
        } finally {
            watch.dispose();
        }
        assertThat(statuses(onB, idle)).contains("RUNNING").endsWith("STOPPED");
        assertThat(b.api().get("/api/v1/workspaces/" + idle).json().at("/lastTransition/reason").asText())
                .isEqualTo("IDLE");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM domainevententry WHERE aggregateidentifier = ? "
                        + "AND payloadtype = ? AND convert_from(payload, 'UTF8')::jsonb ->> 'reason' = 'IDLE'",
                Integer.class, idle, PACKAGE + "WorkspaceTransitionStartedEvent")).as("idle stops").isEqualTo(1);
        assertContiguous(idle);

        // 2. A start, interrupted by SIGKILL of the node whose saga segment holds it.
        String crashed = create(a.api(), "crashed", plainTemplate);
        // The container exists and the saga step that made it has committed (the saga is stored with its poll
        // deadline): the start now waits for the readiness delay.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> containers(crashed) == 1 && sagas(crashed) == 1);
        Node holder = nodes.get(sagaHolder(crashed));
        Node survivor = holder == a ? b : a;
        assertThat(survivor.api().get("/api/v1/workspaces/" + crashed).json().path("status").asText())
                .as("still in the middle of the start").isIn("PENDING", "STARTING");
        long pid = holder.process().pid();
        holder.process().destroyForcibly();
        assertThat(holder.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ProcessHandle.of(pid)).as("node %s (pid %d) is gone", holder.id(), pid).isEmpty();
        assertThat(holder.process().exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);

        // The survivor runs the saga's poll deadline, records the success, and (once the dead node's claims have
        // expired) takes over its segments: the saga ends and the view shows RUNNING.
        awaitOrExplain(crashed, () -> "RUNNING".equals(
                survivor.api().get("/api/v1/workspaces/" + crashed).json().path("status").asText()));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> sagas(crashed) == 0);
        assertThat(containers(crashed)).as("containers labelled with the workspace").isEqualTo(1);
        assertContiguous(crashed);
        assertThat(payloadTypes(crashed)).containsExactly("WorkspaceCreatedEvent", "WorkspaceTransitionStartedEvent",
                "WorkspaceTransitionSucceededEvent");
        assertThat(owners(SAGA_PROCESSOR)).containsOnly(survivor.id());

        // Cleaned up through the survivor: the container goes.
        assertThat(survivor.api().delete("/api/v1/workspaces/" + crashed).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> containers(crashed) == 0);
        assertThat(survivor.api().delete("/api/v1/workspaces/" + idle).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> containers(idle) == 0);
    }

    /** The node owning the saga processor's segment that the workspace's saga belongs to. */
    private static String sagaHolder(String workspaceId) {
        String sagaId = jdbc.queryForObject("SELECT sagaid FROM associationvalueentry WHERE associationkey = "
                + "'workspaceId' AND associationvalue = ?", String.class, workspaceId);
        Map<Integer, String> owners = new HashMap<>();
        jdbc.query("SELECT segment, owner FROM tokenentry WHERE processorname = ?",
                rs -> {
                    owners.put(rs.getInt("segment"), rs.getString("owner"));
                }, SAGA_PROCESSOR);
        for (Segment segment : Segment.computeSegments(owners.keySet().stream().mapToInt(Integer::intValue).toArray())) {
            if (segment.matches(sagaId)) {
                String owner = owners.get(segment.getSegmentId());
                assertThat(owner).as("segment %s of saga %s is claimed", segment, sagaId).isIn(nodes.keySet());
                return owner;
            }
        }
        throw new AssertionError("no segment of " + SAGA_PROCESSOR + " matches saga " + sagaId);
    }

    /** Waits up to a minute; on time-out says what the store, the view and the claims show, and the nodes' logs. */
    private static void awaitOrExplain(String workspaceId, java.util.concurrent.Callable<Boolean> condition) {
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            StringBuilder why = new StringBuilder("workspace " + workspaceId + ": events " + payloadTypes(workspaceId)
                    + ", view " + jdbc.queryForList("SELECT status, build_number FROM workspace_view WHERE id = ?",
                    workspaceId) + ", claims " + jdbc.queryForList("SELECT processorname, segment, owner FROM "
                    + "tokenentry ORDER BY 1, 2") + ", tasks " + jdbc.queryForList("SELECT task_name, "
                    + "execution_time, picked, picked_by, consecutive_failures FROM scheduled_tasks"));
            for (Node node : nodes.values()) {
                why.append(System.lineSeparator()).append("--- ").append(node.id()).append(System.lineSeparator())
                        .append(tail(node.log()));
            }
            throw new AssertionError(why.toString(), e);
        }
    }

    private static int sagas(String workspaceId) {
        return jdbc.queryForObject("SELECT count(*) FROM associationvalueentry WHERE associationkey = 'workspaceId' "
                + "AND associationvalue = ?", Integer.class, workspaceId);
    }

    private static List<String> owners(String processor) {
        return jdbc.queryForList("SELECT DISTINCT COALESCE(owner, '-') FROM tokenentry WHERE processorname = ?",
                String.class, processor);
    }

    /** Sequence numbers 0..n-1, none missing, none twice (the store's unique key forbids the latter anyway). */
    private static void assertContiguous(String workspaceId) {
        List<Long> sequence = jdbc.queryForList("SELECT sequencenumber FROM domainevententry "
                + "WHERE aggregateidentifier = ? ORDER BY sequencenumber", Long.class, workspaceId);
        List<Long> expected = new ArrayList<>();
        for (long i = 0; i < sequence.size(); i++) {
            expected.add(i);
        }
        assertThat(sequence).isNotEmpty().isEqualTo(expected);
    }

    private static List<String> payloadTypes(String workspaceId) {
        return jdbc.queryForList("SELECT payloadtype FROM domainevententry WHERE aggregateidentifier = ? "
                        + "ORDER BY sequencenumber", String.class, workspaceId).stream()
                .map(t -> t.substring(t.lastIndexOf('.') + 1)).toList();
    }

    private static int containers(String workspaceId) {
        return docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of("atelier-workspace-id=" + workspaceId)).exec().size();
    }

    private static String template(ApiClient api, String name, Map<String, Object> policy) {
        Map<String, Object> body = new HashMap<>(Map.of("name", name, "provider", "docker",
                "spec", Map.of("image", TestInfra.BUSYBOX_IMAGE, "command", List.of("sleep", "100000")),
                "pricing", Map.of("runningPerHour", "0.10", "stoppedPerHour", "0.01", "currency", "EUR")));
        if (policy != null) {
            body.put("policy", policy);
        }
        ApiClient.Response created = api.post("/api/v1/templates", body);
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        return created.json().get("id").asText();
    }

    private static String create(ApiClient api, String name, String templateId) {
        ApiClient.Response created = api.post("/api/v1/workspaces", Map.of("name", name, "templateId", templateId));
        assertThat(created.status()).as("%s", created).isEqualTo(202);
        return created.json().get("id").asText();
    }

    private static List<String> statuses(List<ServerSentEvent<JsonNode>> pushed, String id) {
        return pushed.stream().map(ServerSentEvent::data).filter(d -> id.equals(d.path("id").asText()))
                .map(d -> d.path("status").asText()).toList();
    }

    /** An engine JVM as operators start one: {@code java -cp ... AtelierApplication --property=value ...}. */
    private static Node launch(String id) throws IOException {
        Path dataDir = EngineTestSupport.tempDataDir();
        int port = freePort();
        Map<String, Object> props = new LinkedHashMap<>(EngineTestSupport.properties(db, dataDir));
        props.put("atelier.node-id", id);
        props.put("server.port", port);
        props.put("atelier.providers.docker.readiness-delay", READINESS_DELAY);
        props.put("spring.jmx.enabled", "false");
        props.put("logging.level.root", "WARN");
        props.put("logging.level.dev.atelier", "INFO");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx384m", "-XX:TieredStopAtLevel=1", "-Ddisable-axoniq-console-message=true",
                "-cp", classpath(), AtelierApplication.class.getName()));
        command.addAll(List.of(EngineTestSupport.arguments(props)));
        Path log = Files.createTempFile("atelier-" + id + "-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        process.getOutputStream().close();
        return new Node(id, process, port, log, dataDir);
    }

    /** The test classpath (Surefire's, when its booter jar stands in for it). */
    private static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static boolean healthy(Node node) {
        try {
            return node.api().get("/actuator/health").status() == 200;
        } catch (RuntimeException notListeningYet) {
            return false;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
