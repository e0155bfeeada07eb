package dev.atelier.bench;

import com.github.kagkarlsson.scheduler.Scheduler;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Issue phase 6, second half: M workspaces that become idle at the same instant, and how long the engine takes from
 * that deadline to each workspace being STOPPED (reason IDLE) and visible on the watch stream.
 *
 * <p>The engine warns before an idle stop ({@code idleWarning}, at most half the idle timeout) and then stops at the
 * announced time. To make the deadlines of all M coincide, the benchmark holds the deadline scheduler (db-scheduler)
 * while the workspaces are created and again once they are all warned, and releases it when every deadline is due:
 * from that instant on, everything measured is the engine's normal path (deadline fires, aggregate decides, stop
 * transition, saga, provider, projection, SSE).
 */
final class IdleStopPhase implements BenchPhase {

    static final String TITLE = "6b Idle stop";

    @Override
    public String id() {
        return "idle";
    }

    @Override
    public String title() {
        return TITLE;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int m = run.config.idleWorkspaces();
        Duration idle = run.config.idleTimeout();
        Duration warning = idle.dividedBy(2).compareTo(Duration.ofMinutes(5)) < 0 ? idle.dividedBy(2) : Duration.ofMinutes(5);
        String template = run.createTemplate("bench-idle", "{\"idleTimeout\":\"" + idle + "\"}");
        Scheduler scheduler = run.engine.bean(Scheduler.class);
        StatusBoard board = new StatusBoard();
        try (SseStream stream = SseStream.open(run.http, run.engine.baseUrl(), "/api/v1/workspaces/watch", run.admin(), board)) {
            run.awaitStreamsLive(List.of(stream), Duration.ofSeconds(60));
            scheduler.pause();
            BenchRun.log("idle: deadline scheduler held; creating %d workspaces with idleTimeout %s", m, idle);
            List<String> ids;
            try {
                ids = run.createWorkspacesInProcess(template, "idle", m, 8);
                board.awaitAll(ids, "RUNNING", Duration.ofMinutes(3));
            } catch (Exception e) {
                scheduler.resume();
                throw e;
            }
            // Their first idle checks are due idleTimeout - warning after the start completed.
            BenchEngine.sleep(idle.minus(warning).toMillis() + 500);
            long r1 = System.nanoTime();
            scheduler.resume();
            BenchRun.log("idle: %d idle checks due at once, released", m);
            long pauseBy = r1 + warning.toNanos() - 500_000_000L;
            int warned = 0;
            while (System.nanoTime() < pauseBy) {
                warned = count(run, template, "auto_stop_at IS NOT NULL");
                if (warned >= m) {
                    break;
                }
                BenchEngine.sleep(50);
            }
            scheduler.pause();
            double warnSeconds = BenchRun.seconds(System.nanoTime() - r1);
            warned = count(run, template, "auto_stop_at IS NOT NULL");
            int stoppedEarly = count(run, template, "status <> 'RUNNING'");
            BenchRun.log("idle: %d of %d warned within %.1f s (%d already stopping); holding until every stop is due",
                    warned, m, warnSeconds, stoppedEarly);
            Timestamp latest = run.engine.jdbc().queryForObject(
                    "SELECT max(auto_stop_at) FROM workspace_view WHERE template_id = ?", Timestamp.class, template);
            long waitMillis = latest == null ? 0 : Duration.between(Instant.now(), latest.toInstant()).toMillis() + 200;
            BenchEngine.sleep(Math.max(0, waitMillis));
            List<String> due = run.engine.jdbc().queryForList("SELECT id FROM workspace_view WHERE template_id = ? "
                    + "AND status = 'RUNNING' AND auto_stop_at IS NOT NULL AND auto_stop_at <= now()", String.class, template);
            long r2 = System.nanoTime();
            scheduler.resume();
            BenchRun.log("idle: %d stop deadlines due at once, released", due.size());
            board.awaitAll(due, "STOPPED", Duration.ofMinutes(3));
            double makespan = BenchRun.seconds(System.nanoTime() - r2);
            Stats.Samples lag = new Stats.Samples();
            for (String id : due) {
                lag.add(board.seenAt(id, "STOPPED") - r2);
            }
            int idleReason = count(run, template, "status = 'STOPPED' AND last_reason = 'IDLE'");
            Stats.Summary s = lag.summary();
            Map<String, Object> p = run.report.phase(id());
            p.put("workspaces", m);
            p.put("idleTimeout", idle.toString());
            p.put("idleWarning", warning.toString());
            p.put("idleChecksSeconds", Report.round(warnSeconds));
            p.put("warned", warned);
            p.put("stopDeadlinesAtOnce", due.size());
            p.put("stoppedForIdle", idleReason);
            p.put("deadlineToStoppedVisible", s.toMap());
            p.put("allStoppedSeconds", Report.round(makespan));
            p.put("stopsPerSecond", Report.round(due.size() / makespan));
            run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                    "%,d workspaces idle at once (idleTimeout %s, warning %s): %,d idle checks → warnings in %.1f s; "
                            + "%,d stop deadlines due at the same instant → all STOPPED (reason IDLE: %,d) and visible in %.1f s "
                            + "(%.0f stops/s)", m, idle, warning, warned, warnSeconds, due.size(), idleReason, makespan,
                    due.size() / makespan));
            run.report.line(TITLE, "idle deadline → STOPPED visible on the watch stream: " + s);
            BenchRun.log("idle: all %d stopped %.1f s after their deadline; %s", due.size(), makespan, s);
        } finally {
            scheduler.resume();
        }
    }

    private static int count(BenchRun run, String template, String condition) {
        Integer n = run.engine.jdbc().queryForObject("SELECT count(*) FROM workspace_view WHERE template_id = ? AND "
                + condition, Integer.class, template);
        return n == null ? 0 : n;
    }
}
