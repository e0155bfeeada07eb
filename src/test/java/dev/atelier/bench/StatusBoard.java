package dev.atelier.bench;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

/**
 * When each workspace was first seen in each status on a watch stream (SSE ids are
 * {@code <workspace id>:<build>:<status>}), and waiting for that.
 */
final class StatusBoard implements SseStream.Listener {

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    @Override
    public void onEvent(String id, String data, long arrivalNanos) {
        if (id == null) {
            return;
        }
        int last = id.lastIndexOf(':');
        int first = id.indexOf(':');
        if (first < 0 || last == first) {
            return;
        }
        entry(id.substring(0, first)).seen(id.substring(last + 1), arrivalNanos);
    }

    /** @return when the status was first seen ({@link System#nanoTime()}) */
    long await(String workspaceId, String status, Duration timeout) throws TimeoutException {
        return entry(workspaceId).await(status, timeout);
    }

    Long seenAt(String workspaceId, String status) {
        return entry(workspaceId).seenAt(status);
    }

    int count(Collection<String> workspaceIds, String status) {
        int n = 0;
        for (String id : workspaceIds) {
            if (entry(id).seenAt(status) != null) {
                n++;
            }
        }
        return n;
    }

    void awaitAll(Collection<String> workspaceIds, String status, Duration timeout) throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String id : workspaceIds) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(count(workspaceIds, status) + " of " + workspaceIds.size()
                        + " workspaces reached " + status + " within " + timeout);
            }
            entry(id).await(status, Duration.ofNanos(left));
        }
    }

    void forget(String workspaceId) {
        entries.remove(workspaceId);
    }

    private Entry entry(String workspaceId) {
        return entries.computeIfAbsent(workspaceId, k -> new Entry());
    }

    private static final class Entry {
        private final Map<String, Long> seen = new HashMap<>(8);

        synchronized void seen(String status, long nanos) {
            if (seen.putIfAbsent(status, nanos) == null) {
                notifyAll();
            }
        }

        synchronized Long seenAt(String status) {
            return seen.get(status);
        }

        synchronized long await(String status, Duration timeout) throws TimeoutException {
            long deadline = System.nanoTime() + timeout.toNanos();
            Long at;
            while ((at = seen.get(status)) == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("status " + status + " not seen within " + timeout + " (seen: "
                            + seen.keySet() + ")");
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            return at;
        }
    }
}
