package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Finding workspaces by what people type (a name, {@code <owner>.<name>} or an id) and waiting for one to reach a
 * status, with progress on stderr.
 */
final class Workspaces {

    /** A workspace name (the engine's rule): also safe inside ssh_config and a shell command. */
    static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** Owners whose ids can stand in an SSH user name and a host alias. */
    static final Pattern OWNER = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}");
    private static final Pattern ID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Set<String> GONE = Set.of("DELETED");

    private final EngineClient engine;

    Workspaces(EngineClient engine) {
        this.engine = engine;
    }

    /** Every workspace the caller may see (all pages), optionally of one owner; deleted ones left out. */
    List<JsonNode> list(String owner) {
        List<JsonNode> all = new ArrayList<>();
        String cursor = null;
        do {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("owner", owner);
            query.put("limit", 500);
            query.put("cursor", cursor);
            JsonNode page = engine.get("/api/v1/workspaces" + EngineClient.query(query));
            page.path("workspaces").forEach(w -> {
                if (!GONE.contains(w.path("status").asText())) {
                    all.add(w);
                }
            });
            cursor = page.hasNonNull("nextCursor") ? page.path("nextCursor").asText() : null;
        } while (cursor != null);
        return all;
    }

    /** The caller's id ({@code GET /api/v1/users/me}). */
    String me() {
        return engine.get("/api/v1/users/me").path("id").asText();
    }

    /**
     * The workspace {@code reference} names: an id, a name of the caller's, or {@code <owner>.<name>}. Exit code 5
     * when there is none, as for an id nobody may see.
     */
    JsonNode find(String reference) {
        if (ID.matcher(reference).matches()) {
            return engine.get("/api/v1/workspaces/" + reference);
        }
        String owner;
        String name;
        int dot = reference.lastIndexOf('.');
        if (dot > 0) {
            owner = reference.substring(0, dot);
            name = reference.substring(dot + 1);
        } else {
            owner = me();
            name = reference;
        }
        if (!NAME.matcher(name).matches()) {
            throw new CliException(ExitCodes.USAGE, "a workspace is a name (lower-case letters, digits, '-'), "
                    + "<owner>.<name> or an id");
        }
        return list(owner).stream().filter(w -> name.equals(w.path("name").asText()))
                .filter(w -> owner.equals(w.path("owner").asText()))
                .findFirst()
                .orElseThrow(() -> new CliException(ExitCodes.NOT_FOUND, "no workspace " + Text.cell(reference)
                        + " (atelier ls lists yours)"));
    }

    /**
     * Waits on the workspace's event stream until it is in {@code target} with at least build {@code build}, printing
     * each status it passes through; FAILED ends the wait with exit code 10, {@code timeout} with 9. A workspace that
     * disappears while waiting for DELETED counts as deleted.
     */
    JsonNode await(String id, String name, String target, long build, Duration timeout, Output out) {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        JsonNode[] last = new JsonNode[1];
        String[] shown = {null};
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new CliException(ExitCodes.TIMEOUT, "workspace " + Text.cell(name) + " is not " + target + " after "
                        + seconds(System.nanoTime() - started) + " (it is " + (shown[0] == null ? "unknown" : shown[0])
                        + "); the transition may still complete: atelier ls");
            }
            EngineClient.WatchResult result;
            try {
                result = engine.watch("/api/v1/workspaces/" + id + "/watch", Duration.ofNanos(left), view -> {
                    last[0] = view;
                    String status = view.path("status").asText();
                    if (!status.equals(shown[0])) {
                        shown[0] = status;
                        out.progress("  " + status + " (" + seconds(System.nanoTime() - started) + ")");
                    }
                    if (view.path("buildNumber").asLong() < build) {
                        return false;
                    }
                    if (status.equals(target)) {
                        return true;
                    }
                    if (status.equals("FAILED")) {
                        String error = view.path("lastTransition").path("error").asText("");
                        throw new CliException(ExitCodes.FAILED, "workspace " + Text.cell(name) + " FAILED"
                                + (error.isBlank() ? "" : ": " + Text.cell(error)) + " (atelier logs " + Text.cell(name) + ")");
                    }
                    return false;
                });
            } catch (CliException e) {
                if (e.exitCode() == ExitCodes.NOT_FOUND && "DELETED".equals(target)) {
                    out.progress(name + " DELETED in " + seconds(System.nanoTime() - started));
                    return last[0];
                }
                if (e.exitCode() == ExitCodes.NOT_FOUND && last[0] == null
                        && System.nanoTime() - started < NOT_YET_VISIBLE.toNanos()) {
                    // Accepted (202) but not yet in the engine's read model, which follows the events a moment later:
                    // ask again shortly, within the overall time-out.
                    pause();
                    continue;
                }
                throw e;
            }
            if (result == EngineClient.WatchResult.MATCHED) {
                out.progress(name + " " + target + " in " + seconds(System.nanoTime() - started));
                return last[0];
            }
        }
    }

    /** How long a workspace just accepted may be unknown to the engine's read model before a 404 counts. */
    private static final Duration NOT_YET_VISIBLE = Duration.ofSeconds(30);

    private static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.TIMEOUT, "interrupted while waiting");
        }
    }

    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1fs", nanos / 1e9);
    }
}
