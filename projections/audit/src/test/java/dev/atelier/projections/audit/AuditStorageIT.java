package dev.atelier.projections.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.atelier.support.TestDatabase;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import reactor.core.publisher.BaseSubscriber;

import javax.sql.DataSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The audit table at volume, on a PostgreSQL database of its own (the real migrations, no engine): a 200k-entry
 * export streams with a bounded number of rows in memory, and every filter combination of the query API is
 * answered through an index.
 */
class AuditStorageIT {

    private static final int ENTRIES = 200_000;
    private static final int FETCH = 100;
    private static DataSource database;
    private static JdbcTemplate jdbc;
    private static final ObjectMapper JSON = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .serializationInclusion(JsonInclude.Include.NON_NULL).build();

    @BeforeAll
    static void twoHundredThousandEntries() {
        TestDatabase.Database db = TestDatabase.create();
        DriverManagerDataSource dataSource = new DriverManagerDataSource(db.url(), db.user(), db.password());
        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").outOfOrder(true).load().migrate();
        database = dataSource;
        jdbc = new JdbcTemplate(dataSource);
        // Realistic spread: 500 actors, 20k resources, few tokens, rare denials, one entry every 10 seconds.
        jdbc.update("""
                INSERT INTO audit_entry (seq, time, actor_id, actor_type, action, phase, resource_type, resource_id,
                    resource_name, outcome, reason, build_number, status_code, error, request_id, client_ip, user_agent,
                    diff, details, event_id, event_index, prev_hash, hash)
                SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '10 seconds', 'user-' || (g % 500),
                    'API_TOKEN', (ARRAY['create','start','stop','delete','update','read'])[1 + g % 6],
                    CASE WHEN g % 3 = 0 THEN 'completed' ELSE 'requested' END,
                    CASE WHEN g % 200 = 0 THEN 'token' WHEN g % 10 = 0 THEN 'template' ELSE 'workspace' END,
                    'res-' || (g % 20000), 'name-' || (g % 20000),
                    CASE WHEN g % 1000 = 0 THEN 'denied' WHEN g % 100 = 0 THEN 'failure' ELSE 'success' END,
                    'USER', g % 50, NULL, NULL, 'req-' || g, '10.0.' || (g % 250) || '.1', 'curl/8.5.0',
                    '{"status":{"new":"RUNNING","old":"STARTING"}}', NULL, 'evt-' || g, g, repeat('0', 64),
                    md5(g::text) || md5(g::text)
                FROM generate_series(1, ?) g""", ENTRIES);
        jdbc.execute("ANALYZE audit_entry");
    }

    @Test
    void anExportOfTwoHundredThousandEntriesStreamsWithABoundedNumberOfRowsInMemory() throws Exception {
        Counting counting = new Counting(database);
        AuditExport export = new AuditExport(counting.dataSource(), JSON, FETCH, 2);
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong lines = new AtomicLong();
        AtomicLong pages = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>();
        AtomicReference<String> last = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong fetchesAtFirstPage = new AtomicLong(-1);

        BaseSubscriber<DataBuffer> slowReader = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(1);
            }

            @Override
            protected void hookOnNext(DataBuffer buffer) {
                String text = buffer.toString(StandardCharsets.UTF_8);
                DataBufferUtils.release(buffer);
                long received = pages.incrementAndGet();
                if (received == 2) {
                    fetchesAtFirstPage.set(counting.fetches.get());
                }
                // Rows fetched from the database but not yet handed to this reader: never more than a page or two.
                maxAhead.accumulateAndGet(counting.fetches.get() - (received - 1), Math::max);
                String[] split = text.split("\n");
                if (received == 2) { // the header goes out on its own, then page by page
                    first.set(split[0]);
                }
                last.set(split[split.length - 1]);
                lines.addAndGet(split.length);
                request(1); // one buffer at a time, like a slow client
            }

            @Override
            protected void hookOnError(Throwable throwable) {
                failure.set(throwable);
                done.countDown();
            }

            @Override
            protected void hookOnComplete() {
                done.countDown();
            }
        };
        export.export(AuditFilter.NONE, true, AuditExport.Format.CSV, DefaultDataBufferFactory.sharedInstance)
                .subscribe(slowReader);
        assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
        assertThat(failure.get()).isNull();

        assertThat(lines.get()).isEqualTo(ENTRIES + 1); // header + one line per entry
        assertThat(first.get()).startsWith("1,2026-01-01T00:00:10Z,user-1,API_TOKEN,start,requested,workspace,res-1,");
        assertThat(last.get()).startsWith(ENTRIES + ",");
        assertThat(counting.fetches.get()).isEqualTo(ENTRIES / FETCH + 1); // the last FETCH finds the end
        // The first page went out after a single FETCH of FETCH rows, not after reading the table.
        assertThat(fetchesAtFirstPage.get()).isEqualTo(1);
        // At no time were more than two pages (2 x FETCH rows) read ahead of what the reader had taken.
        assertThat(maxAhead.get()).isLessThanOrEqualTo(2);
        assertThat(counting.open.get()).isZero();
    }

    @Test
    void aCancelledExportReturnsItsConnectionAndExportsAreLimited() {
        Counting counting = new Counting(database);
        AuditExport export = new AuditExport(counting.dataSource(), JSON, FETCH, 2);
        List<DataBuffer> taken = export.export(AuditFilter.NONE, false, AuditExport.Format.JSONL,
                DefaultDataBufferFactory.sharedInstance).take(3).collectList().block(Duration.ofSeconds(30));
        assertThat(taken).hasSize(3);
        String newest = taken.get(0).toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow();
        assertThat(newest).startsWith("{\"seq\":" + ENTRIES + ",");
        taken.forEach(DataBufferUtils::release);
        await().atMost(Duration.ofSeconds(5)).until(() -> counting.open.get() == 0);
        assertThat(counting.fetches.get()).isLessThanOrEqualTo(4);

        // Two running exports take the two permits; a third is refused until one ends.
        List<BaseSubscriber<DataBuffer>> running = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            BaseSubscriber<DataBuffer> idle = new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(Subscription subscription) {
                    request(1);
                }

                @Override
                protected void hookOnNext(DataBuffer value) {
                    DataBufferUtils.release(value);
                }
            };
            export.export(AuditFilter.NONE, true, AuditExport.Format.CSV, DefaultDataBufferFactory.sharedInstance)
                    .subscribe(idle);
            running.add(idle);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> counting.open.get() == 2);
        assertThatThrownBy(() -> export.export(AuditFilter.NONE, true, AuditExport.Format.CSV,
                DefaultDataBufferFactory.sharedInstance)).isInstanceOf(AuditExport.BusyException.class);
        running.forEach(BaseSubscriber::cancel);
        await().atMost(Duration.ofSeconds(5)).until(() -> counting.open.get() == 0);
        assertThat(export.export(AuditFilter.NONE, true, AuditExport.Format.CSV, DefaultDataBufferFactory.sharedInstance)
                .take(1).count().block(Duration.ofSeconds(30))).isEqualTo(1);
    }

    @Test
    void filtersSelectTheRightEntriesInBothFormats() throws Exception {
        AuditExport export = new AuditExport(database, JSON, FETCH, 2);
        AuditFilter filter = AuditFilter.parse(Map.of(), "actor:user-7 outcome:success,failure from:2026-01-01 to:2026-01-03");
        String jsonl = DataBufferUtils.join(export.export(filter, true, AuditExport.Format.JSONL,
                DefaultDataBufferFactory.sharedInstance)).map(b -> {
                    String text = b.toString(StandardCharsets.UTF_8);
                    DataBufferUtils.release(b);
                    return text;
                }).block(Duration.ofSeconds(30));
        List<JsonNode> entries = new ArrayList<>();
        for (String line : jsonl.split("\n")) {
            entries.add(JSON.readTree(line));
        }
        Long expected = jdbc.queryForObject("""
                SELECT count(*) FROM audit_entry WHERE actor_id = 'user-7' AND outcome IN ('success', 'failure')
                  AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-03T00:00:00Z'""", Long.class);
        assertThat(entries).hasSize(expected.intValue()).isNotEmpty();
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.get("actorId").asText()).isEqualTo("user-7");
            assertThat(Instant.parse(e.get("time").asText())).isBefore(Instant.parse("2026-01-03T00:00:00Z"));
            assertThat(e.at("/diff/status/new").asText()).isEqualTo("RUNNING");
        });
    }

    @Test
    void everyFilterCombinationOfTheQueryApiIsAnsweredThroughAnIndex() {
        // A value for each filter that selects little, as the filters of an investigation do.
        Map<AuditFilter.Key, String> values = new LinkedHashMap<>();
        values.put(AuditFilter.Key.ACTOR, "user-7");
        values.put(AuditFilter.Key.ACTION, "purge");
        values.put(AuditFilter.Key.RESOURCE_TYPE, "token");
        values.put(AuditFilter.Key.RESOURCE_ID, "res-7");
        values.put(AuditFilter.Key.OUTCOME, "denied");
        values.put(AuditFilter.Key.REQUEST_ID, "req-7");
        values.put(AuditFilter.Key.FROM, "2026-01-10T00:00:00Z");
        values.put(AuditFilter.Key.TO, "2026-01-11T00:00:00Z");
        List<AuditFilter.Key> keys = List.copyOf(values.keySet());
        int combinations = 1 << keys.size();
        List<String> problems = new ArrayList<>();
        for (int mask = 0; mask < combinations; mask++) {
            Map<String, String> given = new LinkedHashMap<>();
            List<String> columns = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                if ((mask & (1 << i)) != 0) {
                    given.put(keys.get(i).parameter(), values.get(keys.get(i)));
                    columns.add(keys.get(i).column());
                }
            }
            AuditFilter filter = AuditFilter.parse(given, null);
            // The first page newest first, and a later page oldest first.
            for (Long cursor : new Long[]{null, 150_000L}) {
                boolean ascending = cursor != null;
                AuditFilter.Sql query = filter.select(cursor, ascending, 51);
                String plan = jdbc.queryForObject("EXPLAIN (FORMAT JSON) " + query.conditions(), String.class,
                        query.args().toArray());
                String problem = check(plan, columns);
                if (problem != null) {
                    problems.add(given + " cursor=" + cursor + " asc=" + ascending + ": " + problem + "\n" + plan);
                }
                if (filter.from() != null && filter.to() != null) {
                    // A bounded range read range first (far from the end the page starts at) comes from an index;
                    // a range open on one side may hold most of the table, where a sequential scan is fair.
                    AuditFilter.Sql rangeFirst = filter.selectTimeRangeFirst(cursor, ascending, 51);
                    String rangePlan = jdbc.queryForObject("EXPLAIN (FORMAT JSON) " + rangeFirst.conditions(),
                            String.class, rangeFirst.args().toArray());
                    if (rangePlan.contains("Seq Scan")) {
                        problems.add(given + " cursor=" + cursor + " asc=" + ascending + " range first: sequential scan\n"
                                + rangePlan);
                    }
                }
            }
        }
        assertThat(problems).as("plans without a fitting index").isEmpty();
    }

    @Test
    void aTimeRangeFarFromWhereThePageStartsIsReadRangeFirstAndGivesTheSamePages() {
        AuditTrail trail = new AuditTrail(jdbc, database,
                new org.springframework.jdbc.datasource.DataSourceTransactionManager(database), null, null, null);
        // The entries are 10 s apart from 2026-01-01 to 2026-01-24.
        record Case(Map<String, String> filter, boolean ascending, boolean rangeFirst) {
        }
        List<Case> cases = List.of(
                // a day two weeks before the newest entry: 112,000 newer entries before it in seq order
                new Case(Map.of("from", "2026-01-10", "to", "2026-01-11"), false, true),
                new Case(Map.of("from", "2026-01-10", "to", "2026-01-11", "action", "stop"), false, true),
                new Case(Map.of("from", "2026-01-10", "to", "2026-01-11", "actor", "user-7"), false, true),
                // oldest first, a day nine days after the oldest entry
                new Case(Map.of("from", "2026-01-10", "to", "2026-01-11"), true, true),
                // ranges that reach the end the page starts from
                new Case(Map.of("from", "2026-01-20"), false, false),
                new Case(Map.of("from", "2026-01-10", "to", "2026-02-01"), false, false),
                new Case(Map.of("to", "2026-01-11"), true, false));
        for (Case c : cases) {
            AuditFilter filter = AuditFilter.parse(c.filter(), null);
            assertThat(trail.timeRangeFirst(filter, c.ascending())).as(c.toString()).isEqualTo(c.rangeFirst());
            AuditFilter.Sql where = filter.where();
            List<Long> expected = jdbc.queryForList("SELECT seq FROM audit_entry WHERE TRUE" + where.conditions()
                    + " ORDER BY seq " + (c.ascending() ? "ASC" : "DESC") + " LIMIT 150", Long.class, where.args().toArray());
            assertThat(expected).as(c.toString()).isNotEmpty();
            List<Long> paged = new ArrayList<>();
            String cursor = null;
            for (int page = 0; page < 3; page++) {
                AuditTrail.Page p = trail.page(filter, 50, cursor, c.ascending());
                p.entries().forEach(e -> paged.add(e.seq()));
                cursor = p.nextCursor();
                if (cursor == null) {
                    break;
                }
            }
            assertThat(paged).as(c.toString()).isEqualTo(expected);
        }
        // Range first, the time index gives the range (no scan of the whole table, no backward scan of the key).
        AuditFilter far = AuditFilter.parse(Map.of("from", "2026-01-10", "to", "2026-01-11"), null);
        for (boolean ascending : new boolean[]{false, true}) {
            AuditFilter.Sql query = far.selectTimeRangeFirst(ascending ? 100_000L : 150_000L, ascending, 51);
            String plan = jdbc.queryForObject("EXPLAIN (FORMAT JSON) " + query.conditions(), String.class,
                    query.args().toArray());
            assertThat(plan).contains("audit_entry_time").doesNotContain("Seq Scan");
            assertThat(check(plan, List.of("time"))).isNull();
        }
    }

    /**
     * @return null when the plan reads audit_entry only through indexes, and (if any equality filter is given)
     *         through an index condition on one of the filtered columns
     */
    private static String check(String plan, List<String> columns) {
        JsonNode root;
        try {
            root = JSON.readTree(plan).get(0).get("Plan");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        List<JsonNode> scans = new ArrayList<>();
        collect(root, scans);
        if (scans.isEmpty()) {
            return "no scan of audit_entry";
        }
        for (JsonNode scan : scans) {
            if (scan.get("Node Type").asText().equals("Seq Scan")) {
                return "sequential scan";
            }
        }
        List<String> equality = columns.stream().filter(c -> !c.equals("time")).toList();
        if (equality.isEmpty()) {
            return null; // no filter or only a time range: the primary key (seq) or the time index
        }
        for (JsonNode scan : scans) {
            String condition = scan.path("Index Cond").asText("") + " " + scan.path("Recheck Cond").asText("");
            if (equality.stream().anyMatch(condition::contains)) {
                return null;
            }
        }
        return "no index condition on any of " + equality;
    }

    private static void collect(JsonNode node, List<JsonNode> scans) {
        if (node.has("Relation Name") && node.get("Relation Name").asText().equals("audit_entry")
                || node.path("Node Type").asText().equals("Bitmap Index Scan")) {
            scans.add(node);
        }
        node.path("Plans").forEach(child -> collect(child, scans));
    }

    /** Counts FETCHes and open connections of the export, at the JDBC boundary. */
    private static final class Counting {
        final AtomicInteger fetches = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
        private final DataSource target;

        Counting(DataSource target) {
            this.target = target;
        }

        DataSource dataSource() {
            return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{DataSource.class},
                    (proxy, method, args) -> {
                        Object result = invoke(target, method, args);
                        if (method.getName().equals("getConnection")) {
                            open.incrementAndGet();
                            return connection((Connection) result);
                        }
                        return result;
                    });
        }

        private Connection connection(Connection real) {
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{Connection.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("close")) {
                            open.decrementAndGet();
                        }
                        Object result = invoke(real, method, args);
                        if (method.getName().equals("createStatement")) {
                            return statement((Statement) result);
                        }
                        return result;
                    });
        }

        private Statement statement(Statement real) {
            return (Statement) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{Statement.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("executeQuery") && args[0].toString().startsWith("FETCH")) {
                            fetches.incrementAndGet();
                        }
                        return invoke(real, method, args);
                    });
        }

        private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }
}
