package dev.atelier.api;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.projections.audit.AuditEntry;
import dev.atelier.projections.audit.AuditRecordedEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Requests without valid credentials (401, and the 429s of {@link AuthFailures}): the first one of a client address
 * in an interval ({@code atelier.security.auth-failure-audit-interval}, a minute) is recorded as every refused
 * request is, before it is answered; the repeated ones are recorded as <em>one</em> audit entry per address and
 * interval with how many there were, instead of one event each: an anonymous client can no longer grow the event
 * store without bound.
 * At most {@code atelier.security.max-tracked-addresses} addresses are counted per interval; the rest are counted
 * together under the address {@code *}. The entry is written when its interval has ended (and at shutdown).
 */
@Component
public class AnonymousDenials implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AnonymousDenials.class);
    private static final String OVERFLOW = "*";
    private static final int PATHS_KEPT = 5;

    private final AuditRecorder recorder;
    private final Duration interval;
    private final int maxAddresses;
    private final Map<Key, Tally> tallies = new ConcurrentHashMap<>();
    private ScheduledExecutorService flusher;

    public AnonymousDenials(AuditRecorder recorder, AbuseSettings settings,
                            @Value("${atelier.security.auth-failure-audit-interval:PT1M}") Duration interval) {
        this.recorder = recorder;
        this.interval = interval;
        this.maxAddresses = settings.maxTrackedAddresses();
    }

    private record Key(String address, long slot) {
    }

    private static final class Tally {
        long count;
        long limited;
        Instant first;
        Instant last;
        String userAgent;
        final Set<String> paths = new LinkedHashSet<>();
    }

    /**
     * Counts one request without valid credentials from {@code address}.
     *
     * @return true when it is the address's first in this interval: the caller records it on its own
     */
    public boolean count(String address, String method, String path, String userAgent, boolean limited) {
        Instant now = Instant.now();
        long slot = now.toEpochMilli() / interval.toMillis();
        String who = address == null ? "unknown" : address;
        Key key = new Key(who, slot);
        if (!tallies.containsKey(key) && tallies.size() >= maxAddresses) {
            key = new Key(OVERFLOW, slot);
        }
        boolean[] first = new boolean[1];
        tallies.compute(key, (k, tally) -> {
            if (tally == null && !limited) {
                first[0] = true;
                return new Tally(); // the first is recorded on its own; the tally counts the repeats
            }
            Tally t = tally == null ? new Tally() : tally;
            t.count++;
            if (limited) {
                t.limited++;
            }
            if (t.first == null) {
                t.first = now;
                t.userAgent = userAgent == null || userAgent.length() <= 300 ? userAgent : userAgent.substring(0, 300);
            }
            t.last = now;
            if (t.paths.size() < PATHS_KEPT) {
                t.paths.add(method + " " + (path.length() <= 200 ? path : path.substring(0, 200)));
            }
            return t;
        });
        return first[0];
    }

    /** Records every interval that has ended ({@code all}: also the current one). */
    public synchronized void flush(boolean all) {
        long current = Instant.now().toEpochMilli() / interval.toMillis();
        for (Key key : tallies.keySet()) {
            if (!all && key.slot() >= current) {
                continue;
            }
            Tally t = tallies.remove(key);
            if (t == null || t.count == 0) {
                continue;
            }
            try {
                record(key, t);
            } catch (RuntimeException e) {
                log.error("could not record {} requests without valid credentials from {} in the audit trail",
                        t.count, key.address(), e);
            }
        }
    }

    private void record(Key key, Tally t) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("requests", Long.toString(t.count));
        details.put("rateLimited", Long.toString(t.limited));
        details.put("from", t.first.toString());
        details.put("to", t.last.toString());
        details.put("paths", String.join(", ", t.paths));
        String error = t.count + " more request" + (t.count == 1 ? "" : "s") + " without valid credentials"
                + (t.limited > 0 ? ", " + t.limited + " of them answered 429 (atelier.security.auth-failure-limit)" : "");
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("actorId", RequestContext.ANONYMOUS);
        metadata.put("actorType", "ANONYMOUS");
        metadata.put("requestId", "auth-failures-" + key.slot());
        metadata.put("clientIp", key.address());
        if (t.userAgent != null) {
            metadata.put("userAgent", t.userAgent);
        }
        recorder.record(new AuditRecordedEvent("authenticate", AuditEntry.REQUESTED, "api", null, AuditEntry.DENIED,
                401, error, details), metadata);
    }

    @Override
    public synchronized void start() {
        flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "audit-anonymous-denials");
            thread.setDaemon(true);
            return thread;
        });
        long every = Math.max(200, Math.min(5000, interval.toMillis() / 4));
        flusher.scheduleWithFixedDelay(() -> flush(false), every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (flusher != null) {
            flusher.shutdownNow();
            flusher = null;
            flush(true);
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return flusher != null;
    }

    /** Stops before the audit recorder's event store (higher phases stop first). */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 2000;
    }
}
