package dev.atelier.projections.audit;

import dev.atelier.support.TestDatabase;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The chain follows the event store's global order although events arrive in commit order: an entry waits for a
 * lower index that is committed but not yet delivered, and for one that is not visible (a transaction still
 * committing) until the gap timeout says it was rolled back. On a PostgreSQL database of its own.
 */
class AuditChainIT {

    private static JdbcTemplate jdbc;
    private static TransactionTemplate transactions;
    private static AuditChain chain;

    @BeforeAll
    static void database() {
        TestDatabase.Database db = TestDatabase.create();
        DriverManagerDataSource dataSource = new DriverManagerDataSource(db.url(), db.user(), db.password());
        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").outOfOrder(true).load().migrate();
        jdbc = new JdbcTemplate(dataSource);
        transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        chain = new AuditChain(jdbc, Duration.ofSeconds(1));
    }

    @Test
    void entriesAreChainedInGlobalIndexOrderWhateverOrderTheyArriveIn() {
        committedEvent(1);
        committedEvent(2);
        stage(2);
        assertThat(seal()).as("index 1 is committed but not delivered yet: 2 waits").isZero();
        stage(1);
        assertThat(seal()).isEqualTo(2);
        assertThat(chained()).containsExactly(1L, 2L);

        // Indexes 3 and 4 are not visible (rolled back, or still committing): 5 waits for the gap timeout.
        committedEvent(5);
        stage(5);
        assertThat(seal()).isZero();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> seal() == 1);
        assertThat(chained()).containsExactly(1L, 2L, 5L);

        // 4 committed after all, later than the gap timeout: appended at the end rather than lost.
        committedEvent(4);
        stage(4);
        assertThat(seal()).isEqualTo(1);
        assertThat(chained()).containsExactly(1L, 2L, 5L, 4L);

        // Every entry links to the one before it.
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq");
        for (int i = 1; i < rows.size(); i++) {
            assertThat(rows.get(i).get("prev_hash")).isEqualTo(rows.get(i - 1).get("hash"));
        }
        assertThat(rows.get(0).get("prev_hash")).isEqualTo(AuditChain.ZERO_HASH);
        assertThat(jdbc.queryForObject("SELECT last_seq FROM audit_chain", Long.class)).isEqualTo(4);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM audit_pending", Long.class)).isZero();
    }

    private static int seal() {
        return transactions.execute(status -> chain.seal());
    }

    private static List<Long> chained() {
        return jdbc.queryForList("SELECT event_index FROM audit_entry ORDER BY seq", Long.class);
    }

    private static void committedEvent(long index) {
        jdbc.update("""
                INSERT INTO domainevententry (globalindex, aggregateidentifier, sequencenumber, type, eventidentifier,
                    payload, payloadtype, timestamp) VALUES (?, ?, 0, 'Test', ?, ?, 'test', ?)""",
                index, "agg-" + index, "event-" + index, new byte[]{'{', '}'}, Instant.now().toString());
    }

    private static void stage(long index) {
        chain.stage(new AuditDraft(Instant.parse("2026-11-01T10:00:00Z").plusSeconds(index), "alice", "USER",
                "stop", AuditEntry.REQUESTED, "workspace", "ws-" + index, null, AuditEntry.SUCCESS, "USER", index,
                null, null, "req-" + index, "127.0.0.1", "curl/8", null, Map.of(), Map.of("status", "STOPPING"), List.of(),
                "event-" + index, index));
    }
}
