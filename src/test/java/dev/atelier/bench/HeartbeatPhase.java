package dev.atelier.bench;

import dev.atelier.security.AgentTokens;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Issue phase 6, first half: H running workspaces whose agents heartbeat every interval, as the real agent does
 * (per beat one {@code POST /api/v1/workspaces/{id}/activity} with the workspace's own agent token and its sources,
 * {@code {"sources": {"ssh": n, "agent": 0}}}), spread evenly over the
 * interval. Measures the engine's CPU (process CPU minus the simulated agents' threads) and PostgreSQL's CPU and
 * activity during the window, minus the quieter of two idle baselines of the same engine (before and after).
 */
final class HeartbeatPhase implements BenchPhase {

    static final String TITLE = "6a Heartbeat ingestion";
    /** The issue's scale: 10,000 workspaces, one beat every 30 s, one post per beat. */
    static final double NOMINAL_REQUESTS_PER_SECOND = 10_000 / 30.0;
    private static final int MAX_IN_FLIGHT = 256;

    @Override
    public String id() {
        return "heartbeat";
    }

    @Override
    public String title() {
        return TITLE;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        int h = run.config.heartbeatWorkspaces();
        String template = run.createTemplate("bench-heartbeat", null);
        BenchRun.log("heartbeat: seeding %d running workspaces", h);
        long createStart = System.nanoTime();
        List<String> ids = run.seedRunningWorkspaces(template, "hb", h);
        double createSeconds = BenchRun.seconds(System.nanoTime() - createStart);
        run.report.phase(id()).put("seedSeconds", Report.round(createSeconds));
        BenchRun.log("heartbeat: %d workspaces running after %.1f s", h, createSeconds);

        AgentTokens tokens = run.engine.bean(AgentTokens.class);
        String[] paths = new String[h];
        String[] auth = new String[h];
        for (int i = 0; i < h; i++) {
            paths[i] = "/api/v1/workspaces/" + ids.get(i) + "/activity";
            auth[i] = tokens.issue(ids.get(i), 1);
        }
        run.engine.awaitProcessorsCaughtUp(Duration.ofMinutes(2));
        Duration interval = run.config.heartbeatInterval();
        Duration window = run.config.heartbeatDuration();
        // Warm-up at the same rate (the JIT compiles the heartbeat path), not measured.
        Duration warmup = window.dividedBy(3).compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10) : window.dividedBy(3);
        BenchRun.log("heartbeat: warm-up for %s", warmup);
        beat(run, paths, auth, h, interval, warmup, new Stats.Samples(), new ConcurrentHashMap<>(), new AtomicLong());
        LoadMeter meter = new LoadMeter(run.engine.jdbc(), run.db.wholeServerIsOurs());
        Duration baselineWindow = run.config.mode().equals("full") ? Duration.ofSeconds(5) : Duration.ofSeconds(2);
        BenchEngine.sleep(2500); // the warm-up's last flush
        LoadMeter.Snapshot b0 = meter.snapshot();
        BenchEngine.sleep(baselineWindow.toMillis());
        LoadMeter.Snapshot b1 = meter.snapshot();
        Map<String, Object> baseline = LoadMeter.between(b0, b1);  // replaced below if the one after is quieter

        BenchRun.log("heartbeat: %d workspaces every %s for %s: %.0f posts/s", h, interval, window,
                h / (interval.toNanos() / 1e9));
        Stats.Samples latency = new Stats.Samples();
        Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
        AtomicLong failures = new AtomicLong();
        PhaseProfiler profiler = run.config.profile() ? new PhaseProfiler(run.config.outputDir(), "heartbeat-window") : null;
        LoadMeter.Snapshot s0 = meter.snapshot();
        long start = System.nanoTime();
        long[] sent = beat(run, paths, auth, h, interval, window, latency, statuses, failures);
        long beats = sent[0];
        long maxLate = sent[1];
        long sendSeconds = System.nanoTime() - start;
        // one flush interval later everything sent has been written: count that in the window as well
        BenchEngine.sleep(2500);
        LoadMeter.Snapshot s1 = meter.snapshot();
        if (profiler != null) {
            run.report.profiles.put("heartbeat-window", profiler.stopAndSummarize());
            profiler.close();
        }
        Map<String, Object> load = LoadMeter.between(s0, s1);
        // A second idle baseline after the window; the quieter of the two is subtracted (the one before can still
        // contain the database's own work after seeding, such as autovacuum).
        BenchEngine.sleep(1000);
        LoadMeter.Snapshot a0 = meter.snapshot();
        BenchEngine.sleep(baselineWindow.toMillis());
        Map<String, Object> after = LoadMeter.between(a0, meter.snapshot());
        Map<String, Object> before = baseline;
        if (busy(after) < busy(before)) {
            baseline = after;
        }
        run.report.phase(id()).put("baselineBefore", before);
        run.report.phase(id()).put("baselineAfter", after);
        Integer rows = run.engine.jdbc().queryForObject("SELECT count(*) FROM workspace_activity", Integer.class);

        long requests = beats;
        double windowSeconds = (double) load.get("seconds");
        double achievedRate = requests / BenchRun.seconds(sendSeconds);
        double engineNet = (double) load.get("engineCoreFraction") - (double) baseline.get("engineCoreFraction");
        double postgresNet = (double) load.get("postgresCoreFraction") - (double) baseline.get("postgresCoreFraction");
        double perRequestMs = Math.max(0, engineNet + postgresNet) * windowSeconds / requests * 1000;
        double scale = NOMINAL_REQUESTS_PER_SECOND * windowSeconds / requests;
        double engineAt10k = Math.max(0, engineNet) * scale;
        double totalAt10k = Math.max(0, engineNet + postgresNet) * scale;
        Stats.Summary lat = latency.summary();

        Map<String, Object> p = run.report.phase(id());
        p.put("workspaces", h);
        p.put("interval", interval.toString());
        p.put("window", window.toString());
        p.put("requests", requests);
        p.put("requestsPerSecond", Report.round(achievedRate));
        p.put("maxDispatchLateMs", Report.round(maxLate / 1e6));
        p.put("statuses", statuses);
        p.put("failures", failures.get());
        p.put("latency", lat.toMap());
        p.put("activityRows", rows);
        p.put("baseline", baseline);
        p.put("load", load);
        p.put("engineCoreFractionNet", Report.round(engineNet));
        p.put("postgresCoreFractionNet", Report.round(postgresNet));
        p.put("cpuMsPerHeartbeat", Report.round(perRequestMs));
        p.put("engineCoreFractionAt10k", Report.round(engineAt10k));
        p.put("engineAndPostgresCoreFractionAt10k", Report.round(totalAt10k));
        String scaleNote = h == 10_000 && interval.equals(Duration.ofSeconds(30)) ? "measured at that scale"
                : String.format(java.util.Locale.ROOT, "scaled from %d workspaces every %s", h, interval);
        run.report.atMost("heartbeat.cpu", "Heartbeat ingestion, 10,000 workspaces every 30 s (engine + PostgreSQL CPU)",
                "≤ 10% of one core", 10, totalAt10k * 100, "% of one core",
                String.format(java.util.Locale.ROOT, "engine %.1f%% + PostgreSQL %.1f%%; %s", engineAt10k * 100,
                        (totalAt10k - engineAt10k) * 100, scaleNote));
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "%,d running workspaces (seeded in %.0f s), agents beating every %s for %s: %,d posts at %.0f/s, statuses %s",
                h, createSeconds, interval, window, requests, achievedRate, statuses));
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "CPU during the window minus idle baseline: engine %.1f%% + PostgreSQL %.1f%% of one core (baseline %.1f%% + %.1f%%); "
                        + "%.3f ms CPU per heartbeat; the engine's %.1f CPU s in the window by thread: %s (the rest is the JVM's own: "
                        + "JIT compiler and GC; the JIT was busy for %.1f s of elapsed time)",
                engineNet * 100, postgresNet * 100,
                (double) baseline.get("engineCoreFraction") * 100, (double) baseline.get("postgresCoreFraction") * 100, perRequestMs,
                (double) load.get("engineCpuSeconds"), load.get("cpuSecondsByThread"), (double) load.get("jitSeconds")));
        run.report.line(TITLE, "database per second during the window: " + load.get("databasePerSecond"));
        run.report.line(TITLE, "heartbeat POST latency: " + lat);
        BenchRun.log("heartbeat: %.0f req/s, engine %.1f%% + postgres %.1f%% of a core (net), latency %s", achievedRate,
                engineNet * 100, postgresNet * 100, lat);
    }

    /**
     * Every workspace beats once per interval, spread evenly; each beat is one post like the real agent's. Runs on a
     * client thread ({@code bench-*}) so that its CPU is not counted as the engine's.
     *
     * @return beats sent and the worst lateness of a beat (ns)
     */
    private static long[] beat(BenchRun run, String[] paths, String[] auth, int h, Duration interval, Duration window,
                               Stats.Samples latency, Map<Integer, AtomicLong> statuses, AtomicLong failures)
            throws InterruptedException {
        long beats = Math.max(1, (long) Math.floor((double) window.toNanos() / interval.toNanos() * h));
        double spacing = (double) interval.toNanos() / h;
        Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
        long[] maxLate = new long[1];
        long start = System.nanoTime();
        Thread dispatcher = new Thread(() -> {
            for (long j = 0; j < beats; j++) {
                long wait = start + (long) (j * spacing) - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                } else {
                    maxLate[0] = Math.max(maxLate[0], -wait);
                }
                int w = (int) (j % h);
                int connections = w % 10 == 0 ? 0 : 1;
                post(run, paths[w], auth[w], "{\"sources\":{\"ssh\":" + connections + ",\"agent\":0}}", inFlight,
                        latency, statuses, failures);
            }
        }, "bench-heartbeat");
        dispatcher.start();
        dispatcher.join();
        if (!inFlight.tryAcquire(MAX_IN_FLIGHT, 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("heartbeats still in flight after 60 s");
        }
        return new long[]{beats, maxLate[0]};
    }

    private static void post(BenchRun run, String path, String token, String body, Semaphore inFlight,
                             Stats.Samples latency, Map<Integer, AtomicLong> statuses, AtomicLong failures) {
        inFlight.acquireUninterruptibly();
        run.http.sendAsync("POST", path, token, body).whenComplete((r, e) -> {
            inFlight.release();
            if (e != null) {
                failures.incrementAndGet();
                return;
            }
            latency.add(r.latencyNanos());
            statuses.computeIfAbsent(r.status(), k -> new AtomicLong()).incrementAndGet();
        });
    }

    private static double busy(Map<String, Object> load) {
        return (double) load.get("engineCoreFraction") + (double) load.get("postgresCoreFraction");
    }

    static void awaitRunning(BenchRun run, String template, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Integer running = run.engine.jdbc().queryForObject(
                    "SELECT count(*) FROM workspace_view WHERE template_id = ? AND status = 'RUNNING'", Integer.class, template);
            if (running != null && running >= count) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(running + " of " + count + " workspaces RUNNING after " + timeout);
            }
            BenchEngine.sleep(200);
        }
    }
}
