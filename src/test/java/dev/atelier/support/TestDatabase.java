package dev.atelier.support;

import dev.atelier.config.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fresh, empty PostgreSQL database per test context: on the same embedded PostgreSQL the engine uses by default
 * (one server per test JVM), or on the external server named by {@code ATELIER_TEST_DB_URL}
 * ({@code ATELIER_TEST_DB_USER}, {@code ATELIER_TEST_DB_PASSWORD}: a superuser, which creates the databases).
 *
 * <p>Either way the engine under test gets what a production engine gets: a role that owns its database and has
 * no other privilege (the embedded server's {@code atelier} role, or on an external server a role made for this
 * JVM), so a test passes only if nothing at run time needs more. Tests that play an attacker with database
 * access use {@link #superuser(String)}.
 */
public final class TestDatabase {

    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/]+/)([^?]*)(\\?.*)?");
    private static EmbeddedPostgres embedded;
    private static Path embeddedDir;
    private static Database externalOwner;

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
                Matcher m = URL.matcher(adminUrl);
                if (!m.matches()) {
                    throw new IllegalStateException("ATELIER_TEST_DB_URL must look like jdbc:postgresql://host:port/db");
                }
                try (Connection c = adminConnection(adminUrl); Statement s = c.createStatement()) {
                    if (externalOwner == null) {
                        // One owner role per JVM, made as deploy/README.md tells operators to make the engine's role.
                        String role = "atelier_test_" + HexFormat.of().formatHex(random(6));
                        String password = HexFormat.of().formatHex(random(24));
                        s.execute("CREATE ROLE " + role + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                + "PASSWORD '" + password + "'");
                        externalOwner = new Database(null, role, password);
                    }
                    s.execute("CREATE DATABASE " + name + " OWNER " + externalOwner.user());
                }
                return new Database(m.group(1) + name + (m.group(3) == null ? "" : m.group(3)), externalOwner.user(),
                        externalOwner.password());
            }
            if (embedded == null) {
                embeddedDir = Files.createTempDirectory("atelier-test-pg");
                embedded = EmbeddedPostgres.start(embeddedDir, 0);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        embedded.close();
                    } catch (IOException ignored) {
                        // the JVM is going away
                    }
                }));
            }
            embedded.createDatabaseIfMissing(name);
            return new Database(embedded.jdbcUrl(name), embedded.engineUser(), embedded.enginePassword());
        } catch (IOException | SQLException e) {
            throw new IllegalStateException("could not create a test database: " + e.getMessage(), e);
        }
    }

    /** The embedded server of this JVM (started by {@link #create()}), for tests of the server itself. */
    public static synchronized EmbeddedPostgres embedded() {
        if (embedded == null) {
            create();
        }
        return embedded;
    }

    /**
     * A superuser session on the database at {@code jdbcUrl} (one {@link #create()} made): what an attacker who
     * owns the database server could do, for tests of tamper evidence.
     */
    public static Connection superuser(String jdbcUrl) throws SQLException {
        if (external()) {
            return adminConnection(jdbcUrl);
        }
        try {
            String password = Files.readString(embeddedDir.resolve("db-credentials/superuser.password")).strip();
            return DriverManager.getConnection(jdbcUrl, "postgres", password);
        } catch (IOException e) {
            throw new SQLException("no superuser password of the embedded test server: " + e.getMessage(), e);
        }
    }

    private static Connection adminConnection(String url) throws SQLException {
        return DriverManager.getConnection(url, System.getenv("ATELIER_TEST_DB_USER"),
                System.getenv("ATELIER_TEST_DB_PASSWORD"));
    }

    private static byte[] random(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
