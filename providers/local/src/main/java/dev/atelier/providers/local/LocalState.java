package dev.atelier.providers.local;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The engine's bookkeeping of local workspaces, in {@code <state root>/<workspace id>/}: a directory of the engine's
 * own (mode 0700) that no sandbox mounts and no workspace uid can enter, so nothing a workspace does can change what
 * the engine believes about it or make the engine touch another file. Every access goes through {@link StateFiles}
 * (no symbolic link is ever followed).
 */
final class LocalState {

    static final String PROCESS = "process.json";
    static final String LABELS = "labels.json";
    static final String STARTUP = "startup.sh";
    static final String AGENT = "agent.sh";
    static final String PASSWD = "passwd";
    static final String GROUP = "group";
    static final String SANDBOX_INFO = "sandbox.json";
    static final String LOG = "startup.log";
    /** Holds only the agent's socket; mounted read-only into the sandbox, hence 0755. */
    static final String RELAY_DIR = "engine";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");
    private static final Logger log = LoggerFactory.getLogger(LocalState.class);

    private final Path root;
    private final ObjectMapper json = new ObjectMapper().findAndRegisterModules();

    LocalState(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path dir(String id) {
        return root.resolve(id);
    }

    /** Makes the state root and the workspace's directories (and checks that none of them is a link). */
    void prepare(String id) throws IOException {
        Files.createDirectories(root.getParent());
        StateFiles.makeDirectories(root.getParent(), PosixFilePermissions.fromString("rwx------"),
                root.getFileName().toString(), id);
        StateFiles.makeDirectories(root, PosixFilePermissions.fromString("rwxr-xr-x"), id, RELAY_DIR);
    }

    boolean exists(String id) {
        return Files.isDirectory(dir(id), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    List<String> ids() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.map(d -> d.getFileName().toString()).filter(n -> ID.matcher(n).matches())
                    .filter(this::exists).sorted().toList();
        }
    }

    Optional<ProcessState> process(String id) {
        try {
            return StateFiles.read(root, new String[] {id}, PROCESS, 64 * 1024, false)
                    .map(bytes -> {
                        try {
                            return json.readValue(bytes, ProcessState.class);
                        } catch (IOException e) {
                            log.warn("unreadable process state of local workspace {}: {}", id, e.getMessage());
                            return null;
                        }
                    });
        } catch (IOException e) {
            log.warn("could not read the process state of local workspace {}: {}", id, e.getMessage());
            return Optional.empty();
        }
    }

    void process(String id, ProcessState state) throws IOException {
        write(id, PROCESS, json.writeValueAsBytes(state), false);
    }

    void clearProcess(String id) throws IOException {
        if (exists(id)) {
            StateFiles.delete(root, new String[] {id}, PROCESS);
        }
    }

    Map<String, String> labels(String id) {
        try {
            Optional<byte[]> bytes = StateFiles.read(root, new String[] {id}, LABELS, 256 * 1024, false);
            return bytes.isEmpty() ? Map.of() : json.readValue(bytes.get(), new TypeReference<Map<String, String>>() { });
        } catch (IOException e) {
            return Map.of();
        }
    }

    void labels(String id, Map<String, String> labels) throws IOException {
        write(id, LABELS, json.writeValueAsBytes(labels), false);
    }

    /** {@code readable}: 0644 for what the workspace's uid opens through a descriptor, else 0600. */
    void write(String id, String name, byte[] content, boolean readable) throws IOException {
        StateFiles.write(root, new String[] {id}, name, content,
                readable ? StateFiles.READABLE : StateFiles.OWNER_ONLY);
    }

    void delete(String id, String name) throws IOException {
        StateFiles.delete(root, new String[] {id}, name);
    }

    /** The log the start-up process appends to, as a regular file of the engine's (never a link). */
    Path log(String id) throws IOException {
        StateFiles.ensureRegularFile(root, new String[] {id}, LOG, StateFiles.OWNER_ONLY);
        return dir(id).resolve(LOG);
    }

    /** The last lines of the start-up log, for error messages: the workspace's own output, nothing else. */
    String tail(String id) {
        try {
            Optional<byte[]> bytes = StateFiles.read(root, new String[] {id}, LOG, 4096, true);
            if (bytes.isEmpty()) {
                return "(none)";
            }
            List<String> lines = new String(bytes.get(), StandardCharsets.UTF_8).lines().toList();
            String text = String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
            return text.isBlank() ? "(none)" : text.length() > 1000 ? text.substring(text.length() - 1000) : text;
        } catch (IOException e) {
            return "(log unreadable)";
        }
    }

    /** What bwrap wrote to its info descriptor: the host pid of the sandbox's init and its pid namespace. */
    Optional<SandboxInfo> sandboxInfo(String id, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        do {
            try {
                Optional<byte[]> bytes = StateFiles.read(root, new String[] {id}, SANDBOX_INFO, 4096, false);
                if (bytes.isPresent() && bytes.get().length > 0) {
                    Map<String, Object> info = json.readValue(bytes.get(), new TypeReference<Map<String, Object>>() { });
                    if (info.get("child-pid") instanceof Number pid && info.get("pid-namespace") instanceof Number ns) {
                        return Optional.of(new SandboxInfo(pid.longValue(), "pid:[" + ns.longValue() + "]"));
                    }
                }
            } catch (IOException e) {
                // not complete yet
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    void deleteAll(String id) throws IOException {
        StateFiles.deleteTree(root, id);
    }

    record SandboxInfo(long initPid, String pidNamespace) {
    }

    /**
     * What the engine knows of a workspace's processes. {@code pid} is the start-up process the engine started
     * (bwrap's monitor, or the process group leader without a sandbox); with bubblewrap {@code initPid} and
     * {@code pidNamespace} name the sandbox's pid 1 and namespace, which is what stop ends. Start times guard
     * against reused pids. The readiness delay is measured from {@code launchedAt}, the engine's own clock
     * ({@code startedAt} comes from /proc and can be a second off; state of older engines lacks launchedAt).
     *
     * @param sandbox {@code bwrap}, {@code none}, or {@code legacy} for a process group an older engine started
     */
    record ProcessState(long pid, Instant startedAt, String key, Instant launchedAt, String sandbox, Long initPid,
                        Instant initStartedAt, String pidNamespace) {

        Instant readySince() {
            return launchedAt != null ? launchedAt : startedAt;
        }

        /** The start-up process, when it still runs. */
        Optional<ProcessHandle> handle() {
            return WorkspaceProcesses.alive(pid, startedAt);
        }
    }
}
