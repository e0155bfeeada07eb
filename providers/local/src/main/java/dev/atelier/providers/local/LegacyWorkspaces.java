package dev.atelier.providers.local;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Workspaces made by an earlier version of the engine, which kept its bookkeeping in {@code <workspace>/.atelier/}, a directory
 * the workspace could write. On the first start of a newer engine each of them gets a state directory: its labels
 * are copied over, and a start-up process that still runs is adopted (so that stop ends it) only if it really is
 * that workspace's (alive, started when recorded, and started by the engine for that workspace id: its environment
 * says so, which nothing inside the workspace can change afterwards). A forged record is ignored. The old files
 * are read without following links, and the old process record is removed; nothing is ever read from there again.
 * Such a workspace keeps running in the old, weaker sandbox until it is stopped; the next start uses the new one.
 */
final class LegacyWorkspaces {

    private static final Logger log = LoggerFactory.getLogger(LegacyWorkspaces.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");
    private static final String LEGACY_DIR = ".atelier";
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    private LegacyWorkspaces() {
    }

    static void adopt(Path root, LocalState state) throws IOException {
        List<String> ids;
        try (Stream<Path> dirs = Files.list(root)) {
            ids = dirs.filter(d -> Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)).map(d -> d.getFileName().toString())
                    .filter(n -> ID.matcher(n).matches()).filter(n -> !state.exists(n)).sorted().toList();
        }
        for (String id : ids) {
            String[] legacy = {id, LEGACY_DIR};
            if (!StateFiles.exists(root, new String[] {id}, LEGACY_DIR)) {
                continue;
            }
            try {
                state.prepare(id);
                state.labels(id, labels(root, legacy, id));
                Optional<LocalState.ProcessState> process = process(root, legacy, id);
                if (process.isPresent()) {
                    state.process(id, process.get());
                    log.warn("local workspace {} still runs under the sandbox of an older engine (process group {}); "
                            + "stop and start it to move it into the current sandbox", id, process.get().pid());
                }
                StateFiles.delete(root, legacy, "process.json");
                log.info("local workspace {}: bookkeeping moved out of the workspace directory", id);
            } catch (IOException | RuntimeException e) {
                log.warn("local workspace {}: could not take over the bookkeeping of an older engine: {}", id, e.getMessage());
            }
        }
    }

    private static Map<String, String> labels(Path root, String[] legacy, String id) {
        try {
            Optional<byte[]> bytes = StateFiles.read(root, legacy, "labels.json", 64 * 1024, false);
            if (bytes.isEmpty()) {
                return Map.of();
            }
            Map<String, String> labels = new LinkedHashMap<>(JSON.readValue(bytes.get(),
                    new TypeReference<Map<String, String>>() { }));
            labels.computeIfPresent("atelier-workspace-id", (k, v) -> id); // never another workspace's
            return labels;
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }

    private static Optional<LocalState.ProcessState> process(Path root, String[] legacy, String id) {
        try {
            Optional<byte[]> bytes = StateFiles.read(root, legacy, "process.json", 4096, false);
            if (bytes.isEmpty()) {
                return Optional.empty();
            }
            Map<String, Object> record = JSON.readValue(bytes.get(), new TypeReference<Map<String, Object>>() { });
            if (!(record.get("pid") instanceof Number pid) || !(record.get("key") instanceof String key)
                    || !(record.get("startedAt") instanceof Number started)) {
                return Optional.empty();
            }
            Instant startedAt = Instant.ofEpochMilli(Math.round(started.doubleValue() * 1000));
            Instant launchedAt = record.get("launchedAt") instanceof Number l
                    ? Instant.ofEpochMilli(Math.round(l.doubleValue() * 1000)) : null;
            if (WorkspaceProcesses.alive(pid.longValue(), startedAt).isEmpty() || !startedFor(pid.longValue(), id)) {
                return Optional.empty();
            }
            return Optional.of(new LocalState.ProcessState(pid.longValue(), startedAt, key, launchedAt, "legacy",
                    null, null, null));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether the process was started with {@code ATELIER_WORKSPACE_ID=id} and leads its own process group. */
    static boolean startedFor(long pid, String id) {
        try {
            String environ = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")),
                    StandardCharsets.UTF_8);
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            boolean groupLeader = fields.length > 2 && fields[2].equals(Long.toString(pid));
            return groupLeader && ("\0" + environ).contains("\0ATELIER_WORKSPACE_ID=" + id + "\0");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
