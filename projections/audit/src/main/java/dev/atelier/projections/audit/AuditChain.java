package dev.atelier.projections.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Appends entries to the hash chain. Events reach the audit processor in the order their transactions commit,
 * which is not always the event store's global order (a transaction that took index 10 may commit after the one
 * that took 11). A rebuild reads the store in global order; to produce the same chain, entries wait in
 * {@code audit_pending} and are appended strictly in global index order: an entry whose predecessor index has not
 * been seen waits until that index is delivered, or, if no such event is visible, until {@code gap-timeout} has
 * passed (its transaction rolled back; the same assumption Axon's own gap handling makes).
 * <p>
 * One writer at a time on any number of nodes: appending locks the chain's head row. Must run in a transaction.
 */
@Component
public class AuditChain {

    static final String ZERO_HASH = "0".repeat(64);
    private static final Logger log = LoggerFactory.getLogger(AuditChain.class);
    private static final int PAGE = 500;
    private static final TypeReference<Map<String, String>> STATE = new TypeReference<>() {
    };

    private final JdbcTemplate jdbc;
    private final ObjectMapper drafts;
    private final Duration gapTimeout;
    private final Duration undeliveredTimeout;

    public AuditChain(JdbcTemplate jdbc, @Value("${atelier.audit.gap-timeout:PT10S}") Duration gapTimeout) {
        this.jdbc = jdbc;
        this.drafts = AuditEntryFactory.VALUES;
        this.gapTimeout = gapTimeout;
        // A committed event the processor has not delivered by then will not be (Axon dropped it): go on without it.
        this.undeliveredTimeout = gapTimeout.multipliedBy(10);
    }

    record Head(long lastSeq, String lastHash, long lastIndex) {
    }

    private record Pending(long index, double waitedSeconds, String draft) {
    }

    private record ResourceKey(String type, String id) {
    }

    void stage(AuditDraft draft) {
        jdbc.update("""
                        INSERT INTO audit_pending (global_index, staged_at, draft) VALUES (?, clock_timestamp(), ?)
                        ON CONFLICT (global_index) DO NOTHING""",
                draft.eventIndex(), write(draft));
    }

    boolean alreadyChained(String eventId) {
        return Boolean.TRUE.equals(jdbc.queryForObject(
                "SELECT EXISTS (SELECT 1 FROM audit_entry WHERE event_id = ?)", Boolean.class, eventId));
    }

    Head head() {
        return jdbc.queryForObject("SELECT last_seq, last_hash, last_index FROM audit_chain WHERE id = 1",
                (rs, i) -> new Head(rs.getLong(1), rs.getString(2), rs.getLong(3)));
    }

    /** Locks the head (other writers wait) and returns it. */
    Head lockHead() {
        return jdbc.queryForObject("SELECT last_seq, last_hash, last_index FROM audit_chain WHERE id = 1 FOR UPDATE",
                (rs, i) -> new Head(rs.getLong(1), rs.getString(2), rs.getLong(3)));
    }

    /**
     * Appends every pending entry whose turn has come.
     *
     * @return how many entries were appended
     */
    public int seal() {
        Head head = lockHead();
        NavigableMap<Long, String> checkpoints = new TreeMap<>();
        jdbc.query("SELECT seq, hash FROM audit_checkpoint", rs -> {
            checkpoints.put(rs.getLong(1), rs.getString(2));
        });
        long purgedThrough = checkpoints.isEmpty() ? 0 : checkpoints.lastKey();
        Map<ResourceKey, Map<String, String>> states = new HashMap<>();
        Set<ResourceKey> changed = new HashSet<>();
        int sealed = 0;
        boolean blocked = false;
        while (!blocked) {
            List<Pending> page = jdbc.query("""
                            SELECT global_index, EXTRACT(EPOCH FROM clock_timestamp() - staged_at) AS waited, draft
                            FROM audit_pending ORDER BY global_index LIMIT ?""",
                    (rs, i) -> new Pending(rs.getLong(1), rs.getDouble(2), rs.getString(3)), PAGE);
            List<Object[]> inserts = new ArrayList<>();
            List<Object[]> done = new ArrayList<>();
            for (Pending pending : page) {
                if (pending.index() > head.lastIndex() + 1 && !gapSettled(head, pending)) {
                    log.debug("audit: entry of event {} waits for events {} to {}", pending.index(),
                            head.lastIndex() + 1, pending.index() - 1);
                    blocked = true;
                    break;
                }
                if (pending.index() <= head.lastIndex()) {
                    log.warn("audit: event {} arrived after index {} was already chained (its transaction took longer "
                            + "than atelier.audit.gap-timeout={}); it is appended now, a rebuild will place it "
                            + "earlier", pending.index(), head.lastIndex(), gapTimeout);
                }
                AuditDraft draft = read(pending.draft());
                ResourceKey key = draft.resourceId() == null ? null : new ResourceKey(draft.resourceType(), draft.resourceId());
                Map<String, String> state = key == null ? new TreeMap<>() : states.computeIfAbsent(key, this::loadState);
                AuditEntry entry = chain(draft, state, head);
                if (key != null && (!draft.set().isEmpty() || !draft.replace().isEmpty())) {
                    changed.add(key);
                }
                if (entry.seq() > purgedThrough) {
                    inserts.add(AuditRows.values(entry));
                } else if (checkpoints.containsKey(entry.seq()) && !checkpoints.get(entry.seq()).equals(entry.hash())) {
                    log.error("audit: rebuilt entry {} has hash {} but the signed checkpoint says {}: the event store "
                            + "does not hold what the purged trail held", entry.seq(), entry.hash(),
                            checkpoints.get(entry.seq()));
                }
                done.add(new Object[]{pending.index()});
                head = new Head(entry.seq(), entry.hash(), Math.max(head.lastIndex(), pending.index()));
                sealed++;
            }
            if (!inserts.isEmpty()) {
                jdbc.batchUpdate(AuditRows.INSERT, inserts);
            }
            if (!done.isEmpty()) {
                jdbc.batchUpdate("DELETE FROM audit_pending WHERE global_index = ?", done);
            }
            if (page.size() < PAGE) {
                break;
            }
        }
        if (sealed > 0) {
            for (ResourceKey key : changed) {
                jdbc.update("""
                                INSERT INTO audit_resource (resource_type, resource_id, state) VALUES (?, ?, ?)
                                ON CONFLICT (resource_type, resource_id) DO UPDATE SET state = EXCLUDED.state""",
                        key.type(), key.id(), write(states.get(key)));
            }
            jdbc.update("UPDATE audit_chain SET last_seq = ?, last_hash = ?, last_index = ?, updated_at = now() WHERE id = 1",
                    head.lastSeq(), head.lastHash(), head.lastIndex());
        }
        return sealed;
    }

    /** Clears the trail for a rebuild from the event store (signed checkpoints stay). */
    void clearForRebuild() {
        lockHead();
        jdbc.queryForObject("SELECT set_config('atelier.audit_maintenance', 'rebuild', true)", String.class);
        int removed = jdbc.update("DELETE FROM audit_entry");
        jdbc.queryForObject("SELECT set_config('atelier.audit_maintenance', '', true)", String.class);
        jdbc.update("DELETE FROM audit_pending");
        jdbc.update("DELETE FROM audit_resource");
        jdbc.update("DELETE FROM audit_gap");
        jdbc.update("UPDATE audit_chain SET last_seq = 0, last_hash = ?, last_index = 0, updated_at = now() WHERE id = 1",
                ZERO_HASH);
        log.info("audit: trail cleared for a rebuild from the event store ({} entries removed)", removed);
    }

    /** The entry for the draft at the end of the chain; updates the resource state it diffs against. */
    static AuditEntry chain(AuditDraft draft, Map<String, String> state, Head head) {
        Set<String> touched = new TreeSet<>(draft.set().keySet());
        for (String prefix : draft.replace()) {
            state.keySet().stream().filter(k -> k.startsWith(prefix)).forEach(touched::add);
        }
        Map<String, String> before = new HashMap<>(state);
        for (String prefix : draft.replace()) {
            state.keySet().removeIf(k -> k.startsWith(prefix));
        }
        state.putAll(draft.set());
        Map<String, AuditEntry.Change> diff = new TreeMap<>();
        for (String path : touched) {
            String old = before.get(path);
            String now = state.get(path);
            if (!path.startsWith("_") && !Objects.equals(old, now)) {
                diff.put(path, new AuditEntry.Change(AuditSecrets.visible(old), AuditSecrets.visible(now)));
            }
        }
        String name = draft.resourceName() != null ? draft.resourceName() : state.get("name");
        String reason = draft.reason();
        if (reason == null && draft.buildNumber() != null
                && Long.toString(draft.buildNumber()).equals(state.get(AuditEntryFactory.BUILD))) {
            reason = state.get(AuditEntryFactory.REASON);
        }
        AuditEntry entry = new AuditEntry(head.lastSeq() + 1, draft.time(), draft.actorId(), draft.actorType(),
                draft.action(), draft.phase(), draft.resourceType(), draft.resourceId(), name, draft.outcome(), reason,
                draft.buildNumber(), draft.statusCode(), draft.error(), draft.requestId(), draft.clientIp(),
                draft.userAgent(), draft.tokenId(), diff.isEmpty() ? null : diff, draft.details().isEmpty() ? null : draft.details(),
                draft.eventId(), draft.eventIndex(), head.lastHash(), null);
        return entry.withHash(entry.computeHash());
    }

    private boolean gapSettled(Head head, Pending pending) {
        long lastIndex = head.lastIndex();
        Long committed = jdbc.queryForObject(
                "SELECT count(*) FROM domainevententry WHERE globalindex > ? AND globalindex < ?",
                Long.class, lastIndex, pending.index());
        if (committed == null || committed == 0) {
            // No committed event in between: rolled back, or still committing. Give the latter gap-timeout.
            return pending.waitedSeconds() >= gapTimeout.toMillis() / 1000.0;
        }
        // Events the audit processor parked in its dead-letter queue (docs/operations.md), or that an operator evicted
        // from it (already in audit_gap): the chain goes on without them at once, and audit_gap keeps each one
        // visible (status, verify) until it is chained.
        List<Object[]> parked = jdbc.query("""
                        SELECT e.globalindex, e.eventidentifier FROM domainevententry e
                        WHERE e.globalindex > ? AND e.globalindex < ? AND (EXISTS (SELECT 1 FROM deadletterentry l
                            WHERE l.eventidentifier = e.eventidentifier AND l.processinggroup = ?)
                            OR EXISTS (SELECT 1 FROM audit_gap g WHERE g.event_index = e.globalindex))""",
                (rs, i) -> new Object[]{rs.getLong(1), rs.getString(2)}, lastIndex, pending.index(),
                AuditProjection.PROCESSING_GROUP);
        if (!parked.isEmpty() && parked.size() == committed) {
            boolean everyIndexVisible = committed == pending.index() - lastIndex - 1;
            if (everyIndexVisible || pending.waitedSeconds() >= gapTimeout.toMillis() / 1000.0) {
                noteGaps(parked, head.lastSeq());
                return true;
            }
            return false;
        }
        if (pending.waitedSeconds() >= undeliveredTimeout.toMillis() / 1000.0) {
            noteGaps(parked, head.lastSeq());
            log.warn("audit: events between index {} and {} are in the event store but were not delivered to the "
                    + "audit processor within {}; chaining on without them", lastIndex, pending.index(),
                    undeliveredTimeout);
            return true;
        }
        return false;
    }

    private void noteGaps(List<Object[]> parked, long afterSeq) {
        for (Object[] gap : parked) {
            noteGap((Long) gap[0], (String) gap[1], afterSeq);
        }
        if (!parked.isEmpty()) {
            log.warn("audit: {} event(s) parked in the audit dead-letter queue; the chain goes on after entry {} "
                    + "without them (GET /api/v1/audit/status lists the gaps)", parked.size(), afterSeq);
        }
    }

    /** Remembers an event the chain went on without (until it is chained after a retry). */
    void noteGap(long eventIndex, String eventId, long afterSeq) {
        jdbc.update("""
                        INSERT INTO audit_gap (event_index, event_id, after_seq, noticed_at) VALUES (?, ?, ?, now())
                        ON CONFLICT (event_index) DO NOTHING""", eventIndex, eventId, afterSeq);
    }

    private Map<String, String> loadState(ResourceKey key) {
        List<String> found = jdbc.queryForList(
                "SELECT state FROM audit_resource WHERE resource_type = ? AND resource_id = ?", String.class,
                key.type(), key.id());
        return found.isEmpty() ? new TreeMap<>() : new TreeMap<>(AuditRows.read(found.get(0), STATE));
    }

    private String write(Object value) {
        try {
            return drafts.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private AuditDraft read(String json) {
        try {
            return drafts.readValue(json, AuditDraft.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable pending audit entry: " + e.getOriginalMessage(), e);
        }
    }
}
