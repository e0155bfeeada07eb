package dev.atelier.config;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The embedded default database trusts nobody: every login needs a password, the engine's role can do nothing
 * beyond its own database, the passwords are files only their owner reads and never appear in a log, and a data
 * directory of an older version (trust, everything owned by the superuser) is upgraded in place without losing data.
 */
class EmbeddedPostgresSecurityIT {

    @TempDir
    static Path dataDir;
    static EmbeddedPostgres postgres;
    static final List<ILoggingEvent> logged = new ArrayList<>();
    static ListAppender<ILoggingEvent> appender;

    @BeforeAll
    static void start() {
        appender = new ListAppender<>();
        appender.start();
        rootLogger().addAppender(appender);
        try {
            postgres = EmbeddedPostgres.start(dataDir, 0);
        } finally {
            rootLogger().detachAppender(appender);
            logged.addAll(appender.list);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void theEngineRoleCannotRunProgramsCreateRolesOrReadPasswordHashes() throws Exception {
        try (Connection c = engine(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
                    + "FROM pg_roles WHERE rolname = current_user")) {
                assertThat(rs.next()).isTrue();
                for (int i = 1; i <= 5; i++) {
                    assertThat(rs.getBoolean(i)).as("attribute %d of the engine's role", i).isFalse();
                }
            }
            assertThatThrownBy(() -> s.execute("COPY (SELECT 1) TO PROGRAM 'touch /tmp/atelier-pwned'"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                    .hasMessageContaining("pg_execute_server_program");
            assertThat(Path.of("/tmp/atelier-pwned")).doesNotExist();
            assertThatThrownBy(() -> s.execute("CREATE ROLE intruder LOGIN SUPERUSER"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                    .hasMessageContaining("permission denied to create role");
            assertThatThrownBy(() -> s.executeQuery("SELECT rolpassword FROM pg_authid"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                    .hasMessageContaining("permission denied for table pg_authid");
            assertThatThrownBy(() -> s.execute("ALTER ROLE " + EmbeddedPostgres.ENGINE_ROLE + " SUPERUSER"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> s.executeQuery("SELECT pg_read_file('postgresql.conf')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            // What it may do: everything inside its own database.
            s.execute("CREATE TABLE owned_by_engine (n INT)");
            s.execute("DROP TABLE owned_by_engine");
        }
        try (Connection c = engine(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("roles named intruder").isZero();
        }
    }

    @Test
    void aConnectionWithoutThePasswordIsRefused() {
        String url = postgres.jdbcUrl(EmbeddedPostgres.DATABASE);
        for (String user : List.of("postgres", EmbeddedPostgres.ENGINE_ROLE)) {
            assertThatThrownBy(() -> DriverManager.getConnection(url, user, null).close()).as("%s without a password", user)
                    .isInstanceOf(SQLException.class).hasMessageContaining("no password was provided");
            assertThatThrownBy(() -> DriverManager.getConnection(url, user, "guessed").close()).as("%s with a wrong one", user)
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"))
                    .hasMessageContaining("password authentication failed");
        }
        assertThat(Path.of(dataDir.toString(), "postgres", "pg_hba.conf")).content()
                .isEqualTo(PostgresAuthentication.HBA).doesNotContain("trust");
    }

    @Test
    void thePasswordsAreOwnerOnlyFilesAndNeverLogged() throws Exception {
        Path dir = dataDir.resolve(DatabaseCredentials.DIRECTORY);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        for (String file : List.of(DatabaseCredentials.SUPERUSER_FILE, DatabaseCredentials.ENGINE_FILE)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(file)))).as(file)
                    .isEqualTo("rw-------");
        }
        String superuser = Files.readString(dir.resolve(DatabaseCredentials.SUPERUSER_FILE)).strip();
        assertThat(superuser).hasSizeGreaterThanOrEqualTo(40).isNotEqualTo(postgres.enginePassword());
        assertThat(logged).as("log events of the start").isNotEmpty();
        for (ILoggingEvent event : logged) {
            String text = event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
                    : event.getThrowableProxy().getMessage());
            assertThat(text).doesNotContain(superuser).doesNotContain(postgres.enginePassword());
        }
    }

    @Test
    void aDataDirectoryOfAnOlderVersionIsUpgradedInPlaceWithoutLosingData(@TempDir Path old) throws Exception {
        // What older versions left behind: initdb's trust configuration and everything owned by postgres.
        try (var legacy = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                .setDataDirectory(old.resolve("postgres")).setCleanDataDirectory(false).start()) {
            try (Connection c = legacy.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE atelier");
            }
            try (Connection c = legacy.getDatabase("postgres", "atelier").getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept (id BIGSERIAL PRIMARY KEY, note TEXT)");
                s.execute("INSERT INTO kept (note) VALUES ('written by an old engine')");
                s.execute("CREATE SCHEMA extra");
                s.execute("CREATE TABLE extra.more (n INT)");
                s.execute("CREATE VIEW kept_notes AS SELECT note FROM kept");
                s.execute("CREATE FUNCTION kept_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM kept'");
                s.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')");
            }
        }
        assertThat(old.resolve("postgres/pg_hba.conf")).content().contains("trust");

        try (EmbeddedPostgres upgraded = EmbeddedPostgres.start(old, 0)) {
            try (Connection c = DriverManager.getConnection(upgraded.jdbcUrl(EmbeddedPostgres.DATABASE),
                    upgraded.engineUser(), upgraded.enginePassword()); Statement s = c.createStatement()) {
                assertThat(single(s, "SELECT note FROM kept")).isEqualTo("written by an old engine");
                s.execute("INSERT INTO kept (note) VALUES ('written by the new one')");
                s.execute("ALTER TABLE kept ADD COLUMN added_later INT");
                s.execute("INSERT INTO extra.more VALUES (1)");
                s.execute("CREATE OR REPLACE VIEW kept_notes AS SELECT note, id FROM kept");
                assertThat(single(s, "SELECT kept_count()")).isEqualTo("2");
                s.execute("ALTER TYPE mood ADD VALUE 'away'");
                assertThat(single(s, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE n.nspname IN ('public', 'extra') AND c.relowner <> 'atelier'::regrole"))
                        .as("objects not handed over").isEqualTo("0");
            }
            assertThatThrownBy(() -> DriverManager.getConnection(upgraded.jdbcUrl("atelier"), "postgres", null).close())
                    .isInstanceOf(SQLException.class).hasMessageContaining("no password was provided");
            assertThat(old.resolve("postgres/pg_hba.conf")).content().isEqualTo(PostgresAuthentication.HBA);
        }
        // A second start of the upgraded directory needs no upgrade and keeps everything.
        try (EmbeddedPostgres again = EmbeddedPostgres.start(old, 0);
             Connection c = DriverManager.getConnection(again.jdbcUrl(EmbeddedPostgres.DATABASE), again.engineUser(),
                     again.enginePassword()); Statement s = c.createStatement()) {
            assertThat(single(s, "SELECT count(*) FROM kept")).isEqualTo("2");
        }
    }

    private static Connection engine() throws SQLException {
        return DriverManager.getConnection(postgres.jdbcUrl(EmbeddedPostgres.DATABASE), postgres.engineUser(),
                postgres.enginePassword());
    }

    private static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getString(1);
        }
    }

    private static Logger rootLogger() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
