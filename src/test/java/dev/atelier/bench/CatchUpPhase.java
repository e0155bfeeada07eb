package dev.atelier.bench;

import org.axonframework.eventhandling.StreamingEventProcessor;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Issue phase 3. Fills the event store up to {@code bench.events} events and rebuilds projections from all of them,
 * against a raw sequential read of the event table in the same run.
 *
 * <p>The events are the engine's own: every workspace event the earlier phases stored through the engine is copied
 * server-side ({@code INSERT … SELECT}) as often as needed, each copy under a new workspace id (replaced in the
 * aggregate id and inside the JSON payload) and with new event ids, in the original order — correctly serialized
 * Axon events of realistic lifecycles, made in seconds instead of hours. Before that every tracking processor is
 * shut down (the copies must not start sagas or idle decisions), so this phase runs last.
 *
 * <p>A rebuild is what an operator does (docs/architecture.md): reset the processor's tokens (its reset handler
 * clears its tables), start it, and wait until it has caught up with the head of the store. Pooled projections are
 * replayed the engine's way, with {@code atelier.projections.replay-batch-size} ({@code ProjectionReplays}). It stops at
 * {@code bench.rebuildTimeLimit} and then reports the rate over the part it did.
 */
final class CatchUpPhase implements BenchPhase {

    static final String TITLE = "3 Projection catch-up";

    /**
     * A projection whose rebuild is measured: its processing group, the table whose rows it rebuilds, and, where the
     * projection finishes its work after the processor has handled an event, a query counting what is still to do
     * (null: done when the processor has reached the head).
     */
    record Projection(String processingGroup, String table, String unfinishedSql) {
        Projection(String processingGroup, String table) {
            this(processingGroup, table, null);
        }
    }

    /**
     * The audit trail chains entries in global index order after its processor has staged them (entries wait in
     * audit_pending while a lower index is missing): done when the chain's head has reached the store's head and
     * nothing waits.
     */
    static final List<Projection> PROJECTIONS = List.of(new Projection("workspaces", "workspace_view"),
            new Projection("costs", "cost_interval"),
            new Projection("audit", "audit_entry", "SELECT (SELECT count(*) FROM audit_pending) + CASE WHEN "
                    + "(SELECT last_index FROM audit_chain) < (SELECT max(globalindex) FROM domainevententry) THEN 1 ELSE 0 END"));

    @Override
    public String id() {
        return "catchup";
    }

    @Override
    public String title() {
        return TITLE;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        JdbcTemplate jdbc = run.engine.jdbc();
        run.engine.awaitProcessorsCaughtUp(Duration.ofMinutes(2));
        run.engine.streamingProcessors().values().forEach(StreamingEventProcessor::shutDown);
        Map<String, Object> p = run.report.phase(id());

        long generated = generate(run, jdbc, run.config.events(), p);
        Long total = jdbc.queryForObject("SELECT count(*) FROM domainevententry", Long.class);
        long head = run.engine.headIndex();
        p.put("eventsInStore", total);
        p.put("generated", generated);

        double rawRate = rawRead(run.engine.bean(DataSource.class), head, p);
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "%,d events in the store (%,d copied from the earlier phases' %s); raw sequential read of the event table: %,.0f events/s",
                total, generated, p.get("copiedFrom"), rawRate));

        for (Projection projection : PROJECTIONS) {
            rebuild(run, jdbc, projection, head, total, rawRate);
        }
    }

    private static long generate(BenchRun run, JdbcTemplate jdbc, long target, Map<String, Object> p) {
        Long existing = jdbc.queryForObject("SELECT count(*) FROM domainevententry", Long.class);
        long needed = target - (existing == null ? 0 : existing);
        jdbc.execute("DROP TABLE IF EXISTS bench_event_template");
        jdbc.execute("""
                CREATE TABLE bench_event_template AS SELECT globalindex, aggregateidentifier, sequencenumber, type,
                    metadata, payload, payloadrevision, payloadtype, timestamp
                FROM domainevententry WHERE type = 'Workspace'""");
        Long templateSize = jdbc.queryForObject("SELECT count(*) FROM bench_event_template", Long.class);
        Long workspaces = jdbc.queryForObject("SELECT count(DISTINCT aggregateidentifier) FROM bench_event_template", Long.class);
        p.put("copiedFrom", String.format(java.util.Locale.ROOT, "%,d events of %,d workspaces", templateSize, workspaces));
        if (needed <= 0 || templateSize == null || templateSize == 0) {
            return 0;
        }
        BenchRun.log("catchup: generating %,d events from %,d workspace events", needed, templateSize);
        long start = System.nanoTime();
        long done = 0;
        for (int copy = 1; done < needed; copy++) {
            long rows = Math.min(templateSize, needed - done);
            done += jdbc.update("""
                    INSERT INTO domainevententry (aggregateidentifier, sequencenumber, type, eventidentifier, metadata,
                        payload, payloadrevision, payloadtype, timestamp)
                    SELECT c.id, t.sequencenumber, t.type, gen_random_uuid()::text, t.metadata,
                        convert_to(replace(convert_from(t.payload, 'UTF8'), t.aggregateidentifier, c.id), 'UTF8'),
                        t.payloadrevision, t.payloadtype, t.timestamp
                    FROM bench_event_template t
                    CROSS JOIN LATERAL (SELECT md5(t.aggregateidentifier || ':' || ?)::uuid::text AS id) c
                    ORDER BY t.globalindex
                    LIMIT ?""", copy, rows);
        }
        jdbc.execute("DROP TABLE bench_event_template");
        jdbc.execute("ANALYZE domainevententry");
        double seconds = BenchRun.seconds(System.nanoTime() - start);
        p.put("generateSeconds", Report.round(seconds));
        BenchRun.log("catchup: generated %,d events in %.1f s", done, seconds);
        return done;
    }

    /** Every column of every event in order, as a tracking processor reads them, with nothing done with them. */
    private static double rawRead(DataSource dataSource, long head, Map<String, Object> p) throws Exception {
        long rows = 0;
        long bytes = 0;
        long start = System.nanoTime();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement("SELECT globalindex, aggregateidentifier, sequencenumber, type, "
                    + "eventidentifier, metadata, payload, payloadrevision, payloadtype, timestamp FROM domainevententry "
                    + "WHERE globalindex <= ? ORDER BY globalindex")) {
                s.setFetchSize(1000);
                s.setLong(1, head);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        rs.getLong(1);
                        bytes += rs.getString(2).length();
                        rs.getLong(3);
                        rs.getString(4);
                        bytes += rs.getString(5).length();
                        byte[] metadata = rs.getBytes(6);
                        bytes += metadata == null ? 0 : metadata.length;
                        bytes += rs.getBytes(7).length;
                        rs.getString(8);
                        rs.getString(9);
                        rs.getString(10);
                        rows++;
                    }
                }
            }
            c.commit();
        }
        double seconds = BenchRun.seconds(System.nanoTime() - start);
        double rate = rows / seconds;
        p.put("rawRead", Benchmark.map("events", rows, "seconds", Report.round(seconds), "eventsPerSecond", Report.round(rate),
                "megabytes", Report.round(bytes / 1e6)));
        BenchRun.log("catchup: raw read of %,d events in %.1f s (%.0f/s)", rows, seconds, rate);
        return rate;
    }

    private static long unfinished(JdbcTemplate jdbc, Projection projection) {
        if (projection.unfinishedSql() == null) {
            return 0;
        }
        Long n = jdbc.queryForObject(projection.unfinishedSql(), Long.class);
        return n == null ? 0 : n;
    }

    private static void rebuild(BenchRun run, JdbcTemplate jdbc, Projection projection, long head, long total,
                                double rawRate) {
        StreamingEventProcessor processor = run.engine.processor(projection.processingGroup());
        BenchRun.log("catchup: rebuilding %s from %,d events (limit %s)", projection.processingGroup(), total,
                run.config.rebuildTimeLimit());
        long start = System.nanoTime();
        // Pooled projections are rebuilt as the engine does it, in replay-size batches (ProjectionReplays); the
        // replay processor stops by itself once it has reached the head.
        dev.atelier.config.ProjectionReplays replays = run.engine.context.getBean(dev.atelier.config.ProjectionReplays.class);
        boolean pooled = processor instanceof org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
        if (pooled) {
            processor = replays.replay(projection.processingGroup());
        } else {
            processor.resetTokens();
            processor.start();
        }
        long limit = start + run.config.rebuildTimeLimit().toNanos();
        long position;
        while (((position = pooled && replays.replaying(projection.processingGroup()).isEmpty() ? head
                : BenchEngine.position(processor)) < head || unfinished(jdbc, projection) > 0)
                && System.nanoTime() < limit) {
            if (processor.isError()) {
                throw new IllegalStateException("processor " + projection.processingGroup() + " failed during the rebuild");
            }
            BenchEngine.sleep(100);
        }
        long elapsed = System.nanoTime() - start;
        processor.shutDown();
        boolean complete = position >= head && unfinished(jdbc, projection) == 0;
        Long handled = jdbc.queryForObject("SELECT count(*) FROM domainevententry WHERE globalindex <= ?", Long.class,
                Math.max(position, 0));
        long events = handled == null ? 0 : handled;
        double rate = events / BenchRun.seconds(elapsed);
        Long rows = jdbc.queryForObject("SELECT count(*) FROM " + projection.table(), Long.class);
        double ratio = rate / rawRate;
        Map<String, Object> r = Benchmark.map("events", events, "complete", complete, "seconds",
                Report.round(BenchRun.seconds(elapsed)), "eventsPerSecond", Report.round(rate), "rows", rows,
                "ratioToRawRead", Report.round(ratio));
        run.report.phase("catchup").put("rebuild." + projection.processingGroup(), r);
        String extent = complete ? "all " + String.format(java.util.Locale.ROOT, "%,d", events) + " events"
                : String.format(java.util.Locale.ROOT, "%,d of %,d events before the %s limit (about %.0f s for all)",
                events, total, run.config.rebuildTimeLimit(), total / Math.max(rate, 1e-9));
        run.report.atLeast("rebuild." + projection.processingGroup(), "Rebuild of the " + projection.processingGroup()
                        + " projection vs raw read", "≥ 50% of raw", 50, ratio * 100, "%",
                String.format(java.util.Locale.ROOT, "%,.0f vs %,.0f events/s", rate, rawRate));
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "rebuild of `%s`: %s in %.1f s → %,.0f events/s (%,d rows), %.1f%% of the raw read",
                projection.processingGroup(), extent, BenchRun.seconds(elapsed), rate, rows, ratio * 100));
        BenchRun.log("catchup: %s rebuilt %,d events at %.0f/s (%s), ratio %.3f", projection.processingGroup(), events,
                rate, complete ? "complete" : "time limit", ratio);
    }
}
