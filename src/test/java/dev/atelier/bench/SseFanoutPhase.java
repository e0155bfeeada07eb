package dev.atelier.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue phase 7. W concurrent watchers of {@code GET /api/v1/workspaces/watch} (every change of every workspace,
 * the widest fan-out) while a few clients drive lifecycles through the API. Delivery latency of each event at
 * each watcher = arrival of its last byte − the event's own time ({@code updatedAt}, stamped when the aggregate
 * applied it, same clock): it covers commit, the projection, the subscription query and SSE encoding.
 */
final class SseFanoutPhase implements BenchPhase {

    static final String TITLE = "7 SSE fan-out";
    private static final int DRIVERS = 4;

    @Override
    public String id() {
        return "sse";
    }

    @Override
    public String title() {
        return TITLE;
    }

    /** Records each event's delivery latency once measuring has begun. */
    private static final class Watcher implements SseStream.Listener {
        final Stats.Samples latency = new Stats.Samples();
        final StatusBoard board;
        final long wallBase;
        final long nanoBase;
        volatile boolean measuring;
        final AtomicInteger measured = new AtomicInteger();
        SseStream stream;

        Watcher(StatusBoard board, long wallBase, long nanoBase) {
            this.board = board;
            this.wallBase = wallBase;
            this.nanoBase = nanoBase;
        }

        @Override
        public void onEvent(String id, String data, long arrivalNanos) {
            if (board != null) {
                board.onEvent(id, data, arrivalNanos);
            }
            if (!measuring) {
                return;
            }
            int at = data.indexOf("\"updatedAt\":\"");
            if (at < 0) {
                return;
            }
            int from = at + 13;
            Instant updated = Instant.parse(data.substring(from, data.indexOf('"', from)));
            long updatedNanos = updated.getEpochSecond() * 1_000_000_000L + updated.getNano();
            long arrivalWall = wallBase + (arrivalNanos - nanoBase);
            latency.add(Math.max(0, arrivalWall - updatedNanos));
            measured.incrementAndGet();
        }
    }

    @Override
    public void run(BenchRun run) throws Exception {
        String template = run.createTemplate("bench-sse", null);
        int w = run.config.watchers();
        Instant now = Instant.now();
        long wallBase = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        long nanoBase = System.nanoTime();
        StatusBoard board = new StatusBoard();
        List<Watcher> watchers = new ArrayList<>();
        List<SseStream> streams = new ArrayList<>();
        BenchRun.log("sse: opening %d watch streams", w);
        long openStart = System.nanoTime();
        try {
            for (int i = 0; i < w; i++) {
                Watcher watcher = new Watcher(i == 0 ? board : null, wallBase, nanoBase);
                watcher.stream = SseStream.open(run.http, run.engine.baseUrl(), "/api/v1/workspaces/watch", run.admin(), watcher);
                watchers.add(watcher);
                streams.add(watcher.stream);
            }
            run.awaitStreamsLive(streams, Duration.ofSeconds(120));
            double connectSeconds = BenchRun.seconds(System.nanoTime() - openStart);
            BenchRun.log("sse: %d streams live after %.1f s; driving %d lifecycles", w, connectSeconds, run.config.sseLifecycles());
            BenchEngine.sleep(500); // let the probes' last events pass
            watchers.forEach(x -> x.measuring = true);
            long driveStart = System.nanoTime();
            drive(run, template, board, run.config.sseLifecycles());
            double driveSeconds = BenchRun.seconds(System.nanoTime() - driveStart);
            int expected = watchers.stream().mapToInt(x -> x.measured.get()).max().orElse(0);
            long waitUntil = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < waitUntil && watchers.stream().anyMatch(x -> x.measured.get() < expected)) {
                BenchEngine.sleep(100);
            }
            double allDeliveredSeconds = BenchRun.seconds(System.nanoTime() - driveStart);
            Stats.Samples all = new Stats.Samples();
            long delivered = 0;
            for (Watcher x : watchers) {
                all.addAll(x.latency);
                delivered += x.measured.get();
            }
            long wanted = (long) expected * w;
            Stats.Summary latency = all.summary();
            Map<String, Object> p = run.report.phase(id());
            p.put("watchers", w);
            p.put("connectSeconds", Report.round(connectSeconds));
            p.put("lifecyclesDriven", run.config.sseLifecycles());
            p.put("eventsPerWatcher", expected);
            p.put("deliveries", delivered);
            p.put("deliveriesExpected", wanted);
            p.put("driveSeconds", Report.round(driveSeconds));
            p.put("allDeliveredSeconds", Report.round(allDeliveredSeconds));
            p.put("deliveryLatency", latency.toMap());
            p.put("deliveriesPerSecond", Report.round(delivered / allDeliveredSeconds));
            run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                    "%d watchers of all workspaces (live after %.1f s); %d lifecycles → %d events each; %,d of %,d deliveries "
                            + "(%.0f/s)", w, connectSeconds, run.config.sseLifecycles(), expected, delivered, wanted,
                    delivered / allDeliveredSeconds));
            run.report.line(TITLE, "event → delivered to a watcher: " + latency);
            BenchRun.log("sse: %d/%d deliveries, latency %s", delivered, wanted, latency);
        } finally {
            streams.forEach(SseStream::close);
        }
    }

    private static void drive(BenchRun run, String template, StatusBoard board, int lifecycles) throws Exception {
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(DRIVERS, r -> new Thread(r, "bench-driver"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < DRIVERS; t++) {
                futures.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < lifecycles; ) {
                        String id = run.http.send("POST", "/api/v1/workspaces", run.admin(),
                                "{\"name\":\"sse-" + i + "\",\"templateId\":\"" + template + "\"}").expect(202, "create").field("id");
                        board.await(id, "RUNNING", Duration.ofSeconds(120));
                        run.http.send("POST", "/api/v1/workspaces/" + id + "/stop", run.admin(), null).expect(202, "stop");
                        board.await(id, "STOPPED", Duration.ofSeconds(120));
                        run.http.send("DELETE", "/api/v1/workspaces/" + id, run.admin(), null).expect(202, "delete");
                        board.await(id, "DELETED", Duration.ofSeconds(120));
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
}
