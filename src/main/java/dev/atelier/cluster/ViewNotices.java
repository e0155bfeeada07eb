package dev.atelier.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live streams across nodes. Each node's tracking processors project only the segments they hold, so a change is
 * projected on one node while the subscribers of a watch stream may sit on another. A projection therefore calls
 * {@link #changed} inside its own transaction: {@code pg_notify('atelier_views', {kind, id, node})} is delivered at
 * commit and never for a rolled-back batch. Every node LISTENs on a dedicated connection (a thread of its own,
 * reconnecting with back-off) and hands a notice from another node to the {@link ViewChangeHandler} of its kind,
 * which pushes the fresh view to its local subscribers if it has any. The node that projected has already pushed
 * it, so it ignores its own notices.
 *
 * <p>Notices sent while a node is reconnecting are lost to that node's open streams (they see the next change);
 * a new stream always starts from the read model.
 */
@Component
public class ViewNotices implements SmartLifecycle {

    public static final String CHANNEL = "atelier_views";
    private static final Logger log = LoggerFactory.getLogger(ViewNotices.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final JdbcTemplate jdbc;
    private final HikariDataSource dataSource;
    private final ObjectMapper json;
    private final Node node;
    private final ObjectProvider<ViewChangeHandler> handlerProvider;
    private final AtomicLong received = new AtomicLong();
    private volatile Map<String, ViewChangeHandler> handlers = Map.of();
    private volatile boolean running;
    private volatile boolean listening;
    private volatile Instant listeningSince;
    private volatile String lastError;
    private volatile Thread thread;
    private volatile Connection connection;

    public ViewNotices(JdbcTemplate jdbc, HikariDataSource dataSource, ObjectMapper json, Node node,
                       ObjectProvider<ViewChangeHandler> handlers) {
        this.jdbc = jdbc;
        this.dataSource = dataSource;
        this.json = json;
        this.node = node;
        this.handlerProvider = handlers;
    }

    /**
     * Tells the other nodes that the view {@code kind}/{@code id} changed. Call it inside the transaction that
     * changed the view: PostgreSQL delivers the notice at commit, and drops it on rollback.
     */
    public void changed(String kind, String id, Long seq) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("kind", kind);
        payload.put("id", id);
        if (seq != null) {
            payload.put("seq", seq);
        }
        payload.put("node", node.id());
        try {
            jdbc.query("SELECT pg_notify(?, ?)", rs -> null, CHANNEL, json.writeValueAsString(payload));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether the listening connection is up (for {@code /actuator/health}). */
    public boolean listening() {
        return listening;
    }

    public Instant listeningSince() {
        return listeningSince;
    }

    /** Why the last listening connection ended, if it did. */
    public String lastError() {
        return lastError;
    }

    /** Notices from other nodes handled so far. */
    public long received() {
        return received.get();
    }

    @Override
    public synchronized void start() {
        Map<String, ViewChangeHandler> byKind = new LinkedHashMap<>();
        handlerProvider.orderedStream().forEach(h -> byKind.put(h.kind(), h));
        handlers = Map.copyOf(byKind);
        running = true;
        Thread t = new Thread(this::listen, "atelier-view-notices");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    @Override
    public synchronized void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            closeQuietly(connection);
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        thread = null;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** After the web server and processors (phase 0) are up; stopped before them. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }

    private void listen() {
        Duration backoff = FIRST_BACKOFF;
        while (running) {
            try (Connection c = connect()) {
                connection = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                listening = true;
                listeningSince = Instant.now();
                backoff = FIRST_BACKOFF;
                log.info("listening for view notices of other nodes on channel {}", CHANNEL);
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notices = pg.getNotifications(1000);
                    if (notices != null) {
                        for (PGNotification n : notices) {
                            dispatch(n.getParameter());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
                log.warn("view notice connection lost ({}); reconnecting in {} ms", lastError, backoff.toMillis());
            } finally {
                listening = false;
                connection = null;
            }
            if (!pause(backoff)) {
                break;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private void dispatch(String payload) {
        ViewNotice notice;
        try {
            notice = json.readValue(payload, ViewNotice.class);
        } catch (JsonProcessingException e) {
            log.warn("ignored a view notice that is not one ({} characters)", payload.length());
            return;
        }
        if (node.id().equals(notice.node())) {
            return; // this node projected it and pushed it to its own subscribers already
        }
        ViewChangeHandler handler = handlers.get(notice.kind());
        if (handler == null || notice.id() == null) {
            return;
        }
        received.incrementAndGet();
        try {
            handler.changedElsewhere(notice);
        } catch (RuntimeException e) {
            log.warn("could not push {} view {} changed on node {}: {}", notice.kind(), notice.id(), notice.node(),
                    e.toString());
        }
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        props.putAll(dataSource.getDataSourceProperties());
        if (dataSource.getUsername() != null) {
            props.setProperty("user", dataSource.getUsername());
        }
        if (dataSource.getPassword() != null) {
            props.setProperty("password", dataSource.getPassword());
        }
        props.setProperty("ApplicationName", "atelier-view-notices");
        return DriverManager.getConnection(dataSource.getJdbcUrl(), props);
    }

    private boolean pause(Duration backoff) {
        try {
            Thread.sleep(backoff.toMillis());
            return running;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the listener thread sees the closed connection and stops
            }
        }
    }

    /** Names of the kinds this node answers (for health details). */
    public List<String> kinds() {
        return List.copyOf(handlers.keySet());
    }
}
