package dev.atelier.providers.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.provider.OperationId;
import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.provider.ResourceDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

/**
 * The {@code local} provider against real processes, once without a sandbox and once inside bubblewrap. Bubblewrap
 * is set up by {@code deploy/test-infra/bubblewrap.sh} and required: when it does not work here the bubblewrap tests
 * fail, they are never skipped.
 */
class LocalWorkspaceProviderTest {

    private static final Duration READINESS = Duration.ofMillis(200);
    private static final Duration GRACE = Duration.ofSeconds(2);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String SLEEPERS = "sleep 1000 & sleep 1000 & exec sleep 1000\n";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Probed once: the probe itself starts bwrap. Null when bubblewrap works. */
    private static String bubblewrapProblem;
    private static boolean bubblewrapProbed;

    static synchronized String bubblewrapProblem() {
        if (!bubblewrapProbed) {
            dev.atelier.support.TestInfra.bubblewrap();
            bubblewrapProblem = Sandboxes.bubblewrapProblem();
            bubblewrapProbed = true;
        }
        return bubblewrapProblem;
    }

    @Test
    void aStateFileOfAnOlderEngineWithoutLaunchTimeMeasuresReadinessFromTheProcessStart() throws Exception {
        ObjectMapper providerJson = new ObjectMapper().findAndRegisterModules();
        LocalState.ProcessState old = providerJson.readValue(
                "{\"pid\":4242,\"startedAt\":1700000000.250000000,\"key\":\"w-1\"}",
                LocalState.ProcessState.class);
        assertThat(old.readySince()).isEqualTo(java.time.Instant.parse("2023-11-14T22:13:20.250Z"));

        java.time.Instant launched = java.time.Instant.parse("2024-01-01T00:00:00Z");
        LocalState.ProcessState current = providerJson.readValue(providerJson.writeValueAsString(
                new LocalState.ProcessState(4242, launched.minusMillis(800), "w-1", launched, "bwrap", null, null, null)),
                LocalState.ProcessState.class);
        assertThat(current.readySince()).isEqualTo(launched);
    }

    @Nested
    class WithoutSandbox extends Contract {
        @Override
        Sandboxes.Sandbox sandbox() {
            return Sandboxes.choose(LocalProviderProperties.Sandbox.NONE);
        }

        @Override
        String insidePath(Path dir) {
            return dir.toString();
        }
    }

    @Nested
    class InBubblewrap extends Contract {
        @Override
        Sandboxes.Sandbox sandbox() {
            String problem = bubblewrapProblem();
            if (problem != null) {
                fail("bubblewrap must work for these tests (CI installs it): " + problem);
            }
            return Sandboxes.choose(LocalProviderProperties.Sandbox.BWRAP);
        }

        @Override
        String insidePath(Path dir) {
            return "/workspace";
        }

        @Test
        void usrIsReadOnlyAndTmpIsPrivateInside() throws Exception {
            String probe = "atelier-probe-" + UUID.randomUUID();
            Path hostUsrProbe = Path.of("/usr", probe);
            Path hostTmpProbe = Path.of("/tmp", probe);
            try {
                ProvisionRequest request = request(Map.of("startupScript", ""
                        + "touch /usr/" + probe + " 2>/dev/null; echo $? > usr-write.txt\n"
                        + "echo secret > /tmp/" + probe + "; echo $? > tmp-write.txt\n"
                        + "ls /tmp > tmp-list.txt\n"
                        + "echo ok > done.txt\n"
                        + "exec sleep 1000\n"));
                awaitReady(request, provider.create(request));
                Path dir = directory(request);
                awaitFile(dir.resolve("done.txt"));

                assertThat(read(dir.resolve("usr-write.txt")).trim()).as("exit status of touch /usr/...").isNotEqualTo("0");
                assertThat(hostUsrProbe).doesNotExist();
                assertThat(read(dir.resolve("tmp-write.txt")).trim()).as("exit status of the write to /tmp").isEqualTo("0");
                assertThat(read(dir.resolve("tmp-list.txt")).lines()).as("/tmp inside").contains(probe);
                assertThat(hostTmpProbe).as("the host's /tmp").doesNotExist();
            } finally {
                Files.deleteIfExists(hostUsrProbe);
                Files.deleteIfExists(hostTmpProbe);
            }
        }

        @Test
        void byDefaultOnlyItsOwnLoopbackIsThereAndNetworkTrueSharesTheHostsNetwork() throws Exception {
            String script = "cat /proc/net/dev > net.tmp && mv net.tmp net.txt\nexec sleep 1000\n";
            ProvisionRequest isolated = request(Map.of("startupScript", script));
            ProvisionRequest connected = request(Map.of("startupScript", script, "network", true));
            awaitReady(isolated, provider.create(isolated));
            awaitReady(connected, provider.create(connected));

            Path isolatedNet = directory(isolated).resolve("net.txt");
            Path connectedNet = directory(connected).resolve("net.txt");
            awaitFile(isolatedNet);
            awaitFile(connectedNet);
            assertThat(interfaces(read(isolatedNet))).isEqualTo(Set.of("lo"));
            // The control: with network: true the workspace shares the host's interfaces.
            assertThat(interfaces(read(connectedNet))).isEqualTo(interfaces(read(Path.of("/proc/net/dev"))));
        }

        private Set<String> interfaces(String procNetDev) {
            return procNetDev.lines().filter(l -> l.contains(":"))
                    .map(l -> l.substring(0, l.indexOf(':')).trim())
                    .collect(Collectors.toSet());
        }
    }

    abstract static class Contract {

        @TempDir
        Path tmp;
        Path root;
        Path states;
        LocalWorkspaceProvider provider;
        private final List<ProvisionRequest> created = new ArrayList<>();
        private final Set<Long> observedPids = new LinkedHashSet<>();

        abstract Sandboxes.Sandbox sandbox();

        /** Where the workspace directory appears to the start-up script. */
        abstract String insidePath(Path dir);

        @BeforeEach
        void createProvider() {
            root = tmp.resolve("workspaces");
            states = tmp.resolve("local-state");
            provider = new LocalWorkspaceProvider(root, states, sandbox(), READINESS, GRACE, () -> "http://127.0.0.1:1");
        }

        @AfterEach
        void deleteEverything() {
            provider.close();
            created.forEach(request -> remember(directory(request)));
            List<Throwable> failures = new ArrayList<>();
            for (ProvisionRequest request : created) {
                try {
                    provider.delete(request);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
            observedPids.stream().filter(pid -> !dead(pid)).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            assertThat(failures).as("deleting the test's workspaces").isEmpty();
        }

        @Test
        void createRunsTheScriptInTheWorkspaceWithOnlyItsOwnEnvironment() throws Exception {
            ProvisionRequest request = request(Map.of(
                    "startupScript", "pwd > where.txt\nenv > env.tmp && mv env.tmp env.txt\nexec sleep 1000\n",
                    "env", Map.of("GREETING", "hello world", "TOOL_VERSION", "1.2.3")),
                    Map.of("region", "eu-west", "size", "large"));

            ProviderOperation first = provider.create(request);
            assertThat(first.done()).isFalse();
            assertThat(OperationId.parse("local", first.operationId()).key()).isEqualTo(request.idempotencyKey());
            ProviderOperation ready = awaitReady(request, first);

            Path dir = directory(request);
            long pid = statePid(dir);
            assertThat(ready.resourceId()).isEqualTo(dir.toString());
            assertThat(ready.connection())
                    .containsEntry("type", "local")
                    .containsEntry("directory", dir.toString())
                    .containsEntry("sandbox", provider.sandboxName())
                    .containsEntry("pid", Long.toString(pid));
            assertThat(provider.sandboxName()).isEqualTo(sandbox().name());
            assertThat(ProcessHandle.of(pid)).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());
            observedPids.add(pid);

            awaitFile(dir.resolve("env.txt"));
            assertThat(read(dir.resolve("where.txt")).trim()).isEqualTo(insidePath(dir));
            Map<String, String> env = parseEnv(read(dir.resolve("env.txt")));
            assertThat(env)
                    .containsEntry("ATELIER_WORKSPACE_ID", request.workspaceId())
                    .containsEntry("ATELIER_BUILD", "1")
                    .containsEntry("ATELIER_WORKSPACE_OWNER", "alice")
                    .containsEntry("ATELIER_PARAM_REGION", "eu-west")
                    .containsEntry("ATELIER_PARAM_SIZE", "large")
                    .containsEntry("GREETING", "hello world")
                    .containsEntry("TOOL_VERSION", "1.2.3")
                    .containsEntry("HOME", insidePath(dir))
                    .containsEntry("PATH", "/usr/local/bin:/usr/bin:/bin");

            // Nothing of the engine's own environment: only what the provider sets and what the shell adds itself.
            Set<String> allowed = Set.of("PATH", "HOME", "ATELIER_WORKSPACE_ID", "ATELIER_BUILD",
                    "ATELIER_WORKSPACE_OWNER", "ATELIER_PARAM_REGION", "ATELIER_PARAM_SIZE", "GREETING",
                    "TOOL_VERSION", "PWD", "OLDPWD", "SHLVL", "_");
            assertThat(System.getenv().keySet()).as("precondition: the engine has variables of its own")
                    .anyMatch(k -> !allowed.contains(k));
            assertThat(env.keySet()).isSubsetOf(allowed);
        }

        @Test
        void stopEndsTheWholeProcessTreeAndKeepsTheFilesThenStartRunsTheScriptAgain() throws Exception {
            ProvisionRequest request = request(Map.of("startupScript", "echo run >> runs.txt\n" + SLEEPERS));
            awaitReady(request, provider.create(request));
            Path dir = directory(request);
            long firstPid = statePid(dir);
            Set<Long> tree = awaitSleepers(firstPid);

            ProviderOperation stopped = provider.stop(request);

            assertThat(stopped.done()).isTrue();
            awaitDead(tree);
            assertThat(dir.resolve("runs.txt")).hasContent("run");
            assertThat(states.resolve(request.workspaceId()).resolve("startup.sh")).exists();
            assertThat(states.resolve(request.workspaceId()).resolve("process.json")).doesNotExist();
            assertThat(dir.resolve(".atelier")).as("engine files in the workspace").doesNotExist();

            ProviderOperation started = provider.start(request);
            ProviderOperation ready = awaitReady(request, started);
            long secondPid = statePid(dir);
            assertThat(secondPid).isNotEqualTo(firstPid);
            assertThat(ready.connection()).containsEntry("pid", Long.toString(secondPid));
            awaitSleepers(secondPid);
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(dir.resolve("runs.txt")).hasContent("run\nrun"));
        }

        @Test
        void deleteKillsTheProcessesAndRemovesTheDirectoryAndIsIdempotent() throws Exception {
            // A subdirectory its owner cannot write to must not keep the workspace from going.
            ProvisionRequest request = request(Map.of("startupScript", "echo data > data.txt\n"
                    + "mkdir -p locked/inner && touch locked/inner/f && chmod 500 locked/inner locked\n" + SLEEPERS));
            awaitReady(request, provider.create(request));
            Path dir = directory(request);
            Set<Long> tree = awaitSleepers(statePid(dir));
            awaitFile(dir.resolve("data.txt"));

            assertThat(provider.delete(request).done()).isTrue();

            awaitDead(tree);
            assertThat(dir).doesNotExist();
            assertThat(states.resolve(request.workspaceId())).doesNotExist();
            assertThat(provider.delete(request).done()).as("deleting again").isTrue();
            assertThat(provider.describe(request).state()).isEqualTo(ResourceDescription.State.ABSENT);
        }

        @Test
        void aRepeatedCreateForTheSameBuildKeepsTheProcessAndANewBuildReplacesIt() throws Exception {
            ProvisionRequest build1 = request(Map.of("startupScript", "echo $ATELIER_BUILD >> runs.txt\n" + SLEEPERS));
            ProviderOperation first = provider.create(build1);
            Path dir = directory(build1);
            long pid = statePid(dir);

            ProviderOperation again = provider.create(build1);
            assertThat(again.done()).isFalse();
            assertThat(again.operationId()).isEqualTo(first.operationId());
            assertThat(statePid(dir)).as("pid after the repeated create").isEqualTo(pid);

            ProviderOperation ready = awaitReady(build1, provider.create(build1));
            assertThat(ready.connection()).containsEntry("pid", Long.toString(pid));
            assertThat(statePid(dir)).isEqualTo(pid);
            Set<Long> tree = awaitSleepers(pid);
            assertThat(read(dir.resolve("runs.txt"))).isEqualTo("1\n");

            ProvisionRequest build2 = new ProvisionRequest(build1.workspaceId(), 2, build1.owner(), dir.toString(),
                    build1.spec(), build1.parameters(), build1.labels(), null);
            ProviderOperation second = provider.create(build2);
            assertThat(OperationId.parse("local", second.operationId()).key()).isEqualTo(build2.idempotencyKey());
            assertThat(second.operationId()).isNotEqualTo(first.operationId());
            ProviderOperation ready2 = awaitReady(build2, second);
            long pid2 = statePid(dir);
            assertThat(pid2).isNotEqualTo(pid);
            assertThat(ready2.connection()).containsEntry("pid", Long.toString(pid2));
            awaitDead(tree);
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(dir.resolve("runs.txt")).hasContent("1\n2"));
        }

        @Test
        void aWorkspaceIsNotReadyBeforeTheReadinessDelay() {
            ProvisionRequest request = request(Map.of("startupScript", "exec sleep 1000\n"));
            long before = System.nanoTime();
            ProviderOperation created = provider.create(request);

            ProviderOperation early = provider.poll(request, created.operationId());
            long elapsed = System.nanoTime() - before;

            if (elapsed < READINESS.toNanos()) {
                assertThat(early.done()).as("polled %d ms after the start", elapsed / 1_000_000).isFalse();
                assertThat(early.pollAfter()).isPositive();
            }
            awaitReady(request, created);
            assertThat(System.nanoTime() - before).isGreaterThanOrEqualTo(READINESS.toNanos());
        }

        @Test
        void operationIdsStoredBeforeOperationIdExistedAreStillPolled() {
            ProvisionRequest request = request(Map.of("startupScript", "exec sleep 1000\n"));
            ProviderOperation created = provider.create(request);
            assertThat(created.operationId()).isEqualTo("v1;kind=start;key=" + request.idempotencyKey());

            // Before OperationId the id was the request's idempotency key itself; a saga of then still polls with it.
            String legacy = request.idempotencyKey();
            AtomicReference<ProviderOperation> last = new AtomicReference<>();
            await().atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        last.set(provider.poll(request, legacy));
                        return last.get().done();
                    });
            Path dir = directory(request);
            remember(dir);
            assertThat(last.get().connection()).containsEntry("pid", Long.toString(statePid(dir)));

            // Neither form of another build's id, nor another kind of operation, is this start.
            for (String other : List.of(request.idempotencyKey() + "0", "v1;kind=start;key=" + request.idempotencyKey()
                    + "0", "v1;kind=stop;key=" + request.idempotencyKey())) {
                assertThatThrownBy(() -> provider.poll(request, other)).as(other)
                        .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                        .hasMessageContaining("lost its start-up process");
            }
            assertThatThrownBy(() -> provider.poll(request, "v1;kind=start;key=a;key=b"))
                    .isInstanceOf(ProviderException.class).hasMessageContaining("unknown local operation");
            assertThat(statePid(dir)).as("a refused poll leaves the process alone").isEqualTo(
                    Long.parseLong(last.get().connection().get("pid")));
        }

        @Test
        void aFailingScriptFailsThePollWithItsExitCodeAndOutput() {
            ProvisionRequest request = request(Map.of("startupScript", "echo boom >&2; exit 7\n"));
            ProviderOperation created = provider.create(request);

            Throwable thrown = catchPollFailure(request, created);

            assertThat(thrown).isInstanceOf(ProviderException.class)
                    .hasMessageContaining("exited with code 7")
                    .hasMessageContaining("boom");
            assertThat(((ProviderException) thrown).retryable()).isFalse();
        }

        @Test
        void aScriptThatFinishesCleanlyIsDone() throws Exception {
            ProvisionRequest request = request(Map.of("startupScript", "echo hi > out.txt\nexit 0\n"));

            ProviderOperation ready = awaitReady(request, provider.create(request));

            assertThat(ready.connection()).containsEntry("type", "local");
            assertThat(read(directory(request).resolve("out.txt")).trim()).isEqualTo("hi");
            assertThat(provider.describe(request).state()).isEqualTo(ResourceDescription.State.STOPPED);
        }

        @Test
        void validateSpecNamesTheOffendingKey() {
            assertThat(provider.validateSpec(Map.of("image", "ubuntu")))
                    .singleElement(as(STRING)).contains("'image'");
            assertThat(provider.validateSpec(Map.of("startupScript", 42)))
                    .singleElement(as(STRING)).contains("startupScript");
            assertThat(provider.validateSpec(Map.of("env", Map.of("1BAD", "x"))))
                    .singleElement(as(STRING)).contains("1BAD");
            assertThat(provider.validateSpec(Map.of("env", Map.of("GOOD", 3))))
                    .singleElement(as(STRING)).contains("GOOD");
            assertThat(provider.validateSpec(Map.of("env", Map.of("ATELIER_WORKSPACE_ID", "spoofed"))))
                    .singleElement().asString().contains("ATELIER_WORKSPACE_ID").contains("reserved");
            assertThat(provider.validateSpec(Map.of("network", "yes")))
                    .singleElement(as(STRING)).contains("network");
            assertThat(provider.validateSpec(Map.of("startupScript", "echo hi\n",
                    "env", Map.of("GREETING", "hello"), "network", false))).isEmpty();
            assertThat(provider.validateSpec(Map.of())).isEmpty();
        }

        @Test
        void anInvalidWorkspaceIdIsRefusedBeforeTouchingTheFileSystem() throws IOException {
            for (String id : new String[] {"../etc", "..", "a/b", "-leading-dash", "", "x".repeat(65), null}) {
                ProvisionRequest bad = new ProvisionRequest(id, 1, "alice", null,
                        Map.of("startupScript", "touch /tmp/should-not-run\n"), Map.of(), Map.of(), null);
                List<Runnable> calls = List.of(() -> provider.create(bad), () -> provider.start(bad),
                        () -> provider.stop(bad), () -> provider.delete(bad), () -> provider.poll(bad, "k"),
                        () -> provider.describe(bad));
                for (Runnable call : calls) {
                    assertThatThrownBy(call::run).as("id %s", id)
                            .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
                            .hasMessageContaining("invalid workspace id");
                }
            }
            try (Stream<Path> entries = Files.walk(tmp)) {
                assertThat(entries.map(tmp::relativize).map(Path::toString))
                        .as("the provider's directories (the root exists from the start)")
                        .containsExactlyInAnyOrder("", "workspaces");
            }
        }

        @Test
        void describeAndInventoryFollowTheWorkspace() {
            ProvisionRequest request = request(Map.of("startupScript", SLEEPERS));
            ProvisionRequest other = request(Map.of("startupScript", SLEEPERS));
            awaitReady(request, provider.create(request));
            awaitReady(other, provider.create(other));
            Path dir = directory(request);

            ResourceDescription running = provider.describe(request);
            assertThat(running.state()).isEqualTo(ResourceDescription.State.RUNNING);
            assertThat(running.resourceId()).isEqualTo(dir.toString());
            assertThat(running.labels()).isEqualTo(request.labels());
            assertThat(running.connection()).containsEntry("pid", Long.toString(statePid(dir)));

            List<ResourceDescription> found = provider.inventory(Map.of("atelier-workspace-id", request.workspaceId()));
            assertThat(found).singleElement().satisfies(d -> {
                assertThat(d.resourceId()).isEqualTo(dir.toString());
                assertThat(d.state()).isEqualTo(ResourceDescription.State.RUNNING);
                assertThat(d.labels()).containsEntry("atelier-owner", "alice");
            });
            assertThat(provider.inventory(Map.of("atelier-owner", "alice"))).extracting(ResourceDescription::resourceId)
                    .containsExactlyInAnyOrder(dir.toString(), directory(other).toString());
            assertThat(provider.inventory(Map.of("atelier-workspace-id", request.workspaceId(), "atelier-owner", "bob")))
                    .isEmpty();

            provider.stop(request);
            assertThat(provider.describe(request).state()).isEqualTo(ResourceDescription.State.STOPPED);
            assertThat(provider.inventory(Map.of("atelier-workspace-id", request.workspaceId())))
                    .singleElement().extracting(ResourceDescription::state).isEqualTo(ResourceDescription.State.STOPPED);

            provider.delete(request);
            assertThat(provider.describe(request).state()).isEqualTo(ResourceDescription.State.ABSENT);
            assertThat(provider.inventory(Map.of("atelier-workspace-id", request.workspaceId()))).isEmpty();
            assertThat(provider.describe(other).state()).isEqualTo(ResourceDescription.State.RUNNING);
        }

        // --- helpers ---

        ProvisionRequest request(Map<String, Object> spec) {
            return request(spec, Map.of());
        }

        ProvisionRequest request(Map<String, Object> spec, Map<String, String> parameters) {
            String id = UUID.randomUUID().toString();
            ProvisionRequest request = new ProvisionRequest(id, 1, "alice", null, spec, parameters,
                    Map.of("atelier-workspace-id", id, "atelier-owner", "alice"), null);
            created.add(request);
            return request;
        }

        Path directory(ProvisionRequest request) {
            return root.resolve(request.workspaceId());
        }

        /** Polls the operation as the engine would until it is done. */
        ProviderOperation awaitReady(ProvisionRequest request, ProviderOperation operation) {
            if (operation.done()) {
                return operation;
            }
            AtomicReference<ProviderOperation> last = new AtomicReference<>(operation);
            await().atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        last.set(provider.poll(request, operation.operationId()));
                        return last.get().done();
                    });
            remember(directory(request));
            return last.get();
        }

        Throwable catchPollFailure(ProvisionRequest request, ProviderOperation operation) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            await().atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        try {
                            ProviderOperation polled = provider.poll(request, operation.operationId());
                            assertThat(polled.done()).as("poll of a failing script").isFalse();
                            return false;
                        } catch (ProviderException e) {
                            thrown.set(e);
                            return true;
                        }
                    });
            return thrown.get();
        }

        /** Notes the workspace's process tree for the leak guard, which ends it should delete itself be broken. */
        void remember(Path dir) {
            if (Files.exists(states.resolve(dir.getFileName()).resolve("process.json"))) {
                long pid = statePid(dir);
                observedPids.add(pid);
                ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> observedPids.add(d.pid())));
            }
        }

        long statePid(Path dir) {
            try {
                return JSON.readTree(states.resolve(dir.getFileName()).resolve("process.json").toFile()).get("pid").asLong();
            } catch (IOException e) {
                throw new AssertionError("no readable process state in " + dir, e);
            }
        }

        /** Waits until the tree under {@code pid} holds the three sleeps of {@link #SLEEPERS}; returns all its pids. */
        Set<Long> awaitSleepers(long pid) {
            AtomicReference<Set<Long>> tree = new AtomicReference<>();
            await().atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).until(() -> {
                Set<Long> pids = new LinkedHashSet<>();
                pids.add(pid);
                ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
                tree.set(pids);
                return pids.stream().filter(p -> "sleep".equals(comm(p))).count() >= 3;
            });
            observedPids.addAll(tree.get());
            assertThat(tree.get()).allMatch(p -> !dead(p), "alive");
            return tree.get();
        }

        void awaitDead(Set<Long> pids) {
            await().atMost(Duration.ofSeconds(3)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                    .untilAsserted(() -> assertThat(pids).as("processes of the workspace").allMatch(this::dead, "dead"));
        }

        /** Gone, or a zombie that only waits for its (new) parent to reap it. */
        boolean dead(long pid) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
                return state == 'Z' || state == 'X';
            } catch (IOException e) {
                return true;
            }
        }

        String comm(long pid) {
            try {
                return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
            } catch (IOException e) {
                return "";
            }
        }

        void awaitFile(Path file) {
            await().atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                    .until(() -> Files.exists(file));
        }

        static String read(Path file) throws IOException {
            return Files.readString(file, StandardCharsets.UTF_8);
        }

        static Map<String, String> parseEnv(String dump) {
            Map<String, String> env = new LinkedHashMap<>();
            dump.lines().filter(l -> l.contains("="))
                    .forEach(l -> env.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
            return env;
        }
    }
}
