package dev.atelier.providers.ssh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import dev.atelier.provider.WorkspaceAgent;
import dev.atelier.support.ApiClient;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The ssh provider against a real OpenSSH server on loopback (deploy/test-infra/sshd.sh) acting as a bare-metal
 * host: the engine logs in as a Unix user with its own key, and checks the host key against the registered
 * fingerprint. Processes and files are asserted where they really are: in /proc and in the user's home.
 */
class SshProviderIT extends EngineIntegrationTest {

    private static TestInfra.SshHost sshd;
    private static Path home;

    @Autowired
    SshWorkspaceProvider provider;
    @Autowired
    SshHostRegistry registry;
    private final List<String> workspaces = new java.util.ArrayList<>();

    /** Whatever a failed run left on the host (processes, directories) goes. */
    @org.junit.jupiter.api.AfterEach
    void removeLeftovers() {
        for (String id : workspaces) {
            try {
                provider.delete(request(id, 99, Map.of(), Map.of()));
            } catch (ProviderException e) {
                // a host that refuses us (wrong key) holds nothing of the workspace
            }
        }
        workspaces.clear();
    }

    @BeforeAll
    static void host() throws Exception {
        sshd = TestInfra.sshd();
        Process p = new ProcessBuilder("getent", "passwd", sshd.user()).start();
        String entry = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor(5, TimeUnit.SECONDS);
        home = Path.of(entry.split(":")[5]);
    }

    @Test
    void hostsAreManagedByOwnersOnlyAndNeedAKnownHostKey() {
        ApiClient member = clientFor("mallory", "member");
        ApiClient.Response refused = member.post("/api/v1/hosts", host("h-" + suffix(), sshd.fingerprint(), 1, Map.of()));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.json().get("detail").asText()).contains("role owner");
        assertThat(member.get("/api/v1/hosts").status()).isEqualTo(403);

        Map<String, Object> noFingerprint = host("h-" + suffix(), null, 1, Map.of());
        ApiClient.Response missing = admin.post("/api/v1/hosts", noFingerprint);
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.json().get("detail").asText()).contains("hostKeyFingerprint: required")
                .contains("never trusted on first use");
        Map<String, Object> badKey = host("h-" + suffix(), sshd.fingerprint(), 1, Map.of());
        badKey.put("keyRef", "no-such-key");
        assertThat(admin.post("/api/v1/hosts", badKey).json().get("detail").asText())
                .contains("keyRef 'no-such-key': no readable key file");
        Map<String, Object> unknownField = host("h-" + suffix(), sshd.fingerprint(), 1, Map.of());
        unknownField.put("password", "hunter2");
        assertThat(admin.post("/api/v1/hosts", unknownField).json().get("detail").asText())
                .contains("unknown field 'password'");

        String name = "h-" + suffix();
        ApiClient.Response created = admin.post("/api/v1/hosts", host(name, sshd.fingerprint(), 3, Map.of("zone", "a")));
        assertThat(created.status()).isEqualTo(201);
        JsonNode h = created.json();
        String id = h.get("id").asText();
        assertThat(h.get("used").asInt()).isZero();
        assertThat(h.get("capacity").asInt()).isEqualTo(3);
        assertThat(h.get("directory").asText()).isEqualTo("atelier-workspaces");
        assertThat(admin.post("/api/v1/hosts", host(name, sshd.fingerprint(), 1, Map.of())).status()).isEqualTo(409);
        assertThat(admin.get("/api/v1/hosts").json().get("hosts").findValuesAsText("name")).contains(name);

        ApiClient.Response check = admin.post("/api/v1/hosts/" + id + "/check", Map.of());
        assertThat(check.json().get("ok").asBoolean()).as(check.body()).isTrue();
        assertThat(check.json().get("detail").asText()).contains("Linux").contains("host key and login OK");

        Map<String, Object> changed = host(name, sshd.fingerprint(), 5, Map.of("zone", "b"));
        ApiClient.Response updated = admin.exchange("PUT", "/api/v1/hosts/" + id, changed);
        assertThat(updated.status()).isEqualTo(200);
        assertThat(updated.json().get("capacity").asInt()).isEqualTo(5);
        assertThat(updated.json().at("/labels/zone").asText()).isEqualTo("b");

        assertThat(admin.delete("/api/v1/hosts/" + id).status()).isEqualTo(204);
        ApiClient.Response gone = admin.get("/api/v1/hosts/" + id);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().get("detail").asText()).isEqualTo("no SSH host with id '" + id + "'");
    }

    @Test
    void aWorkspaceIsADirectoryAndAProcessTreeThatStopEndsAndDeleteRemoves() throws Exception {
        String pool = suffix();
        String hostId = register("h-" + pool, sshd.fingerprint(), 2, Map.of("pool", pool));
        String id = track(UUID.randomUUID().toString());
        Path pwned = Path.of("/tmp/atelier-pwned-" + pool);
        // Parameter and env values full of shell syntax: they must arrive as plain data.
        String motto = "$(touch " + pwned + "); `touch " + pwned + "` 'single' \"double\" \\ ; | & \n second line";
        Map<String, Object> spec = Map.of("hostSelector", Map.of("pool", pool),
                "env", Map.of("GREETING", "it's $HOME; $(id)"),
                "startupScript", """
                        printf '%s' "$ATELIER_PARAM_MOTTO" > motto.txt
                        printf '%s' "$GREETING" > greeting.txt
                        echo "$ATELIER_BUILD $HOME" >> builds.txt
                        sleep 100000 &
                        echo $! > child.pid
                        wait
                        """);

        ProviderOperation created = untilDone(request(id, 1, spec, Map.of("motto", motto)),
                provider.create(request(id, 1, spec, Map.of("motto", motto))));
        Path dir = home.resolve("atelier-workspaces").resolve(id);
        assertThat(created.resourceId()).isEqualTo("h-" + pool + ":atelier-workspaces/" + id);
        assertThat(created.connection()).containsEntry("type", "ssh").containsEntry("sshHost", "127.0.0.1")
                .containsEntry("sshPort", Integer.toString(sshd.port())).containsEntry("sshUser", sshd.user())
                .containsEntry("directory", "~/atelier-workspaces/" + id);
        assertThat(Files.readString(dir.resolve("motto.txt"))).isEqualTo(motto);
        assertThat(Files.readString(dir.resolve("greeting.txt"))).isEqualTo("it's $HOME; $(id)");
        assertThat(Files.readString(dir.resolve("builds.txt"))).isEqualTo("1 " + dir + "\n");
        assertThat(pwned).doesNotExist();
        Path meta = state(id);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(meta.resolve("env"))))
                .isEqualTo("rw-------");
        assertThat(Files.readString(meta.resolve("agent.env"))).contains("ATELIER_AGENT_TOKEN='agent-secret'");
        assertThat(dir.resolve(".atelier")).as("engine files in the workspace directory").doesNotExist();
        assertThat(created.connection()).containsEntry("sandbox", "pidns")
                .containsEntry("log", "~/atelier-workspaces/.atelier/" + id + "/startup.log");

        long leader = leaderPid(dir);
        // child.pid holds the child's pid inside the workspace's pid namespace; find it on the host.
        long child = hostPid(Long.parseLong(Files.readString(dir.resolve("child.pid")).trim()), leader);
        assertThat(ProcessHandle.of(leader)).isPresent();
        assertThat(ProcessHandle.of(child)).isPresent();
        assertThat(sessionOf(leader)).as("the workspace's holder leads its own session (setsid)").isEqualTo(leader);
        assertThat(sessionOf(child)).isEqualTo(leader);
        assertThat(namespaceOf(child)).as("the workspace's own pid namespace").isNotEqualTo(namespaceOf(leader));
        assertThat(ProcessHandle.of(leader).get().info().user()).contains(sshd.user());
        assertThat(provider.describe(request(id, 1, spec, Map.of())).state()).isEqualTo(ResourceDescription.State.RUNNING);
        assertThat(registry.usage()).containsEntry(hostId, 1);

        // A retried create of the same build finds the running process instead of starting a second one.
        provider.create(request(id, 1, spec, Map.of("motto", motto)));
        assertThat(leaderPid(dir)).isEqualTo(leader);

        untilDone(request(id, 2, spec, Map.of()), provider.stop(request(id, 2, spec, Map.of())));
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(leader).isEmpty()
                && ProcessHandle.of(child).isEmpty());
        assertThat(dir.resolve("motto.txt")).exists();
        assertThat(provider.describe(request(id, 2, spec, Map.of())).state()).isEqualTo(ResourceDescription.State.STOPPED);

        untilDone(request(id, 3, spec, Map.of("motto", "again")), provider.start(request(id, 3, spec,
                Map.of("motto", "again"))));
        long restarted = leaderPid(dir);
        assertThat(restarted).isNotEqualTo(leader);
        assertThat(ProcessHandle.of(restarted)).isPresent();
        assertThat(Files.readString(dir.resolve("builds.txt"))).isEqualTo("1 " + dir + "\n3 " + dir + "\n");
        assertThat(Files.readString(dir.resolve("motto.txt"))).isEqualTo("again");
        assertThat(provider.inventory(Map.of("atelier-workspace-id", id))).singleElement()
                .satisfies(r -> assertThat(r.labels()).containsEntry("atelier-build", "3"));

        assertThat(provider.delete(request(id, 4, spec, Map.of())).done()).isTrue();
        assertThat(dir).doesNotExist();
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(restarted).isEmpty());
        assertThat(registry.placement(id)).isEmpty();
        assertThat(registry.usage()).doesNotContainKey(hostId);
        assertThat(provider.delete(request(id, 5, spec, Map.of())).done()).isTrue();
    }

    @Test
    void aWorkspaceThatTampersWithRecordsLinksAndSessionsIsStillEndedAndTouchesNoHostFile() throws Exception {
        String pool = suffix();
        register("h-" + pool, sshd.fingerprint(), 1, Map.of("pool", pool));
        String id = track(UUID.randomUUID().toString());
        // A file of the host user's that the engine's scripts could be made to write or read through a link.
        Path hostFile = home.resolve("host-file-" + pool + ".txt");
        String secret = "host-secret-" + UUID.randomUUID();
        Files.writeString(hostFile, secret + "\n");
        new ProcessBuilder("chown", sshd.user(), hostFile.toString()).start().waitFor(5, TimeUnit.SECONDS);
        long marker = 8_000_000 + new java.util.Random().nextInt(1_000_000);
        Map<String, Object> spec = Map.of("hostSelector", Map.of("pool", pool),
                "env", Map.of("HOST_FILE", hostFile.toString(), "STATE", state(id).toString(), "MARKER", Long.toString(marker)),
                "startupScript", """
                        mkdir -p .atelier
                        for f in pid control.sh startup.log labels exit build; do ln -sf "$HOST_FILE" ".atelier/$f"; done
                        for f in pid startup.log labels exit build stopped control.sh; do
                          rm -f "$STATE/$f"; ln -sf "$HOST_FILE" "$STATE/$f"; echo forged > "$STATE/$f"
                        done 2> tamper.txt
                        ls "$STATE" > state-view.txt 2>&1
                        setsid sleep $MARKER &
                        ( setsid sh -c "sleep $((MARKER + 1))" & )
                        echo started > started.txt
                        exec sleep 100000
                        """);
        untilDone(request(id, 1, spec, Map.of()), provider.create(request(id, 1, spec, Map.of())));
        Path dir = home.resolve("atelier-workspaces").resolve(id);
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("started.txt")));
        await().atMost(Duration.ofSeconds(10)).until(() -> processes("sleep " + marker).size()
                + processes("sleep " + (marker + 1)).size() == 2);
        List<Long> escaped = new java.util.ArrayList<>(processes("sleep " + marker));
        escaped.addAll(processes("sleep " + (marker + 1)));
        long holder = leaderPid(dir);
        assertThat(escaped).allMatch(pid -> sessionOrMinus(pid) != holder, "left the workspace's session");
        assertThat(Files.readString(dir.resolve("state-view.txt"))).as("the engine's state, seen from inside")
                .contains("Permission denied");

        untilDone(request(id, 2, spec, Map.of()), provider.stop(request(id, 2, spec, Map.of())));
        await().atMost(Duration.ofSeconds(5)).until(() -> escaped.stream().allMatch(p -> ProcessHandle.of(p).isEmpty()));
        assertThat(processes("sleep " + marker)).isEmpty();
        assertThat(hostFile).hasContent(secret + "\n");
        try (var files = Files.walk(state(id))) {
            assertThat(files.filter(Files::isSymbolicLink)).as("links in the engine's state").isEmpty();
        }

        // Started again with a script that fails: the error carries its own output, nothing the links point at.
        Map<String, Object> failing = Map.of("hostSelector", Map.of("pool", pool), "startupScript", "echo boom; exit 3");
        ProviderOperation op = provider.start(request(id, 3, failing, Map.of()));
        assertThatThrownBy(() -> untilDone(request(id, 3, failing, Map.of()), op))
                .hasMessageContaining("exited with code 3").hasMessageContaining("boom").hasMessageNotContaining(secret);
        assertThat(hostFile).hasContent(secret + "\n");
        assertThat(provider.delete(request(id, 4, failing, Map.of())).done()).isTrue();
        assertThat(hostFile).as("delete removes links, never what they point at").hasContent(secret + "\n");
        assertThat(dir).doesNotExist();
        assertThat(state(id)).doesNotExist();
        Files.delete(hostFile);
    }

    @Test
    void aHostThatPresentsAnotherHostKeyIsRefused() {
        String pool = suffix();
        String wrong = "SHA256:" + "A".repeat(42) + "E";
        String hostId = register("h-" + pool, wrong, 2, Map.of("pool", pool));
        String id = track(UUID.randomUUID().toString());
        ProvisionRequest request = request(id, 1, Map.of("hostSelector", Map.of("pool", pool)), Map.of());
        assertThatThrownBy(() -> provider.create(request))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("host key verification failed for h-" + pool)
                .hasMessageContaining("it presented " + sshd.fingerprint())
                .hasMessageContaining("registered fingerprint is " + wrong);
        assertThat(home.resolve("atelier-workspaces").resolve(id)).doesNotExist();
        assertThat(registry.placement(id)).as("nothing was made, so the slot is free again").isEmpty();
        JsonNode check = admin.post("/api/v1/hosts/" + hostId + "/check", Map.of()).json();
        assertThat(check.get("ok").asBoolean()).isFalse();
        assertThat(check.get("detail").asText()).contains("host key verification failed");
    }

    @Test
    void aWorkspaceFindsNoPlaceOnAFullHostOrWhenNoHostMatches() {
        String pool = suffix();
        register("h-" + pool, sshd.fingerprint(), 1, Map.of("pool", pool));
        Map<String, Object> spec = Map.of("hostSelector", Map.of("pool", pool));
        String first = track(UUID.randomUUID().toString());
        untilDone(request(first, 1, spec, Map.of()), provider.create(request(first, 1, spec, Map.of())));

        String second = track(UUID.randomUUID().toString());
        assertThatThrownBy(() -> provider.create(request(second, 1, spec, Map.of())))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessage("no SSH host has free capacity: hosts with labels {pool=" + pool + "} are full (h-" + pool
                        + " 1/1 workspaces); delete workspaces there, raise a host's capacity (PUT /api/v1/hosts/{id}) "
                        + "or register another host");
        assertThat(home.resolve("atelier-workspaces").resolve(second)).doesNotExist();

        assertThatThrownBy(() -> provider.create(request(second, 1, Map.of("hostSelector", Map.of("pool", "nowhere-"
                + pool)), Map.of())))
                .hasMessageStartingWith("no registered SSH host matches: the template asks for hosts with labels "
                        + "{pool=nowhere-" + pool + "}");
        provider.delete(request(first, 2, spec, Map.of()));
    }

    @Test
    void operationIdsStoredBeforeOperationIdExistedAreStillPolled() throws Exception {
        String pool = suffix();
        register("h-" + pool, sshd.fingerprint(), 1, Map.of("pool", pool));
        Map<String, Object> spec = Map.of("hostSelector", Map.of("pool", pool), "startupScript", "exec sleep 100000");
        String id = track(UUID.randomUUID().toString());
        ProvisionRequest start = request(id, 1, spec, Map.of());
        ProviderOperation created = provider.create(start);
        OperationId written = OperationId.parse("ssh", created.operationId());
        assertThat(written.kind()).isEqualTo("start");
        assertThat(written.key()).isEqualTo(start.idempotencyKey());

        // What a saga of an older release stored: start:<key>:<epoch millis of the launch>.
        String legacyStart = "start:" + start.idempotencyKey() + ":" + written.requireAt().toEpochMilli();
        ProviderOperation ready = untilDone(start,
                ProviderOperation.inProgress(created.resourceId(), legacyStart, Duration.ofMillis(200)));
        assertThat(ready.connection()).containsEntry("type", "ssh");
        long leader = leaderPid(home.resolve("atelier-workspaces").resolve(id));
        assertThat(ProcessHandle.of(leader)).isPresent();
        assertThatThrownBy(() -> provider.poll(start, "dance:" + start.idempotencyKey() + ":1"))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("unknown ssh operation");
        assertThat(ProcessHandle.of(leader)).as("a refused poll leaves the workspace alone").isPresent();

        // stop:<key>:<epoch millis of the kill deadline>; a deadline that is over kills what is left.
        ProvisionRequest stop = request(id, 2, spec, Map.of());
        provider.stop(stop);
        ProviderOperation stopped = provider.poll(stop, "stop:" + stop.idempotencyKey() + ":"
                + (System.currentTimeMillis() - 1000));
        assertThat(stopped.done()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(leader).isEmpty());
    }

    @Test
    void aFailingStartupScriptFailsTheStartWithItsExitCodeAndOutput() {
        String pool = suffix();
        register("h-" + pool, sshd.fingerprint(), 1, Map.of("pool", pool));
        Map<String, Object> spec = Map.of("hostSelector", Map.of("pool", pool),
                "startupScript", "echo 'cannot find the repository' >&2; exit 4");
        String id = track(UUID.randomUUID().toString());
        ProviderOperation op = provider.create(request(id, 1, spec, Map.of()));
        assertThatThrownBy(() -> untilDone(request(id, 1, spec, Map.of()), op))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("exited with code 4").hasMessageContaining("cannot find the repository");
        provider.delete(request(id, 2, spec, Map.of()));
        assertThat(home.resolve("atelier-workspaces").resolve(id)).doesNotExist();
    }

    @Test
    void templateToRunningWorkspaceOverTheApiAndBackToNothing() throws Exception {
        String pool = suffix();
        register("h-" + pool, sshd.fingerprint(), 2, Map.of("pool", pool));

        ApiClient.Response invalid = admin.post("/api/v1/templates", template("bad-" + pool,
                Map.of("hostSelecter", Map.of("pool", pool))));
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("detail").asText()).contains("unknown key 'hostSelecter' for provider ssh "
                + "(known: startupScript, hostSelector, env)");

        ApiClient.Response template = admin.post("/api/v1/templates", template("bare-" + pool, Map.of(
                "hostSelector", Map.of("pool", pool),
                "startupScript", "printf '%s\\n' \"hello $ATELIER_PARAM_WHO\" > hello.txt; exec sleep 100000")));
        assertThat(template.status()).as(template.body()).isEqualTo(201);
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", "bare-" + pool,
                "templateId", template.json().get("id").asText(), "parameters", Map.of("who", "bare metal")));
        assertThat(created.status()).isEqualTo(202);
        String id = track(created.json().get("id").asText());
        JsonNode running = admin.awaitStatus(id, "RUNNING");
        assertThat(running.at("/connection/type").asText()).isEqualTo("ssh");

        JsonNode connection = admin.get("/api/v1/workspaces/" + id + "/connection").json();
        assertThat(connection.get("sshConfig").asText()).contains("HostName 127.0.0.1").contains("Port " + sshd.port())
                .contains("User " + sshd.user());
        // Log in the way a user would (OpenSSH client, strict host key checking) and look at the workspace.
        String seen = ssh(connection.get("sshHost").asText(), connection.get("sshPort").asInt(),
                connection.get("sshUser").asText(), "cat " + connection.get("directory").asText() + "/hello.txt");
        assertThat(seen).isEqualTo("hello bare metal\n");
        Path dir = home.resolve("atelier-workspaces").resolve(id);
        long leader = leaderPid(dir);

        admin.post("/api/v1/workspaces/" + id + "/stop", Map.of());
        admin.awaitStatus(id, "STOPPED");
        assertThat(ProcessHandle.of(leader)).isEmpty();
        assertThat(dir.resolve("hello.txt")).exists();

        admin.post("/api/v1/workspaces/" + id + "/start", Map.of());
        admin.awaitStatus(id, "RUNNING");
        assertThat(ProcessHandle.of(leaderPid(dir))).isPresent();

        assertThat(admin.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        admin.awaitStatus(id, "DELETED");
        assertThat(dir).doesNotExist();
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private String register(String name, String fingerprint, int capacity, Map<String, String> labels) {
        ApiClient.Response r = admin.post("/api/v1/hosts", host(name, fingerprint, capacity, labels));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static Map<String, Object> host(String name, String fingerprint, int capacity, Map<String, String> labels) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("name", name);
        h.put("address", sshd.address());
        h.put("port", sshd.port());
        h.put("user", sshd.user());
        h.put("keyRef", sshd.keyRef());
        if (fingerprint != null) {
            h.put("hostKeyFingerprint", fingerprint);
        }
        h.put("capacity", capacity);
        h.put("labels", labels);
        return h;
    }

    private static Map<String, Object> template(String name, Map<String, Object> spec) {
        return Map.of("name", name, "provider", "ssh", "spec", spec,
                "parameters", List.of(Map.of("name", "who", "type", "STRING", "defaultValue", "world")),
                "pricing", Map.of("runningPerHour", "0.50", "stoppedPerHour", "0.00", "currency", "EUR"));
    }

    private static ProvisionRequest request(String id, long build, Map<String, Object> spec, Map<String, String> params) {
        WorkspaceAgent agent = new WorkspaceAgent("while :; do sleep 30; done\n", Map.of("ATELIER_URL",
                "http://127.0.0.1:1", "ATELIER_WORKSPACE_ID", id, "ATELIER_AGENT_TOKEN", "agent-secret"));
        return new ProvisionRequest(id, build, "alice", null, spec, params,
                Map.of("atelier-workspace-id", id, "atelier-build", Long.toString(build)), agent);
    }

    private ProviderOperation untilDone(ProvisionRequest request, ProviderOperation op) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!op.done()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("operation " + op.operationId() + " did not finish");
            }
            try {
                Thread.sleep(Math.max(50, op.pollAfter().toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            op = provider.poll(request, op.operationId());
        }
        return op;
    }

    /** The holder of the workspace (unshare, whose child is pid 1 of the workspace's namespace). */
    private static long leaderPid(Path dir) throws IOException {
        return Long.parseLong(Files.readString(state(dir.getFileName().toString()).resolve("pid")).trim().split(" ")[0]);
    }

    private static Path state(String id) {
        return home.resolve("atelier-workspaces").resolve(".atelier").resolve(id);
    }

    /** The host pid of the process whose pid is {@code inner} in the namespace of the session {@code session}. */
    private static long hostPid(long inner, long session) throws IOException {
        try (var entries = Files.list(Path.of("/proc"))) {
            for (Path p : entries.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    long pid = Long.parseLong(p.getFileName().toString());
                    String nspid = Files.readAllLines(p.resolve("status")).stream().filter(l -> l.startsWith("NSpid:"))
                            .findFirst().orElse("");
                    String[] ids = nspid.trim().split("\\s+");
                    if (sessionOf(pid) == session && ids[ids.length - 1].equals(Long.toString(inner)) && ids.length > 2) {
                        return pid;
                    }
                } catch (IOException | RuntimeException e) {
                    // gone
                }
            }
        }
        throw new AssertionError("no process " + inner + " in the namespace of session " + session);
    }

    private static String namespaceOf(long pid) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "pid")).toString();
    }

    private static List<Long> processes(String commandLine) throws IOException {
        try (var entries = Files.list(Path.of("/proc"))) {
            return entries.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    return Files.readString(p.resolve("cmdline")).replace('\0', ' ').trim().equals(commandLine);
                } catch (IOException e) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
    }

    private static long sessionOrMinus(long pid) {
        try {
            return sessionOf(pid);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The session id of a process, from /proc/<pid>/stat (field 6). */
    private static long sessionOf(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[3]);
    }

    private static String ssh(String host, int port, String user, String command) throws Exception {
        Path knownHosts = Files.createTempFile("known_hosts", "");
        String hostKey = Files.readString(TestInfra.STATE.resolve("sshd/host_key.pub")).trim();
        Files.writeString(knownHosts, "[" + host + "]:" + port + " " + hostKey + "\n");
        Process p = new ProcessBuilder("ssh", "-i", sshd.privateKey().toString(), "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
                user + "@" + host, command).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        return out;
    }

    private String track(String workspaceId) {
        workspaces.add(workspaceId);
        return workspaceId;
    }

    private static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
