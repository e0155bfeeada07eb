package dev.atelier.projections.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.atelier.audit.AuditRecorder;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The audit trail as the API layer uses it: query, verify, purge, rebuild, status. (Export streams: {@link AuditExport}.)
 */
@Component
public class AuditTrail {

    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
    private static final int VERIFY_FETCH = 1000;

    private final JdbcTemplate jdbc;
    private final JdbcTemplate streaming;
    private final TransactionTemplate snapshot;
    private final TransactionTemplate writing;
    private final AuditKeys keys;
    private final AuditRecorder recorder;
    private final EventProcessingConfiguration processing;

    public AuditTrail(JdbcTemplate jdbc, DataSource dataSource, PlatformTransactionManager transactions,
                      AuditKeys keys, AuditRecorder recorder, EventProcessingConfiguration processing) {
        this.jdbc = jdbc;
        this.streaming = new JdbcTemplate(dataSource);
        this.streaming.setFetchSize(VERIFY_FETCH);
        this.snapshot = new TransactionTemplate(transactions);
        this.snapshot.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
        this.snapshot.setReadOnly(true);
        this.writing = new TransactionTemplate(transactions);
        this.keys = keys;
        this.recorder = recorder;
        this.processing = processing;
    }

    public record Page(List<AuditEntry> entries, String nextCursor) {
    }

    /** @throws IllegalArgumentException when the cursor is not one this API gave out */
    public static void checkCursor(String cursor) {
        if (cursor != null) {
            Cursors.decode(cursor);
        }
    }

    /** A page of entries, newest first unless {@code ascending}; {@code cursor} is the previous page's nextCursor. */
    public Page page(AuditFilter filter, int limit, String cursor, boolean ascending) {
        Long after = cursor == null ? null : Cursors.decode(cursor);
        AuditFilter.Sql query = timeRangeFirst(filter, ascending)
                ? filter.selectTimeRangeFirst(after, ascending, limit + 1)
                : filter.select(after, ascending, limit + 1);
        List<AuditEntry> rows = jdbc.query(query.conditions(), (rs, i) -> AuditRows.read(rs), query.args().toArray());
        String next = null;
        if (rows.size() > limit) {
            rows = rows.subList(0, limit);
            next = Cursors.encode(rows.get(rows.size() - 1).seq());
        }
        return new Page(List.copyOf(rows), next);
    }

    /**
     * Whether a page is read time range first ({@link AuditFilter#selectTimeRangeFirst}): when at least
     * {@value #TIME_RANGE_FIRST_BEYOND} entries lie between the range and the end the page starts from, which a scan
     * in {@code seq} order would read and drop (at 1M entries, a one-day range a month back took 0.3 s that way and
     * 4 ms range first). A range that reaches that end is read in {@code seq} order: its first entries are the first
     * ones there.
     */
    boolean timeRangeFirst(AuditFilter filter, boolean ascending) {
        AuditFilter.Sql probe = filter.beyondTimeRange(ascending, TIME_RANGE_FIRST_BEYOND);
        if (probe == null) {
            return false;
        }
        Long beyond = jdbc.queryForObject(probe.conditions(), Long.class, probe.args().toArray());
        return beyond != null && beyond >= TIME_RANGE_FIRST_BEYOND;
    }

    static final int TIME_RANGE_FIRST_BEYOND = 10_000;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Verification(boolean valid, long entries, Long firstBrokenAt, String problem, Long firstSeq,
                               long lastSeq, String headHash, Checkpoint checkpoint, SignedHead signedHead,
                               Anchor anchor, String publicKey, Boolean complete, List<Gap> gaps) {
    }

    /**
     * An event of the event store that the chain went on without: parked in the audit processor's dead-letter queue
     * ({@code parked}: still there, a retry can chain it) or evicted from it. {@code afterSeq}: the chain's last entry
     * when the gap was noticed.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Gap(long eventIndex, String eventId, Long afterSeq, boolean parked, String deadLetterId) {
    }

    /**
     * Events of the store that are not in the chain because the audit processor parked them (or they were evicted
     * from its dead-letter queue), oldest first. Empty when the trail is complete.
     */
    public List<Gap> gaps() {
        return jdbc.query("""
                        SELECT coalesce(g.event_index, e.globalindex) AS event_index,
                               coalesce(g.event_id, l.eventidentifier) AS event_id, g.after_seq,
                               l.deadletteridentifier
                        FROM audit_gap g
                        FULL OUTER JOIN (deadletterentry l JOIN domainevententry e ON e.eventidentifier = l.eventidentifier
                                         AND l.processinggroup = ?)
                            ON g.event_id = l.eventidentifier
                        WHERE (l.deadletteridentifier IS NOT NULL OR g.event_index IS NOT NULL)
                          AND NOT EXISTS (SELECT 1 FROM audit_entry a
                                          WHERE a.event_id = coalesce(g.event_id, l.eventidentifier))
                        ORDER BY 1 LIMIT 1000""",
                (rs, i) -> {
                    long afterSeq = rs.getLong("after_seq");
                    Long after = rs.wasNull() ? null : afterSeq;
                    String letter = rs.getString("deadletteridentifier");
                    return new Gap(rs.getLong("event_index"), rs.getString("event_id"), after, letter != null, letter);
                }, AuditProjection.PROCESSING_GROUP);
    }

    /** Records a gap for an event whose dead letter is about to be evicted (so that it stays visible). */
    public void noteGap(long eventIndex, String eventId) {
        Long head = jdbc.queryForObject("SELECT last_seq FROM audit_chain WHERE id = 1", Long.class);
        jdbc.update("""
                        INSERT INTO audit_gap (event_index, event_id, after_seq, noticed_at) VALUES (?, ?, ?, now())
                        ON CONFLICT (event_index) DO NOTHING""", eventIndex, eventId, head == null ? 0 : head);
    }

    /** Where the remaining chain starts after a purge, signed when the purge happened. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Checkpoint(long seq, String hash, Instant entryTime, long firstSeq, Instant purgedBefore,
                             long entries, Instant createdAt, String createdBy, String requestId, String signature,
                             boolean signatureValid) {

        Map<String, Object> signedContent() {
            Map<String, Object> content = new LinkedHashMap<>();
            content.put("seq", seq);
            content.put("hash", hash);
            content.put("entryTime", AuditEntry.formatTime(entryTime));
            content.put("firstSeq", firstSeq);
            content.put("purgedBefore", AuditEntry.formatTime(purgedBefore));
            content.put("entries", entries);
            content.put("createdAt", AuditEntry.formatTime(createdAt));
            content.put("createdBy", createdBy);
            content.put("requestId", requestId);
            return content;
        }
    }

    /** The head of the chain at verification time, signed: keep it, and a later verify can prove nothing before it changed. */
    public record SignedHead(long seq, String hash, Instant signedAt, String signature) {
    }

    /** A previously kept head checked against the chain as it is now. */
    public record Anchor(long seq, String hash, boolean matches) {
    }

    /**
     * Recomputes the chain (from the latest signed checkpoint, if a purge happened) on one consistent snapshot:
     * every hash, every link to the previous entry, no missing sequence number, nothing cut off at the end.
     *
     * @param anchorSeq  optional: a seq of a head kept earlier, checked to still have {@code anchorHash}
     */
    public Verification verify(Long anchorSeq, String anchorHash) {
        return snapshot.execute(status -> {
            List<Checkpoint> checkpoints = checkpoints();
            AuditChain.Head head = jdbc.queryForObject("SELECT last_seq, last_hash, last_index FROM audit_chain WHERE id = 1",
                    (rs, i) -> new AuditChain.Head(rs.getLong(1), rs.getString(2), rs.getLong(3)));
            Checkpoint latest = checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
            Walk walk = new Walk(latest == null ? 1 : latest.seq() + 1, latest == null ? AuditChain.ZERO_HASH : latest.hash());
            for (Checkpoint checkpoint : checkpoints) {
                if (!checkpoint.signatureValid()) {
                    walk.broken(checkpoint.seq(), "the signature of the purge checkpoint at entry " + checkpoint.seq()
                            + " is not valid: the checkpoint was altered");
                }
            }
            String[] anchorHashFound = new String[1];
            streaming.query("SELECT " + AuditRows.COLUMNS + " FROM audit_entry WHERE seq >= ? ORDER BY seq",
                    rs -> {
                        AuditEntry entry = AuditRows.read(rs);
                        walk.check(entry);
                        if (anchorSeq != null && entry.seq() == anchorSeq) {
                            anchorHashFound[0] = entry.hash();
                        }
                    }, walk.firstSeq);
            if (head.lastSeq() >= walk.expectedSeq) {
                walk.broken(walk.expectedSeq, "entries " + walk.expectedSeq + " to " + head.lastSeq()
                        + " are missing: the chain's head says it ends at " + head.lastSeq());
            }
            Anchor anchor = null;
            if (anchorSeq != null) {
                String found = anchorHashFound[0];
                if (found == null) {
                    found = checkpoints.stream().filter(c -> c.seq() == anchorSeq).map(Checkpoint::hash).findFirst()
                            .orElse(null);
                }
                boolean matches = found != null && found.equals(anchorHash);
                anchor = new Anchor(anchorSeq, anchorHash, matches);
                if (!matches && found != null) {
                    walk.broken(anchorSeq, "entry " + anchorSeq + " has hash " + found + ", not the kept " + anchorHash
                            + ": the chain was rewritten up to there");
                }
            }
            long lastSeq = walk.expectedSeq - 1;
            String headHash = walk.previousHash;
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            Map<String, Object> signed = new LinkedHashMap<>();
            signed.put("seq", lastSeq);
            signed.put("hash", headHash);
            signed.put("signedAt", AuditEntry.formatTime(now));
            SignedHead signedHead = new SignedHead(lastSeq, headHash, now, keys.sign(CanonicalJson.write(signed)));
            List<Gap> gaps = gaps();
            return new Verification(walk.firstBroken == null, walk.count, walk.firstBroken, walk.problem,
                    walk.count == 0 ? null : walk.firstSeq, lastSeq, headHash, latest, signedHead, anchor,
                    keys.publicKey(), gaps.isEmpty(), gaps.isEmpty() ? null : gaps);
        });
    }

    /** Walks the chain in seq order and remembers the first place it breaks. */
    private static final class Walk {
        final long firstSeq;
        long expectedSeq;
        String previousHash;
        long count;
        Long firstBroken;
        String problem;

        Walk(long firstSeq, String previousHash) {
            this.firstSeq = firstSeq;
            this.expectedSeq = firstSeq;
            this.previousHash = previousHash;
        }

        void check(AuditEntry entry) {
            count++;
            if (entry.seq() != expectedSeq) {
                broken(expectedSeq, entry.seq() > expectedSeq
                        ? "entry " + expectedSeq + (entry.seq() - expectedSeq > 1 ? " to " + (entry.seq() - 1) : "")
                        + " is missing (deleted)" : "entry " + entry.seq() + " appears twice");
            } else if (!entry.hash().equals(entry.computeHash())) {
                broken(entry.seq(), "entry " + entry.seq() + " does not match its hash: its content was altered");
            } else if (!entry.prevHash().equals(previousHash)) {
                broken(entry.seq(), "entry " + entry.seq() + " does not follow the entry before it: entries were "
                        + "reordered, removed or replaced");
            }
            previousHash = entry.hash();
            expectedSeq = entry.seq() + 1;
        }

        void broken(long seq, String what) {
            if (firstBroken == null || seq < firstBroken) {
                firstBroken = seq;
                problem = what;
            }
        }
    }

    List<Checkpoint> checkpoints() {
        return jdbc.query("SELECT * FROM audit_checkpoint ORDER BY seq", (rs, i) -> {
            Checkpoint unsigned = new Checkpoint(rs.getLong("seq"), rs.getString("hash"),
                    rs.getTimestamp("entry_time").toInstant(), rs.getLong("first_seq"),
                    rs.getTimestamp("purged_before").toInstant(), rs.getLong("entries"),
                    rs.getTimestamp("created_at").toInstant(), rs.getString("created_by"), rs.getString("request_id"),
                    rs.getString("signature"), false);
            boolean valid = keys.verify(CanonicalJson.write(unsigned.signedContent()), unsigned.signature());
            return new Checkpoint(unsigned.seq(), unsigned.hash(), unsigned.entryTime(), unsigned.firstSeq(),
                    unsigned.purgedBefore(), unsigned.entries(), unsigned.createdAt(), unsigned.createdBy(),
                    unsigned.requestId(), unsigned.signature(), valid);
        });
    }

    public record Purge(long entries, Long purgedThrough, Checkpoint checkpoint) {
    }

    /** The chain is broken where a purge would cut it: purging would destroy the evidence. */
    public static class ChainBrokenException extends RuntimeException {
        public ChainBrokenException(String message) {
            super(message);
        }
    }

    /**
     * Removes the oldest entries, all of those before {@code before} up to the first entry at or after it (the trail
     * stays a chain), after checking them and writing a signed checkpoint of the last one removed. The purge is
     * itself recorded in the trail (action {@code purge}), in the same transaction.
     */
    public Purge purge(Instant before, String actorId, Map<String, ?> requestMetadata) {
        return purge(before, actorId, requestMetadata, Map.of());
    }

    /** @param extra details the purge's own entry records as well (the retention rule and an override of it) */
    public Purge purge(Instant before, String actorId, Map<String, ?> requestMetadata, Map<String, String> extra) {
        return writing.execute(status -> {
            AuditChain.Head head = jdbc.queryForObject(
                    "SELECT last_seq, last_hash, last_index FROM audit_chain WHERE id = 1 FOR UPDATE",
                    (rs, i) -> new AuditChain.Head(rs.getLong(1), rs.getString(2), rs.getLong(3)));
            List<Checkpoint> checkpoints = checkpoints();
            long firstSeq = checkpoints.isEmpty() ? 1 : checkpoints.get(checkpoints.size() - 1).seq() + 1;
            Long firstKept = jdbc.queryForObject("SELECT min(seq) FROM audit_entry WHERE time >= ?", Long.class,
                    Timestamp.from(before));
            long through = firstKept != null ? firstKept - 1 : head.lastSeq();
            Map<String, String> details = new LinkedHashMap<>();
            details.put("before", before.toString());
            details.putAll(extra);
            if (through < firstSeq) {
                details.put("entries", "0");
                recorder.record(new AuditRecordedEvent("purge", AuditEntry.COMPLETED, "audit", null,
                        AuditEntry.SUCCESS, 200, null, details), requestMetadata);
                return new Purge(0, null, null);
            }
            Verification check = verifyRange(checkpoints, firstSeq, through);
            if (!check.valid()) {
                throw new ChainBrokenException("the audit chain is broken at entry " + check.firstBrokenAt() + " ("
                        + check.problem() + "); a purge would destroy the evidence, investigate with "
                        + "GET /api/v1/audit/verify first");
            }
            AuditEntry last = jdbc.queryForObject("SELECT " + AuditRows.COLUMNS + " FROM audit_entry WHERE seq = ?",
                    (rs, i) -> AuditRows.read(rs), through);
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            String requestId = requestMetadata.get("requestId") == null ? null : requestMetadata.get("requestId").toString();
            Checkpoint unsigned = new Checkpoint(through, last.hash(), last.time(), firstSeq,
                    before.truncatedTo(ChronoUnit.MICROS), through - firstSeq + 1, now, actorId, requestId, null, true);
            String signature = keys.sign(CanonicalJson.write(unsigned.signedContent()));
            jdbc.update("""
                            INSERT INTO audit_checkpoint (seq, hash, entry_time, first_seq, purged_before, entries,
                                created_at, created_by, request_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    through, last.hash(), Timestamp.from(last.time()), firstSeq, Timestamp.from(unsigned.purgedBefore()),
                    unsigned.entries(), Timestamp.from(now), actorId, requestId, signature);
            jdbc.queryForObject("SELECT set_config('atelier.audit_maintenance', 'purge', true)", String.class);
            jdbc.queryForObject("SELECT set_config('atelier.audit_purge_through', ?, true)", String.class,
                    Long.toString(through));
            int removed = jdbc.update("DELETE FROM audit_entry WHERE seq <= ?", through);
            jdbc.queryForObject("SELECT set_config('atelier.audit_maintenance', '', true)", String.class);
            jdbc.queryForObject("SELECT set_config('atelier.audit_purge_through', '', true)", String.class);
            details.put("purgedThrough", Long.toString(through));
            details.put("entries", Integer.toString(removed));
            details.put("checkpointHash", last.hash());
            recorder.record(new AuditRecordedEvent("purge", AuditEntry.COMPLETED, "audit", null, AuditEntry.SUCCESS,
                    200, null, details), requestMetadata);
            log.info("audit: {} purged {} entries ({} to {}) before {}", actorId, removed, firstSeq, through, before);
            Checkpoint checkpoint = new Checkpoint(through, last.hash(), last.time(), firstSeq, unsigned.purgedBefore(),
                    unsigned.entries(), now, actorId, requestId, signature, true);
            return new Purge(removed, through, checkpoint);
        });
    }

    private Verification verifyRange(List<Checkpoint> checkpoints, long firstSeq, long through) {
        String start = checkpoints.isEmpty() ? AuditChain.ZERO_HASH : checkpoints.get(checkpoints.size() - 1).hash();
        Walk walk = new Walk(firstSeq, start);
        streaming.query("SELECT " + AuditRows.COLUMNS + " FROM audit_entry WHERE seq >= ? AND seq <= ? ORDER BY seq",
                rs -> {
                    walk.check(AuditRows.read(rs));
                }, firstSeq, through);
        if (walk.expectedSeq <= through) {
            walk.broken(walk.expectedSeq, "entries " + walk.expectedSeq + " to " + through + " are missing");
        }
        return new Verification(walk.firstBroken == null, walk.count, walk.firstBroken, walk.problem, firstSeq,
                through, walk.previousHash, null, null, null, null, null, null);
    }

    /**
     * @param caughtUp            every event in the store so far is in the chain (nothing pending)
     * @param replaying           Axon's view: the processor has not yet passed the position it had when it was
     *                            reset (it turns false with the first event after that position)
     * @param chainedThroughIndex the event store index the chain has reached
     * @param complete            no event is missing from the chain (see {@code gaps})
     * @param gaps                events the chain went on without: parked in the audit dead-letter queue or evicted
     */
    public record Status(boolean caughtUp, boolean replaying, Long processedIndex, long lastSeq,
                         long chainedThroughIndex, long pending, long eventStoreIndex, boolean complete,
                         List<Gap> gaps) {
    }

    public Status status() {
        AuditChain.Head head = jdbc.queryForObject("SELECT last_seq, last_hash, last_index FROM audit_chain WHERE id = 1",
                (rs, i) -> new AuditChain.Head(rs.getLong(1), rs.getString(2), rs.getLong(3)));
        Long pending = jdbc.queryForObject("SELECT count(*) FROM audit_pending", Long.class);
        Long storeIndex = jdbc.queryForObject("SELECT coalesce(max(globalindex), 0) FROM domainevententry", Long.class);
        boolean replaying = false;
        Long position = null;
        Optional<StreamingEventProcessor> processor = processor();
        if (processor.isPresent()) {
            for (EventTrackerStatus tracker : processor.get().processingStatus().values()) {
                replaying |= tracker.isReplaying();
                if (tracker.getCurrentPosition().isPresent()) {
                    position = tracker.getCurrentPosition().getAsLong();
                }
            }
        }
        long waiting = pending == null ? 0 : pending;
        long store = storeIndex == null ? 0 : storeIndex;
        // Caught up: nothing waits, and every event after the chain's end is one the processor parked.
        Long unchained = head.lastIndex() >= store ? Long.valueOf(0) : jdbc.queryForObject("""
                        SELECT count(*) FROM domainevententry e WHERE e.globalindex > ? AND NOT EXISTS (
                            SELECT 1 FROM deadletterentry l WHERE l.eventidentifier = e.eventidentifier
                            AND l.processinggroup = ?)
                        AND NOT EXISTS (SELECT 1 FROM audit_gap g WHERE g.event_index = e.globalindex)""",
                Long.class, head.lastIndex(),
                AuditProjection.PROCESSING_GROUP);
        List<Gap> gaps = gaps();
        return new Status(waiting == 0 && (unchained == null || unchained == 0), replaying, position, head.lastSeq(),
                head.lastIndex(), waiting, store, gaps.isEmpty(), gaps);
    }

    /**
     * Rebuilds the trail from the event store: stops the {@code audit} processor, resets its token (the reset
     * handler clears the trail but not the signed checkpoints) and starts it again; it then replays every event.
     * On several nodes, the processor must not be running on the others (Axon refuses to reset a claimed token).
     */
    public void rebuild() {
        StreamingEventProcessor processor = processor().orElseThrow(() -> new IllegalStateException(
                "the audit processor is not configured"));
        try {
            processor.shutdownAsync().get(60, TimeUnit.SECONDS);
            processor.resetTokens();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the audit processor", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the audit processor did not stop: " + e.getMessage(), e);
        } finally {
            processor.start();
        }
        log.info("audit: processor reset; the trail is being rebuilt from the event store");
    }

    private Optional<StreamingEventProcessor> processor() {
        return processing.eventProcessor(AuditProjection.PROCESSING_GROUP, StreamingEventProcessor.class);
    }

    /** Keyset cursors: the last seq of a page, opaque to clients. */
    static final class Cursors {
        private Cursors() {
        }

        static String encode(long seq) {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(("s" + seq).getBytes(StandardCharsets.UTF_8));
        }

        static long decode(String cursor) {
            try {
                String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
                if (!raw.startsWith("s")) {
                    throw new IllegalArgumentException();
                }
                return Long.parseLong(raw.substring(1));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("cursor " + dev.atelier.domain.shared.Text.quote(cursor) + " is not valid; use nextCursor of a page");
            }
        }
    }
}
