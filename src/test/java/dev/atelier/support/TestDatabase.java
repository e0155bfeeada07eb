package dev.atelier.support;

import dev.atelier.config.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fresh, empty PostgreSQL database per test context: on the same embedded PostgreSQL the engine uses by default
 * (one server per test JVM), or on the external server named by {@code ATELIER_TEST_DB_URL}
 * ({@code ATELIER_TEST_DB_USER}, {@code ATELIER_TEST_DB_PASSWORD}).
 */
public final class TestDatabase {

    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/]+/)([^?]*)(\\?.*)?");
    private static EmbeddedPostgres embedded;

    private TestDatabase() {
    }

    public record Database(String url, String user, String password) {
    }

    /**
     * A fresh database with every migration applied (as the engine applies them), behind a small connection pool:
     * for tests of a read model's SQL without the engine. Close the pool when done.
     */
    public static com.zaxxer.hikari.HikariDataSource migrated(int poolSize) {
        Database db = create();
        com.zaxxer.hikari.HikariDataSource dataSource = new com.zaxxer.hikari.HikariDataSource();
        dataSource.setJdbcUrl(db.url());
        dataSource.setUsername(db.user());
        dataSource.setPassword(db.password());
        dataSource.setMaximumPoolSize(poolSize);
        org.flywaydb.core.Flyway.configure().dataSource(dataSource).locations("classpath:db/migration")
                .outOfOrder(true).load().migrate();
        return dataSource;
    }

    public static boolean external() {
        String url = System.getenv("ATELIER_TEST_DB_URL");
        return url != null && !url.isBlank();
    }

    public static synchronized Database create() {
        String name = "atelier_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try {
            if (external()) {
                String adminUrl = System.getenv("ATELIER_TEST_DB_URL");
                String user = System.getenv("ATELIER_TEST_DB_USER");
                String password = System.getenv("ATELIER_TEST_DB_PASSWORD");
                try (Connection c = DriverManager.getConnection(adminUrl, user, password);
                     Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE " + name);
                }
                Matcher m = URL.matcher(adminUrl);
                if (!m.matches()) {
                    throw new IllegalStateException("ATELIER_TEST_DB_URL must look like jdbc:postgresql://host:port/db");
                }
                return new Database(m.group(1) + name + (m.group(3) == null ? "" : m.group(3)), user, password);
            }
            if (embedded == null) {
                Path dir = Files.createTempDirectory("atelier-test-pg");
                embedded = EmbeddedPostgres.start(dir, 0);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        embedded.close();
                    } catch (IOException ignored) {
                        // the JVM is going away
                    }
                }));
            }
            embedded.createDatabaseIfMissing(name);
            return new Database(embedded.jdbcUrl(name), "postgres", null);
        } catch (IOException | SQLException e) {
            throw new IllegalStateException("could not create a test database: " + e.getMessage(), e);
        }
    }
}
