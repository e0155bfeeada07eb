package dev.atelier.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL that Atelier starts itself when no external one is configured (like {@code coder server}'s
 * built-in database). Data lives under {@code <data dir>/postgres} and survives restarts. If the previous engine
 * was killed with SIGKILL its postgres keeps running and holds {@code postmaster.pid}: it is stopped deliberately
 * here before a new server starts on the same data.
 */
public final class EmbeddedPostgres implements AutoCloseable {

    public static final String DATABASE = "atelier";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

    private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;

    private EmbeddedPostgres(io.zonky.test.db.postgres.embedded.EmbeddedPostgres server) {
        this.server = server;
    }

    public static EmbeddedPostgres start(Path dataDir, int port) {
        Path pgData = dataDir.toAbsolutePath().normalize().resolve("postgres");
        try {
            Files.createDirectories(pgData);
            stopOrphan(pgData);
            var builder = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                    .setDataDirectory(pgData)
                    .setCleanDataDirectory(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "200");
            if (port > 0) {
                builder.setPort(port);
            }
            EmbeddedPostgres postgres = new EmbeddedPostgres(builder.start());
            postgres.createDatabaseIfMissing(DATABASE);
            log.info("embedded PostgreSQL ready on 127.0.0.1:{} with data in {}", postgres.port(), pgData);
            return postgres;
        } catch (IOException | SQLException e) {
            throw new IllegalStateException("could not start the embedded PostgreSQL in " + pgData + ": "
                    + e.getMessage() + " (set ATELIER_DB_URL to use an external PostgreSQL instead)", e);
        }
    }

    public int port() {
        return server.getPort();
    }

    public String jdbcUrl(String database) {
        return server.getJdbcUrl("postgres", database);
    }

    public void createDatabaseIfMissing(String database) throws SQLException {
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("invalid database name " + database);
        }
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database + "'")) {
                if (!rs.next()) {
                    s.execute("CREATE DATABASE \"" + database + "\"");
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /**
     * A postgres still running on our data directory can only be the orphan of a killed engine (the engine holds
     * the data directory alone). Ask it to shut down, wait, and only then start a new server.
     */
    static void stopOrphan(Path pgData) throws IOException {
        Path pidFile = pgData.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        Optional<ProcessHandle> orphan = lines.isEmpty() ? Optional.empty() : parsePid(lines.get(0))
                .flatMap(ProcessHandle::of)
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(true));
        if (orphan.isEmpty()) {
            log.info("removing stale {} (no postgres runs with that pid)", pidFile);
            Files.deleteIfExists(pidFile);
            return;
        }
        ProcessHandle process = orphan.get();
        log.warn("PostgreSQL pid {} still runs on {} (left by an engine that was killed); stopping it",
                process.pid(), pgData);
        process.destroy(); // SIGTERM: smart shutdown; its clients died with the old engine
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("orphaned PostgreSQL pid {} did not stop within 30 s; killing it", process.pid());
            process.destroyForcibly();
            try {
                process.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                throw new IOException("could not stop orphaned PostgreSQL pid " + process.pid());
            }
        }
        Files.deleteIfExists(pidFile);
    }

    private static Optional<Long> parsePid(String line) {
        try {
            return Optional.of(Long.parseLong(line.trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
