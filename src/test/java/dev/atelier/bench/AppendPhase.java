package dev.atelier.bench;

import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.PersistenceExceptionResolver;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.eventstore.EmbeddedEventStore;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.eventsourcing.eventstore.jdbc.EventSchema;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.serialization.Serializer;
import org.springframework.beans.factory.annotation.BeanFactoryAnnotationUtils;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue phase 2. The same events appended (a) through Axon — an {@link EmbeddedEventStore} over a
 * {@link JdbcEventStorageEngine} built as the engine's auto-configuration builds its own (the engine's event
 * serializer, connection provider, transaction manager and exception resolver), each batch in a unit of work
 * like a command's — and (b) by plain JDBC batch inserts of the already-serialized rows, on the same connection
 * pool, with the same batch size and number of threads. Each goes to its own table with exactly the DDL and
 * indexes of {@code domainevententry} (so that no processor of the engine reads the benchmark's events), in
 * alternating rounds so that a change of machine load hits both alike.
 */
final class AppendPhase implements BenchPhase {

    static final String TITLE = "2 Event store append";
    private static final String DDL = """
            CREATE TABLE IF NOT EXISTS %s (
                globalindex         BIGSERIAL    NOT NULL PRIMARY KEY,
                aggregateidentifier VARCHAR(255) NOT NULL,
                sequencenumber      BIGINT       NOT NULL,
                type                VARCHAR(255),
                eventidentifier     VARCHAR(255) NOT NULL UNIQUE,
                metadata            BYTEA,
                payload             BYTEA        NOT NULL,
                payloadrevision     VARCHAR(255),
                payloadtype         VARCHAR(255) NOT NULL,
                timestamp           VARCHAR(255) NOT NULL,
                UNIQUE (aggregateidentifier, sequencenumber)
            )""";

    @Override
    public String id() {
        return "append";
    }

    @Override
    public String title() {
        return TITLE;
    }

    /** One way of appending batches of events; {@code prepare} runs before the clock starts. */
    private interface Appender {
        Object prepare(List<DomainEventMessage<BenchAppendEvent>> batch);

        void write(Object prepared) throws Exception;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        var jdbc = run.engine.jdbc();
        jdbc.execute(String.format(DDL, "bench_axon_event"));
        jdbc.execute(String.format(DDL, "bench_raw_event"));
        var beans = run.engine.context.getBeanFactory();
        Serializer eventSerializer = BeanFactoryAnnotationUtils.qualifiedBeanOfType(beans, Serializer.class, "eventSerializer");
        Serializer serializer = BeanFactoryAnnotationUtils.qualifiedBeanOfType(beans, Serializer.class, "serializer");
        TransactionManager tx = run.engine.bean(TransactionManager.class);
        org.axonframework.config.Configuration axon = run.engine.bean(org.axonframework.config.Configuration.class);
        JdbcEventStorageEngine storage = JdbcEventStorageEngine.builder()
                .snapshotSerializer(serializer)
                .upcasterChain(axon.upcasterChain())
                .persistenceExceptionResolver(run.engine.bean(PersistenceExceptionResolver.class))
                .eventSerializer(eventSerializer)
                .snapshotFilter(axon.snapshotFilter())
                .connectionProvider(run.engine.bean(ConnectionProvider.class))
                .transactionManager(tx)
                .schema(EventSchema.builder().eventTable("bench_axon_event").build())
                .build();
        EventStore store = EmbeddedEventStore.builder().storageEngine(storage)
                .messageMonitor(axon.messageMonitor(EventStore.class, "eventStore")).build();
        DataSource dataSource = run.engine.bean(DataSource.class);

        Appender throughAxon = new Appender() {
            @Override
            public Object prepare(List<DomainEventMessage<BenchAppendEvent>> batch) {
                return new ArrayList<EventMessage<?>>(batch);
            }

            @Override
            @SuppressWarnings("unchecked")
            public void write(Object prepared) {
                DefaultUnitOfWork<?> uow = DefaultUnitOfWork.startAndGet(null);
                uow.attachTransaction(tx);
                uow.execute(() -> store.publish((List<EventMessage<?>>) prepared));
            }
        };
        Appender raw = new Appender() {
            @Override
            public Object prepare(List<DomainEventMessage<BenchAppendEvent>> batch) {
                // The rows exactly as Axon stores them, serialized before the clock starts: the raw limit.
                List<Object[]> rows = new ArrayList<>(batch.size());
                for (DomainEventMessage<BenchAppendEvent> e : batch) {
                    rows.add(new Object[]{e.getAggregateIdentifier(), e.getSequenceNumber(), e.getType(), e.getIdentifier(),
                            eventSerializer.serialize(e.getMetaData(), byte[].class).getData(),
                            eventSerializer.serialize(e.getPayload(), byte[].class).getData(), "1",
                            BenchAppendEvent.class.getName(), e.getTimestamp().toString()});
                }
                return rows;
            }

            @Override
            @SuppressWarnings("unchecked")
            public void write(Object prepared) throws Exception {
                insertRaw(dataSource, (List<Object[]>) prepared);
            }
        };

        int total = run.config.appendEvents();
        int batch = run.config.appendBatch();
        int threads = run.config.appendThreads();
        int warmup = Math.min(5_000, Math.max(batch, total / 10));
        append(throughAxon, warmup, batch, threads);
        append(raw, warmup, batch, threads);
        long axonNanos = 0;
        long rawNanos = 0;
        for (int round = 0; round < 2; round++) {
            int n = total / 2;
            rawNanos += append(raw, n, batch, threads);
            axonNanos += append(throughAxon, n, batch, threads);
        }
        int measured = 2 * (total / 2);
        double axonRate = measured / BenchRun.seconds(axonNanos);
        double rawRate = measured / BenchRun.seconds(rawNanos);

        // The engine's own shape: one small transaction per command (here one event each).
        int singles = Math.max(threads, total / 20);
        append(throughAxon, Math.min(singles, 1_000), 1, threads);
        append(raw, Math.min(singles, 1_000), 1, threads);
        double axonSingle = singles / BenchRun.seconds(append(throughAxon, singles, 1, threads));
        double rawSingle = singles / BenchRun.seconds(append(raw, singles, 1, threads));

        double ratio = axonRate / rawRate;
        Map<String, Object> p = run.report.phase(id());
        p.put("events", measured);
        p.put("batch", batch);
        p.put("threads", threads);
        p.put("axonEventsPerSecond", Report.round(axonRate));
        p.put("rawJdbcEventsPerSecond", Report.round(rawRate));
        p.put("ratio", Report.round(ratio));
        Map<String, Object> single = new LinkedHashMap<>();
        single.put("events", singles);
        single.put("axonEventsPerSecond", Report.round(axonSingle));
        single.put("rawJdbcEventsPerSecond", Report.round(rawSingle));
        single.put("ratio", Report.round(axonSingle / rawSingle));
        p.put("oneEventPerTransaction", single);
        p.put("payloadBytes", eventSerializer.serialize(event(0), byte[].class).getData().length);
        run.report.atLeast("append.ratio", "Append through Axon vs raw JDBC batch insert", "≥ 50% of raw", 50,
                ratio * 100, "%", String.format(java.util.Locale.ROOT, "%,.0f vs %,.0f events/s, batches of %d, %d threads",
                        axonRate, rawRate, batch, threads));
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "%,d events in batches of %d by %d threads: Axon %,.0f events/s, plain JDBC batch insert %,.0f events/s → %.0f%%",
                measured, batch, threads, axonRate, rawRate, ratio * 100));
        run.report.line(TITLE, String.format(java.util.Locale.ROOT,
                "one event per transaction (%,d events): Axon %,.0f events/s, plain JDBC %,.0f events/s → %.0f%%",
                singles, axonSingle, rawSingle, axonSingle / rawSingle * 100));
        BenchRun.log("append: axon %.0f/s, raw %.0f/s, ratio %.2f; single axon %.0f/s raw %.0f/s", axonRate, rawRate,
                ratio, axonSingle, rawSingle);
    }

    private static long append(Appender appender, int events, int batchSize, int threads) throws Exception {
        int batches = (events + batchSize - 1) / batchSize;
        List<Object> work = new ArrayList<>(batches);
        for (int b = 0; b < batches; b++) {
            List<DomainEventMessage<BenchAppendEvent>> batch = new ArrayList<>(batchSize);
            for (int i = b * batchSize; i < Math.min(events, (b + 1) * batchSize); i++) {
                batch.add(message(i));
            }
            work.add(appender.prepare(batch));
        }
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> new Thread(r, "inprocess-append"));
        long start = System.nanoTime();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int b; (b = next.getAndIncrement()) < batches; ) {
                        appender.write(work.get(b));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            return System.nanoTime() - start;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void insertRaw(DataSource dataSource, List<Object[]> rows) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement("INSERT INTO bench_raw_event (aggregateidentifier, sequencenumber, "
                    + "type, eventidentifier, metadata, payload, payloadrevision, payloadtype, timestamp) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (Object[] row : rows) {
                    for (int i = 0; i < row.length; i++) {
                        s.setObject(i + 1, row[i]);
                    }
                    s.addBatch();
                }
                s.executeBatch();
                c.commit();
            } catch (Exception e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
    }

    private static DomainEventMessage<BenchAppendEvent> message(int i) {
        String aggregate = UUID.randomUUID().toString();
        Map<String, Object> metadata = Map.of("actorId", "bench-user-" + (i % 50), "actorType", "API_TOKEN",
                "requestId", "bench-" + UUID.randomUUID().toString().substring(0, 13), "clientIp", "127.0.0.1",
                "traceId", UUID.randomUUID().toString(), "correlationId", UUID.randomUUID().toString());
        return new GenericDomainEventMessage<>("BenchAggregate", aggregate, 0, event(i), MetaData.from(metadata));
    }

    private static BenchAppendEvent event(int i) {
        return new BenchAppendEvent(UUID.randomUUID().toString(), 2, "STOP", "USER", "bench-user-" + (i % 50),
                UUID.randomUUID().toString(), 1, "null", "null-" + i, false, "bench-user-" + (i % 50),
                Map.of("size", "medium", "region", "eu-west"));
    }
}
