package dev.atelier.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue phase 1. N workspaces through create → RUNNING → stop → STOPPED → delete → DELETED over the HTTP API, by
 * C concurrent clients, each waiting for the status on a watch stream (SSE) before its next call. Measures each
 * API call (request sent → answer received) and "accepted → visible": from the 202 answer to the moment the
 * resulting status arrives on the stream (the projection emits it right after writing the read model, so this
 * is also when the read model shows it). A warm-up of the same kind runs first and is not counted.
 */
final class LifecyclePhase implements BenchPhase {

    static final String TITLE = "1 Lifecycle (API)";
    private static final Duration STATUS_TIMEOUT = Duration.ofSeconds(120);

    @Override
    public String id() {
        return "lifecycle";
    }

    @Override
    public String title() {
        return TITLE;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        String template = run.createTemplate("bench-lifecycle", null);
        StatusBoard board = new StatusBoard();
        try (SseStream stream = SseStream.open(run.http, run.engine.baseUrl(), "/api/v1/workspaces/watch", run.admin(), board)) {
            run.awaitStreamsLive(List.of(stream), Duration.ofSeconds(60));
            if (run.config.warmup() > 0) {
                BenchRun.log("lifecycle: warm-up, %d lifecycles", run.config.warmup());
                drive(run, template, board, run.config.warmup(), Math.min(run.config.clients(), 16), "warmup", new Metrics());
            }
            int n = run.config.workspaces();
            int c = run.config.clients();
            BenchRun.log("lifecycle: %d workspaces, %d clients", n, c);
            Metrics m = new Metrics();
            long start = System.nanoTime();
            drive(run, template, board, n, c, "ws", m);
            long elapsed = System.nanoTime() - start;
            if (stream.error() != null) {
                throw new IllegalStateException("the watch stream failed", stream.error());
            }
            report(run, n, c, elapsed, m);
        }
    }

    private static final class Metrics {
        final Stats.Samples create = new Stats.Samples();
        final Stats.Samples stop = new Stats.Samples();
        final Stats.Samples delete = new Stats.Samples();
        final Stats.Samples running = new Stats.Samples();
        final Stats.Samples stopped = new Stats.Samples();
        final Stats.Samples deleted = new Stats.Samples();
        final Stats.Samples fromRequest = new Stats.Samples();
        final Stats.Samples lifecycle = new Stats.Samples();
        final AtomicInteger beforeAnswer = new AtomicInteger();
    }

    private static void drive(BenchRun run, String template, StatusBoard board, int n, int clients, String prefix,
                              Metrics m) throws Exception {
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients, r -> new Thread(r, "bench-client"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                futures.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < n; ) {
                        lifecycle(run, template, board, prefix + "-" + i, m);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void lifecycle(BenchRun run, String template, StatusBoard board, String name, Metrics m) throws Exception {
        String token = run.admin();
        long begin = System.nanoTime();
        BenchHttp.Response created = run.http.send("POST", "/api/v1/workspaces", token,
                "{\"name\":\"" + name + "\",\"templateId\":\"" + template + "\"}").expect(202, "create " + name);
        String id = created.field("id");
        m.create.add(created.latencyNanos());
        visible(board, id, "RUNNING", created, m.running, m);

        BenchHttp.Response stopped = run.http.send("POST", "/api/v1/workspaces/" + id + "/stop", token, null)
                .expect(202, "stop " + id);
        m.stop.add(stopped.latencyNanos());
        visible(board, id, "STOPPED", stopped, m.stopped, m);

        BenchHttp.Response deleted = run.http.send("DELETE", "/api/v1/workspaces/" + id, token, null)
                .expect(202, "delete " + id);
        m.delete.add(deleted.latencyNanos());
        visible(board, id, "DELETED", deleted, m.deleted, m);
        m.lifecycle.add(System.nanoTime() - begin);
        board.forget(id);
    }

    private static void visible(StatusBoard board, String id, String status, BenchHttp.Response accepted,
                                Stats.Samples samples, Metrics m) throws Exception {
        long seen = board.await(id, status, STATUS_TIMEOUT);
        if (seen < accepted.receivedNanos()) {
            m.beforeAnswer.incrementAndGet();
        }
        samples.add(Math.max(0, seen - accepted.receivedNanos()));
        m.fromRequest.add(seen - accepted.sentNanos());
    }

    private static void report(BenchRun run, int n, int c, long elapsed, Metrics m) {
        double rate = n / BenchRun.seconds(elapsed);
        Map<String, Object> p = run.report.phase("lifecycle");
        p.put("workspaces", n);
        p.put("clients", c);
        p.put("seconds", Report.round(BenchRun.seconds(elapsed)));
        p.put("lifecyclesPerSecond", Report.round(rate));
        p.put("apiCallsPerSecond", Report.round(3 * n / BenchRun.seconds(elapsed)));
        Map<String, Object> api = new LinkedHashMap<>();
        api.put("create", m.create.summary().toMap());
        api.put("stop", m.stop.summary().toMap());
        api.put("delete", m.delete.summary().toMap());
        p.put("api", api);
        Map<String, Object> visible = new LinkedHashMap<>();
        visible.put("RUNNING", m.running.summary().toMap());
        visible.put("STOPPED", m.stopped.summary().toMap());
        visible.put("DELETED", m.deleted.summary().toMap());
        p.put("acceptedToVisible", visible);
        p.put("requestToVisible", m.fromRequest.summary().toMap());
        p.put("visibleBeforeAnswer", m.beforeAnswer.get());
        p.put("fullLifecycle", m.lifecycle.summary().toMap());

        double apiP99 = Math.max(m.create.summary().p99Ms(), Math.max(m.stop.summary().p99Ms(), m.delete.summary().p99Ms()));
        double visibleP99 = Math.max(m.running.summary().p99Ms(), Math.max(m.stopped.summary().p99Ms(), m.deleted.summary().p99Ms()));
        run.report.atLeast("lifecycle.throughput", "Lifecycle throughput", "≥ 300 lifecycles/s", 300, rate,
                "lifecycles/s", n + " workspaces, " + c + " clients");
        run.report.atMost("lifecycle.apiP99", "API p99 (worst of create, stop, delete)", "≤ 50 ms", 50, apiP99, "ms", null);
        run.report.atMost("lifecycle.visibleP99", "Accepted → visible p99 (worst of RUNNING, STOPPED, DELETED)",
                "≤ 100 ms", 100, visibleP99, "ms", null);
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "%d workspaces, %d clients: %.1f lifecycles/s (%.0f API calls/s) in %.1f s",
                n, c, rate, 3 * n / BenchRun.seconds(elapsed), BenchRun.seconds(elapsed)));
        run.report.line(TITLE, "API create: " + m.create.summary());
        run.report.line(TITLE, "API stop: " + m.stop.summary());
        run.report.line(TITLE, "API delete: " + m.delete.summary());
        run.report.line(TITLE, "accepted → RUNNING visible: " + m.running.summary());
        run.report.line(TITLE, "accepted → STOPPED visible: " + m.stopped.summary());
        run.report.line(TITLE, "accepted → DELETED visible: " + m.deleted.summary());
        run.report.line(TITLE, "full lifecycle per client: " + m.lifecycle.summary()
                + "; statuses visible before the 202 arrived: " + m.beforeAnswer.get() + " (counted as 0 ms)");
        BenchRun.log("lifecycle: %.1f lifecycles/s, API p99 %.1f ms, accepted→visible p99 %.1f ms", rate, apiP99, visibleP99);
    }
}
