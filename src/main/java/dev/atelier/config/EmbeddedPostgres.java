package dev.atelier.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
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
 *
 * <p>Least privilege (docs/architecture.md, "Threat model"): the server listens on 127.0.0.1 only, has no Unix
 * socket and wants a password for every login ({@link PostgresAuthentication}). The engine connects as
 * {@link #ENGINE_ROLE}, a role without any special attribute that owns the {@code atelier} database, its schema and
 * every object in it, so migrations and the engine need nothing more. The superuser {@code postgres} is used only
 * here at start-up, to create that role and to hand data directories of older versions (where everything belonged
 * to {@code postgres}) over to it.
 */
public final class EmbeddedPostgres implements AutoCloseable {

    public static final String DATABASE = "atelier";
    /** The role the engine connects as: owner of its database, nothing else (no superuser, no CREATEROLE...). */
    public static final String ENGINE_ROLE = "atelier";
    static final String SUPERUSER = "postgres";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

    private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
    private final DatabaseCredentials credentials;

    private EmbeddedPostgres(io.zonky.test.db.postgres.embedded.EmbeddedPostgres server, DatabaseCredentials credentials) {
        this.server = server;
        this.credentials = credentials;
    }

    public static EmbeddedPostgres start(Path dataDir, int port) {
        Path data = dataDir.toAbsolutePath().normalize();
        Path pgData = data.resolve("postgres");
        try {
            DatabaseCredentials credentials = DatabaseCredentials.load(data);
            Files.createDirectories(pgData);
            stopOrphan(pgData);
            boolean existing = Files.exists(pgData.resolve("postgresql.conf"));
            var builder = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                    .setDataDirectory(pgData)
                    .setCleanDataDirectory(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setPgBinaryResolver(PostgresAuthentication.Binaries.RESOLVER)
                    .setOverrideWorkingDirectory(PostgresAuthentication.Binaries.workingDirectory())
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("unix_socket_directories", "")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setServerConfig("max_connections", "200")
                    // zonky's own readiness check logs in as postgres.
                    .setConnectConfig("password", credentials.superuser())
                    .setDataDirectoryCustomizer(dir -> PostgresAuthentication.enforce(dir.toPath(), credentials, existing));
            if (port > 0) {
                builder.setPort(port);
            }
            EmbeddedPostgres postgres = new EmbeddedPostgres(builder.start(), credentials);
            postgres.prepareEngineRole();
            postgres.createDatabaseIfMissing(DATABASE);
            log.info("embedded PostgreSQL ready on 127.0.0.1:{} with data in {}; the engine connects as role '{}'",
                    postgres.port(), pgData, ENGINE_ROLE);
            return postgres;
        } catch (IOException | SQLException | RuntimeException e) {
            throw new IllegalStateException("could not start the embedded PostgreSQL in " + pgData + ": "
                    + e.getMessage() + " (set ATELIER_DB_URL to use an external PostgreSQL instead)", e);
        }
    }

    public int port() {
        return server.getPort();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    /** The role the engine logs in as ({@link #ENGINE_ROLE}). */
    public String engineUser() {
        return ENGINE_ROLE;
    }

    /** The engine role's password; a secret: never log it. */
    public String enginePassword() {
        return credentials.engine();
    }

    /** Creates {@code database}, owned by the engine's role; an existing one is handed over to that role. */
    public void createDatabaseIfMissing(String database) throws SQLException {
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("invalid database name " + database);
        }
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("CREATE DATABASE \"" + database + "\" OWNER " + ENGINE_ROLE);
                return;
            }
            s.execute("ALTER DATABASE \"" + database + "\" OWNER TO " + ENGINE_ROLE);
        }
        handOver(database);
    }

    /**
     * The engine's role: may log in, nothing else. Its password is set anew at every start (as a SCRAM verifier,
     * never as text), so that regenerated password files take effect.
     */
    private void prepareEngineRole() throws SQLException {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + ENGINE_ROLE + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("CREATE ROLE " + ENGINE_ROLE);
            }
            s.execute("ALTER ROLE " + ENGINE_ROLE + " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    + "NOBYPASSRLS INHERIT PASSWORD '" + PostgresAuthentication.scramVerifier(credentials.engine()) + "'");
        }
    }

    /**
     * Gives every object the superuser owns in {@code database}'s own schemas to the engine's role: databases of
     * older versions were written by {@code postgres}. {@code REASSIGN OWNED} cannot be used, because the bootstrap
     * superuser also owns the system catalogs. Cheap when there is nothing to hand over.
     */
    private void handOver(String database) throws SQLException {
        try (Connection c = superuser(database); Statement s = c.createStatement()) {
            s.execute(HAND_OVER.replace("{role}", ENGINE_ROLE));
        }
    }

    private static final String HAND_OVER = """
            DO $$
            DECLARE r record;
            BEGIN
              FOR r IN SELECT n.nspname FROM pg_namespace n
                       WHERE n.nspowner = 'postgres'::regrole AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\'
                         AND n.nspname <> 'information_schema' LOOP
                EXECUTE format('ALTER SCHEMA %I OWNER TO {role}', r.nspname);
              END LOOP;
              FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.relowner = 'postgres'::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                         AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\' AND n.nspname <> 'information_schema'
                         AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))) LOOP
                EXECUTE format('ALTER %s %s OWNER TO {role}', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                  WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.name);
              END LOOP;
              FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE p.proowner = 'postgres'::regrole
                         AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\' AND n.nspname <> 'information_schema' LOOP
                EXECUTE format('ALTER ROUTINE %s OWNER TO {role}', r.name);
              END LOOP;
              FOR r IN SELECT t.oid::regtype AS name, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                       WHERE t.typowner = 'postgres'::regrole AND t.typtype IN ('d', 'e', 'r', 'm')
                         AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\' AND n.nspname <> 'information_schema' LOOP
                EXECUTE format('ALTER %s %s OWNER TO {role}', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.name);
              END LOOP;
            END $$""";

    private Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), SUPERUSER, credentials.superuser());
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
