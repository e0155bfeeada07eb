package dev.atelier.bench;

import dev.atelier.config.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL database a run uses, always a fresh one: the engine's own embedded PostgreSQL (as a default
 * installation runs), an external server ({@code ATELIER_BENCH_DB_URL} names a database to connect to for
 * {@code CREATE DATABASE}; {@code ATELIER_BENCH_DB_USER}, {@code ATELIER_BENCH_DB_PASSWORD}), or a database
 * handed in by a test.
 */
record BenchDatabase(String url, String user, String password, String kind, boolean wholeServerIsOurs,
                     AutoCloseable cleanup) implements AutoCloseable {

    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/]+/)([^?]*)(\\?.*)?");

    static BenchDatabase open(String kind, Path workDir) {
        return switch (kind) {
            case "embedded" -> embedded(workDir);
            case "external" -> external();
            default -> throw new IllegalArgumentException("bench.db must be embedded or external, was " + kind);
        };
    }

    static BenchDatabase embedded(Path workDir) {
        try {
            Path dir = Files.createDirectories(workDir.resolve("postgres-" + System.nanoTime()));
            EmbeddedPostgres postgres = EmbeddedPostgres.start(dir, 0);
            postgres.createDatabaseIfMissing("atelier_bench");
            return new BenchDatabase(postgres.jdbcUrl("atelier_bench"), postgres.engineUser(), postgres.enginePassword(),
                    "embedded", true, () -> {
                postgres.close();
                deleteTree(dir);
            });
        } catch (IOException | SQLException e) {
            throw new IllegalStateException("could not start the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    static BenchDatabase external() {
        String adminUrl = System.getenv("ATELIER_BENCH_DB_URL");
        if (adminUrl == null || adminUrl.isBlank()) {
            throw new IllegalStateException("bench.db=external needs ATELIER_BENCH_DB_URL, for example "
                    + "jdbc:postgresql://127.0.0.1:5432/postgres (with ATELIER_BENCH_DB_USER, ATELIER_BENCH_DB_PASSWORD)");
        }
        String user = System.getenv().getOrDefault("ATELIER_BENCH_DB_USER", "postgres");
        String password = System.getenv("ATELIER_BENCH_DB_PASSWORD");
        Matcher m = URL.matcher(adminUrl);
        if (!m.matches()) {
            throw new IllegalStateException("ATELIER_BENCH_DB_URL must look like jdbc:postgresql://host:port/database");
        }
        String name = "atelier_bench_" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss"));
        try (Connection c = DriverManager.getConnection(adminUrl, user, password); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create database " + name + " on " + adminUrl + ": " + e.getMessage(), e);
        }
        String url = m.group(1) + name + (m.group(3) == null ? "" : m.group(3));
        boolean keep = Boolean.getBoolean("bench.keepDb");
        return new BenchDatabase(url, user, password, "external", false, () -> {
            if (keep) {
                return;
            }
            try (Connection c = DriverManager.getConnection(adminUrl, user, password); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            }
        });
    }

    static BenchDatabase given(String url, String user, String password) {
        return new BenchDatabase(url, user, password, "given", false, () -> {
        });
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    /** Server version and the settings that decide write speed, for the report. */
    String describe() {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            StringBuilder sb = new StringBuilder();
            try (ResultSet rs = s.executeQuery("SHOW server_version")) {
                rs.next();
                sb.append("PostgreSQL ").append(rs.getString(1)).append(" (").append(kind).append(")");
            }
            for (String setting : new String[]{"synchronous_commit", "fsync", "shared_buffers"}) {
                try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
                    rs.next();
                    sb.append(", ").append(setting).append("=").append(rs.getString(1));
                }
            }
            return sb.toString();
        } catch (SQLException e) {
            return "PostgreSQL (" + kind + "): " + e.getMessage();
        }
    }

    @Override
    public void close() throws Exception {
        cleanup.close();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
