package dev.atelier.config;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * Run in a separate JVM by {@link EmbeddedPostgresIT}: starts the embedded PostgreSQL on a data dir, writes a row,
 * says READY and waits to be killed, as an engine that dies with SIGKILL would.
 */
public final class EmbeddedPostgresChild {

    public static void main(String[] args) throws Exception {
        EmbeddedPostgres postgres = EmbeddedPostgres.start(Path.of(args[0]), 0);
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(EmbeddedPostgres.DATABASE),
                postgres.engineUser(), postgres.enginePassword());
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS survivor (note TEXT)");
            s.execute("INSERT INTO survivor VALUES ('" + args[1] + "')");
        }
        System.out.println("READY " + postgres.port());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
