package dev.atelier.bench;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.workspace.CreateWorkspaceCommand;
import dev.atelier.domain.workspace.TransitionReason;
import dev.atelier.domain.workspace.WorkspaceKind;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;

import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** What the phases of one run share: parameters, the engine, an HTTP client, the report. */
final class BenchRun {

    final BenchConfig config;
    final BenchDatabase db;
    final BenchEngine engine;
    final BenchHttp http;
    final Report report;

    BenchRun(BenchConfig config, BenchDatabase db, BenchEngine engine, BenchHttp http, Report report) {
        this.config = config;
        this.db = db;
        this.engine = engine;
        this.http = http;
        this.report = report;
    }

    static void log(String format, Object... args) {
        System.out.println("[bench " + LocalTime.now().withNano(0) + "] " + String.format(java.util.Locale.ROOT, format, args));
        System.out.flush();
    }

    private String probeTemplate;

    /** Probe workspaces (default policy) only show that streams are live; they stay RUNNING. */
    synchronized String probeTemplate() {
        if (probeTemplate == null) {
            probeTemplate = createTemplate("bench-probe", null);
        }
        return probeTemplate;
    }

    String admin() {
        return engine.adminToken;
    }

    /** A template on the null provider, through the API; {@code policy} is a JSON object or null. */
    String createTemplate(String name, String policy) {
        String body = "{\"name\":\"" + name + "\",\"provider\":\"" + NullProvider.NAME + "\",\"spec\":{}"
                + (policy == null ? "" : ",\"policy\":" + policy)
                + ",\"pricing\":{\"runningPerHour\":0.10,\"stoppedPerHour\":0.01,\"currency\":\"EUR\"}}";
        return http.send("POST", "/api/v1/templates", admin(), body).expect(201, "create template " + name).field("id");
    }

    /**
     * Creates workspaces in this JVM through the command bus (what the API does after authentication), with
     * {@code threads} concurrent senders; used where a phase needs many running workspaces and measures something
     * else. The API path itself is measured by the lifecycle phase.
     */
    List<String> createWorkspacesInProcess(String templateId, String prefix, int count, int threads) throws Exception {
        CommandGateway commands = engine.bean(CommandGateway.class);
        List<String> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(UUID.randomUUID().toString());
        }
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> new Thread(r, "inprocess-create"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < count; ) {
                        CreateWorkspaceCommand command = new CreateWorkspaceCommand(ids.get(i), prefix + "-" + i,
                                "bench-user-" + (i % 50), "team-" + (i % 7), WorkspaceKind.HUMAN, templateId, null,
                                null, null, null, TransitionReason.USER, Actor.user("admin"));
                        commands.sendAndWait(GenericCommandMessage.asCommandMessage(command).andMetaData(Map.of(
                                "actorId", "admin", "actorType", "API_TOKEN", "requestId", "bench-" + prefix + "-" + i)));
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
        return ids;
    }

    /**
     * Watch streams send nothing until the first change, so whether the server has subscribed them is known only
     * from an event: creates probe workspaces until every stream has received one.
     */
    void awaitStreamsLive(List<SseStream> streams, Duration timeout) {
        String templateId = probeTemplate();
        long deadline = System.nanoTime() + timeout.toNanos();
        int probes = 0;
        while (streams.stream().anyMatch(s -> s.received() == 0)) {
            for (SseStream s : streams) {
                if (s.error() != null) {
                    throw new IllegalStateException("a watch stream failed", s.error());
                }
            }
            if (System.nanoTime() > deadline) {
                long live = streams.stream().filter(s -> s.received() > 0).count();
                throw new IllegalStateException(live + " of " + streams.size() + " watch streams live after " + timeout);
            }
            http.send("POST", "/api/v1/workspaces", admin(), "{\"name\":\"probe-" + (probes++) + "\",\"templateId\":\""
                    + templateId + "\"}").expect(202, "create probe workspace");
            BenchEngine.sleep(300);
        }
    }

    static final String SAGA_PROCESSOR = "WorkspaceTransitionSagaProcessor";

    /**
     * Many RUNNING workspaces, fast: one is created through the engine, then its events (created, start, start
     * succeeded) are copied server-side under new ids, in order, while the lifecycle saga is shut down; its tokens are
     * then moved past the copies. The projections build their rows from the copies as from any event. Used where a
     * phase needs a large fleet and measures something else (the copies get no idle deadlines).
     */
    List<String> seedRunningWorkspaces(String templateId, String prefix, int count) throws Exception {
        String seed = createWorkspacesInProcess(templateId, prefix + "-seed", 1, 1).get(0);
        HeartbeatPhase.awaitRunning(this, templateId, 1, Duration.ofMinutes(1));
        engine.awaitProcessorsCaughtUp(Duration.ofMinutes(2));
        var saga = engine.processor(SAGA_PROCESSOR);
        saga.shutDown();
        List<String> ids = new ArrayList<>(count);
        var jdbc = engine.jdbc();
        try {
            for (int from = 0; from < count; from += 2_000) {
                List<String> chunk = new ArrayList<>();
                for (int i = from; i < Math.min(count, from + 2_000); i++) {
                    chunk.add(UUID.randomUUID().toString());
                }
                jdbc.update("""
                        INSERT INTO domainevententry (aggregateidentifier, sequencenumber, type, eventidentifier, metadata,
                            payload, payloadrevision, payloadtype, timestamp)
                        SELECT ids.id, t.sequencenumber, t.type, gen_random_uuid()::text, t.metadata,
                            convert_to(replace(convert_from(t.payload, 'UTF8'), t.aggregateidentifier, ids.id), 'UTF8'),
                            t.payloadrevision, t.payloadtype, t.timestamp
                        FROM unnest(string_to_array(?, ',')) WITH ORDINALITY AS ids(id, n)
                        CROSS JOIN (SELECT * FROM domainevententry WHERE aggregateidentifier = ?) t
                        ORDER BY ids.n, t.sequencenumber""", String.join(",", chunk), seed);
                ids.addAll(chunk);
            }
            long head = engine.headIndex();
            jdbc.update("UPDATE tokenentry SET token = convert_to(?, 'UTF8') WHERE processorname = ?",
                    "{\"index\":" + head + ",\"gaps\":[]}", SAGA_PROCESSOR);
        } finally {
            saga.start();
        }
        HeartbeatPhase.awaitRunning(this, templateId, count + 1, Duration.ofMinutes(5));
        return ids;
    }

    static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
