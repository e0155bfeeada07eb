package dev.atelier.providers.local;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProviderOperation;
import dev.atelier.provider.ProvisionRequest;
import dev.atelier.support.TestDatabase;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Hostile code in a local workspace, in the real sandbox, against the real embedded PostgreSQL of the test JVM:
 * it finds nothing to log in to, cannot read host secrets although the engine runs as root, and whatever it does to
 * files that look like the engine's, to its sessions and to links, stop still ends all of it and no host file is
 * read or written.
 */
class LocalSandboxHostileTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;
    Path root;
    Path states;
    LocalWorkspaceProvider provider;
    private final List<ProvisionRequest> created = new ArrayList<>();

    @BeforeEach
    void bubblewrap() {
        TestInfra.bubblewrap();
        root = tmp.resolve("workspaces");
        states = tmp.resolve("local-state");
    }

    @AfterEach
    void deleteWorkspaces() {
        if (provider != null) {
            created.forEach(provider::delete);
            provider.close();
        }
    }

    @ParameterizedTest(name = "host network: {0}")
    @ValueSource(booleans = {false, true})
    void aStartupScriptThatScansEveryLoopbackListenerAndTriesPsqlGetsNowhere(boolean hostNetwork) throws Exception {
        int dbPort = port(TestDatabase.create().url());
        provider = provider(LocalProviderProperties.Sandbox.BWRAP);
        String script = """
                PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -n 1)
                : > attempts.txt; : > listeners.txt
                for hex in $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { n = split($2, a, ":"); print a[n] }' | sort -u); do
                  port=$(printf '%d' "0x$hex"); echo "$port" >> listeners.txt
                  PGCONNECT_TIMEOUT=3 "$PSQL" -w -h 127.0.0.1 -p "$port" -U postgres -d postgres -At -c 'SELECT 4242' >> attempts.txt 2>&1
                  echo "exit $? $port postgres" >> attempts.txt
                done
                for user in postgres atelier; do
                  PGCONNECT_TIMEOUT=3 "$PSQL" -w -h 127.0.0.1 -p "$DB_PORT" -U "$user" -d atelier -At -c 'SELECT 4242' >> direct.txt 2>&1
                  echo "exit $?" >> direct.txt
                done
                echo done > done.txt
                exec sleep 1000
                """;
        Map<String, Object> spec = new HashMap<>(Map.of("startupScript", script, "env", Map.of("DB_PORT", Integer.toString(dbPort))));
        if (hostNetwork) {
            spec.put("network", true);
        }
        Path dir = run(spec);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(dir.resolve("done.txt")));

        String attempts = read(dir.resolve("attempts.txt"));
        String direct = read(dir.resolve("direct.txt"));
        List<String> listeners = read(dir.resolve("listeners.txt")).lines().toList();
        // Every listener was tried; only the engine's database is asserted on, because other servers may share this
        // machine (another build's database, say) and are not the engine's to protect.
        List<String> atEngine = attempts.lines().filter(l -> l.matches("exit \\d+ " + dbPort + " .*")).toList();
        if (hostNetwork) {
            assertThat(atEngine).as("attempts at the engine's database during the scan").hasSize(1);
        }
        assertThat(atEngine).allMatch(l -> !l.startsWith("exit 0"));
        assertThat(direct).as("psql output").doesNotContain("4242");
        assertThat(direct.lines().filter(l -> l.startsWith("exit "))).hasSize(2).allMatch(l -> !l.startsWith("exit 0"));
        if (hostNetwork) {
            assertThat(listeners).as("loopback listeners seen from the host network").contains(Integer.toString(dbPort));
            assertThat(direct).as("the server answered, and wanted a password").contains("no password supplied");
        } else {
            assertThat(listeners).as("listeners in the workspace's own network namespace").doesNotContain(Integer.toString(dbPort));
            assertThat(direct).contains("Connection refused").doesNotContain("password");
        }
    }

    @ParameterizedTest(name = "sandbox: {0}")
    @EnumSource(value = LocalProviderProperties.Sandbox.class, names = {"BWRAP", "NONE"})
    void workspaceCodeRunsAsAnUnprivilegedUserAndReadsNoHostSecret(LocalProviderProperties.Sandbox mode) throws Exception {
        List<Path> hostKeys = hostPrivateKeys();
        if (hostKeys.isEmpty()) {
            TestInfra.sshd(); // installs openssh-server, which makes the host's keys
            hostKeys = hostPrivateKeys();
        }
        assertThat(hostKeys).as("host private keys to try").isNotEmpty();
        assertThat(Files.readString(Path.of("/etc/shadow"))).as("the engine itself can read /etc/shadow").contains("root:");
        assertThat(Sandboxes.engineUid()).as("these tests run the engine as root").isZero();
        provider = provider(mode);
        String keys = String.join(" ", hostKeys.stream().map(Path::toString).toList());
        String id = UUID.randomUUID().toString();
        Path dir = run(id, Map.of("startupScript", """
                id -u > uid.txt
                cat /etc/shadow > shadow.txt 2>&1; echo "exit $?" >> shadow.txt
                for key in $HOST_KEYS /etc/ssh/ssh_host_*_key; do cat "$key"; echo "exit $?"; done > keys.txt 2>&1
                ls -A /etc > etc.txt
                kill -KILL 1 > kill-init.txt 2>&1; echo "exit $?" >> kill-init.txt
                echo done > done.txt
                exec sleep 1000
                """, "env", Map.of("HOST_KEYS", keys)));
        await().atMost(TIMEOUT).until(() -> Files.exists(dir.resolve("done.txt")));

        assertThat(read(dir.resolve("uid.txt")).trim()).isEqualTo(Integer.toString(Sandboxes.DEFAULT_WORKSPACE_ID));
        assertThat(read(dir.resolve("shadow.txt"))).doesNotContain("root:").contains("exit 1")
                .containsAnyOf("Permission denied", "No such file");
        assertThat(read(dir.resolve("keys.txt"))).doesNotContain("PRIVATE KEY").doesNotContain("exit 0")
                .containsAnyOf("Permission denied", "No such file");
        assertThat(read(dir.resolve("kill-init.txt"))).doesNotContain("exit 0");
        if (mode == LocalProviderProperties.Sandbox.BWRAP) {
            Set<String> allowed = Set.of("alternatives", "resolv.conf", "hosts", "nsswitch.conf", "host.conf", "gai.conf",
                    "services", "protocols", "ssl", "ca-certificates.conf", "pki", "ld.so.cache", "ld.so.conf",
                    "ld.so.conf.d", "localtime", "timezone", "mime.types", "os-release", "debian_version", "terminfo",
                    "perl", "ssh", "gitconfig", "bash.bashrc", "profile", "shells", "inputrc", "passwd", "group");
            assertThat(read(dir.resolve("etc.txt")).lines()).as("/etc inside").isSubsetOf(allowed)
                    .doesNotContain("shadow", "gshadow", "sudoers");
        }
        // Seen from the host: every process of the workspace belongs to the unprivileged uid.
        long sleeper = processesWithCommandLine("sleep 1000").stream()
                .filter(pid -> LegacyWorkspaces.startedFor(pid, id) || environ(pid).contains("ATELIER_WORKSPACE_ID=" + id))
                .findFirst().orElseThrow();
        assertThat(hostUid(sleeper)).isEqualTo(Sandboxes.DEFAULT_WORKSPACE_ID);
    }

    @Test
    void aWorkspaceThatTampersWithRecordsLinksAndSessionsIsStillEndedAndTouchesNoHostFile() throws Exception {
        Path hostFile = tmp.resolve("host-file.txt");
        String secret = "host-secret-" + UUID.randomUUID();
        Files.writeString(hostFile, secret + "\n");
        hostFile.toFile().setReadable(true, false);
        long marker = 7_000_000 + ThreadLocalRandom.current().nextInt(1_000_000);
        provider = provider(LocalProviderProperties.Sandbox.BWRAP);
        String id = UUID.randomUUID().toString();
        String tamper = """
                mkdir -p .atelier
                for f in process.json startup.sh startup.log labels.json agent.sh pid; do ln -sf "$HOST_FILE" ".atelier/$f"; done
                for f in process.json startup.log labels.json startup.sh; do
                  rm -f "$STATE_DIR/$f" /run/atelier/$f; ln -sf "$HOST_FILE" "$STATE_DIR/$f"; ln -sf "$HOST_FILE" /run/atelier/$f
                  echo '{"pid":1,"key":"forged"}' > "$STATE_DIR/$f"
                done 2> tamper.txt
                setsid sleep $MARKER &
                ( setsid sh -c "sleep $((MARKER + 1))" & )
                echo started > started.txt
                exec sleep 1000
                """;
        Map<String, Object> spec = Map.of("startupScript", tamper, "env", Map.of("HOST_FILE", hostFile.toString(),
                "STATE_DIR", states.resolve(id).toString(), "MARKER", Long.toString(marker)));
        ProvisionRequest build1 = request(id, 1, spec);
        Path dir = ready(build1, provider.create(build1));
        await().atMost(TIMEOUT).until(() -> Files.exists(dir.resolve("started.txt")));
        await().atMost(TIMEOUT).until(() -> processesWithCommandLine("sleep " + marker).size()
                + processesWithCommandLine("sleep " + (marker + 1)).size() == 2);
        List<Long> escaped = new ArrayList<>(processesWithCommandLine("sleep " + marker));
        escaped.addAll(processesWithCommandLine("sleep " + (marker + 1)));
        assertThat(escaped).allMatch(pid -> sessionId(pid) != sessionId(provider.describe(build1).connection().get("pid")));

        provider.stop(build1);

        assertThat(escaped).as("processes that left the start-up process's session").allMatch(LocalSandboxHostileTest::dead);
        assertThat(processesWithCommandLine("sleep " + marker)).isEmpty();
        assertThat(hostFile).hasContent(secret);
        assertNoLinks(states.resolve(id));

        // Start again, with a script that fails after reading what the links point at: still nothing of the host.
        ProvisionRequest build2 = request(id, 2, Map.of("startupScript", "cat .atelier/startup.log .atelier/process.json; "
                + "cat \"$HOST_FILE\"; echo boom; exit 3\n", "env", Map.of("HOST_FILE", hostFile.toString())));
        ProviderOperation started = provider.start(build2);
        AtomicReference<ProviderException> failure = new AtomicReference<>();
        await().atMost(TIMEOUT).until(() -> {
            try {
                provider.poll(build2, started.operationId());
                return false;
            } catch (ProviderException e) {
                failure.set(e);
                return true;
            }
        });
        assertThat(failure.get()).hasMessageContaining("exited with code 3").hasMessageContaining("boom")
                .hasMessageNotContaining(secret);
        assertThat(hostFile).hasContent(secret);
        assertThat(provider.describe(build2).labels()).isEqualTo(build2.labels());
        assertNoLinks(states.resolve(id));

        // A new engine on the same directories (a restart) reads nothing through the links either.
        provider.close();
        provider = provider(LocalProviderProperties.Sandbox.BWRAP);
        assertThat(provider.describe(build2).labels()).isEqualTo(build2.labels());
        assertThat(hostFile).hasContent(secret);
        provider.delete(build2);
        assertThat(hostFile).as("delete removes links, never what they point at").hasContent(secret);
        assertThat(dir).doesNotExist();
    }

    // --- helpers ---

    private LocalWorkspaceProvider provider(LocalProviderProperties.Sandbox mode) {
        return new LocalWorkspaceProvider(root, states, Sandboxes.choose(mode), Duration.ofMillis(200),
                Duration.ofSeconds(2), () -> "http://127.0.0.1:1");
    }

    private Path run(Map<String, Object> spec) {
        return run(UUID.randomUUID().toString(), spec);
    }

    private Path run(String id, Map<String, Object> spec) {
        ProvisionRequest request = request(id, 1, spec);
        return ready(request, provider.create(request));
    }

    private ProvisionRequest request(String id, long build, Map<String, Object> spec) {
        ProvisionRequest request = new ProvisionRequest(id, build, "mallory", null, spec, Map.of(),
                Map.of("atelier-workspace-id", id, "atelier-owner", "mallory"), null);
        created.add(request);
        return request;
    }

    private Path ready(ProvisionRequest request, ProviderOperation operation) {
        await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(50))
                .until(() -> provider.poll(request, operation.operationId()).done());
        return root.resolve(request.workspaceId());
    }

    private static void assertNoLinks(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            assertThat(files.filter(Files::isSymbolicLink)).as("links in the engine's state").isEmpty();
        }
    }

    private static List<Path> hostPrivateKeys() throws IOException {
        List<Path> keys = new ArrayList<>();
        if (Files.isDirectory(Path.of("/etc/ssh"))) {
            try (Stream<Path> files = Files.list(Path.of("/etc/ssh"))) {
                files.filter(f -> f.getFileName().toString().matches("ssh_host_.*_key")).forEach(keys::add);
            }
        }
        Path testKey = TestInfra.STATE.resolve("sshd/host_key");
        if (Files.exists(testKey)) {
            keys.add(testKey);
        }
        return keys;
    }

    static List<Long> processesWithCommandLine(String commandLine) throws IOException {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit)).forEach(n -> {
                try {
                    String cmdline = Files.readString(Path.of("/proc", n, "cmdline")).replace('\0', ' ').trim();
                    if (cmdline.equals(commandLine) && !dead(Long.parseLong(n))) {
                        found.add(Long.parseLong(n));
                    }
                } catch (IOException e) {
                    // gone
                }
            });
        }
        return found;
    }

    private static String environ(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static int hostUid(long pid) throws IOException {
        Matcher m = Pattern.compile("(?m)^Uid:\\s+(\\d+)").matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static long sessionId(Object pid) {
        try {
            String stat = Files.readString(Path.of("/proc", pid.toString(), "stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3]);
        } catch (IOException e) {
            return -1;
        }
    }

    /** Gone, or a zombie that only waits to be reaped. */
    static boolean dead(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true;
        }
    }

    private static int port(String jdbcUrl) {
        Matcher m = Pattern.compile("jdbc:postgresql://[^:/]+:(\\d+)/.*").matcher(jdbcUrl);
        assertThat(m.matches()).as(jdbcUrl).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
