package dev.atelier.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The embedded default database keeps its data across restarts, also after the engine was killed with SIGKILL. */
class EmbeddedPostgresIT {

    @TempDir
    Path dataDir;

    @Test
    void dataSurvivesARestartAndTheServerStopsWithTheEngine() throws Exception {
        long pid;
        try (EmbeddedPostgres first = EmbeddedPostgres.start(dataDir, 0)) {
            execute(first, "CREATE TABLE kept (n INT)", "INSERT INTO kept VALUES (42)");
            pid = postmasterPid();
        }
        long stopped = pid;
        await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessHandle.of(stopped).map(ProcessHandle::isAlive).orElse(false));
        assertThat(dataDir.resolve("postgres/postmaster.pid")).doesNotExist();
        try (EmbeddedPostgres second = EmbeddedPostgres.start(dataDir, 0)) {
            assertThat(query(second, "SELECT n FROM kept")).containsExactly("42");
        }
    }

    @Test
    void anOrphanLeftByAKilledEngineIsStoppedAndTheDataIsKept() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process engine = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EmbeddedPostgresChild.class.getName(), dataDir.toString(), "written-before-kill")
                .redirectErrorStream(true).start();
        try {
            awaitReady(engine);
            long orphanPid = postmasterPid();
            engine.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: no shutdown hook runs
            assertThat(ProcessHandle.of(orphanPid).map(ProcessHandle::isAlive).orElse(false))
                    .as("the killed engine's postgres keeps running").isTrue();

            try (EmbeddedPostgres restarted = EmbeddedPostgres.start(dataDir, 0)) {
                assertThat(ProcessHandle.of(orphanPid).map(ProcessHandle::isAlive).orElse(false))
                        .as("the orphan was stopped").isFalse();
                assertThat(postmasterPid()).isNotEqualTo(orphanPid);
                assertThat(query(restarted, "SELECT note FROM survivor")).containsExactly("written-before-kill");
            }
        } finally {
            engine.destroyForcibly();
        }
    }

    @Test
    void aStalePidFileWithoutAProcessIsRemoved() throws Exception {
        try (EmbeddedPostgres first = EmbeddedPostgres.start(dataDir, 0)) {
            execute(first, "CREATE TABLE kept (n INT)");
        }
        // A pid file naming a process that is not postgres (this JVM's short-lived child has exited).
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(dataDir.resolve("postgres/postmaster.pid"), gone.pid() + "\n" + dataDir + "\n");
        try (EmbeddedPostgres second = EmbeddedPostgres.start(dataDir, 0)) {
            assertThat(query(second, "SELECT count(*) FROM kept")).containsExactly("0");
        }
    }

    private long postmasterPid() throws Exception {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());
    }

    private static void awaitReady(Process engine) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(engine.getInputStream()));
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            if (line.startsWith("READY")) {
                return;
            }
            seen.add(line);
        }
        throw new AssertionError("child engine did not start: " + String.join("\n", seen));
    }

    private static void execute(EmbeddedPostgres postgres, String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(EmbeddedPostgres.DATABASE),
                postgres.engineUser(), postgres.enginePassword());
             Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private static List<String> query(EmbeddedPostgres postgres, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(EmbeddedPostgres.DATABASE),
                postgres.engineUser(), postgres.enginePassword());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
            return rows;
        }
    }
}
