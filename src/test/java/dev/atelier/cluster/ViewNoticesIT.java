package dev.atelier.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.atelier.support.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The notice path between nodes on a real PostgreSQL, without the engine: a notice sent in a transaction reaches
 * the other node at commit and never on rollback, a node ignores its own notices, and a listener whose connection
 * is killed reconnects by itself.
 */
class ViewNoticesIT {

    private HikariDataSource dataSource;
    private ViewNotices nodeA;
    private ViewNotices nodeB;
    private final List<ViewNotice> heardByA = new CopyOnWriteArrayList<>();
    private final List<ViewNotice> heardByB = new CopyOnWriteArrayList<>();

    @BeforeEach
    void twoNodes() {
        dataSource = TestDatabase.migrated(4);
        nodeA = node("node-a", heardByA);
        nodeB = node("node-b", heardByB);
        nodeA.start();
        nodeB.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> nodeA.listening() && nodeB.listening());
    }

    @AfterEach
    void stop() {
        nodeA.stop();
        nodeB.stop();
        dataSource.close();
    }

    private ViewNotices node(String id, List<ViewNotice> heard) {
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("handler", new ViewChangeHandler() {
            @Override
            public String kind() {
                return "workspace";
            }

            @Override
            public void changedElsewhere(ViewNotice notice) {
                heard.add(notice);
            }
        });
        return new ViewNotices(new JdbcTemplate(dataSource), dataSource, new ObjectMapper(),
                new Node(new NodeSettings(id)), beans.getBeanProvider(ViewChangeHandler.class));
    }

    @Test
    void aNoticeReachesTheOtherNodeAtCommitAndNeverOnRollback() {
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        tx.executeWithoutResult(status -> {
            nodeA.changed("workspace", "rolled-back", null);
            status.setRollbackOnly();
        });
        tx.executeWithoutResult(status -> {
            nodeA.changed("workspace", "committed", 7L);
            // not before the commit
            assertThat(heardByB).isEmpty();
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> !heardByB.isEmpty());
        // Notices arrive in commit order: had the rolled-back one been sent, it would be first.
        assertThat(heardByB).containsExactly(new ViewNotice("workspace", "committed", 7L, "node-a"));
        assertThat(nodeB.received()).isEqualTo(1);
        assertThat(heardByA).as("a node ignores its own notices").isEmpty();
        assertThat(nodeA.received()).isZero();
    }

    @Test
    void noticesOfAnUnknownKindOrNotNoticesAtAllAreIgnored() throws Exception {
        nodeA.changed("budget", "b-1", 1L); // nobody here answers budgets
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_notify('atelier_views', 'not json at all')");
        }
        nodeA.changed("workspace", "after", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> !heardByB.isEmpty());
        assertThat(heardByB).extracting(ViewNotice::id).containsExactly("after");
        assertThat(nodeB.listening()).isTrue();
    }

    @Test
    void aListenerWhoseConnectionIsKilledReconnectsAndHearsAgain() throws Exception {
        String url = dataSource.getJdbcUrl();
        try (Connection admin = TestDatabase.superuser(url); Statement s = admin.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    + "AND application_name = 'atelier-view-notices'");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !nodeB.listening() || nodeB.lastError() != null);
        await().atMost(Duration.ofSeconds(15)).until(() -> nodeB.listening() && nodeA.listening());
        assertThat(nodeB.lastError()).isNotBlank();
        nodeA.changed("workspace", "after-reconnect", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> heardByB.stream().anyMatch(n -> n.id().equals("after-reconnect")));
    }
}
