package dev.atelier.bench;

import org.springframework.jdbc.core.JdbcTemplate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU of the engine (this process minus the benchmark's client threads), CPU of PostgreSQL and its activity
 * counters, between two points in time.
 *
 * <p>PostgreSQL's CPU: on the embedded server (all ours) the whole server — the postmaster with the children it has
 * reaped and every live child process; on an external server only the backends connected to the benchmark's
 * database (its shared background processes are not counted).
 */
final class LoadMeter {

    private static final String[] DB_COUNTERS = {"xact_commit", "xact_rollback", "tup_returned", "tup_fetched",
            "tup_inserted", "tup_updated", "tup_deleted", "blks_read", "blks_hit"};

    record Snapshot(long wallNanos, long processCpu, long clientCpu, long postgresCpu, Map<String, Long> db,
                    Map<Long, Map.Entry<String, Long>> threads, long jitMillis, long gcMillis) {
    }

    private final JdbcTemplate jdbc;
    private final boolean wholeServer;
    private List<Long> pids = List.of();
    private long postmaster = -1;

    LoadMeter(JdbcTemplate jdbc, boolean wholeServer) {
        this.jdbc = jdbc;
        this.wholeServer = wholeServer;
    }

    Snapshot snapshot() {
        if (wholeServer && postmaster < 0) {
            Long backend = jdbc.queryForObject("SELECT pg_backend_pid()", Long.class);
            postmaster = parentOf(backend);
        }
        if (!wholeServer) {
            pids = jdbc.queryForList("SELECT pid FROM pg_stat_activity WHERE datname = current_database()", Long.class);
        }
        jdbc.execute("SELECT pg_stat_clear_snapshot()");
        Map<String, Long> db = new LinkedHashMap<>();
        jdbc.query("SELECT " + String.join(", ", DB_COUNTERS) + " FROM pg_stat_database WHERE datname = current_database()",
                rs -> {
                    for (String c : DB_COUNTERS) {
                        db.put(c, rs.getLong(c));
                    }
                });
        return new Snapshot(System.nanoTime(), Machine.processCpuNanos(), Machine.clientThreadsCpuNanos(), postgresCpu(), db,
                Machine.threadCpu(), java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime(),
                java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                        .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum());
    }

    /** Usage between two snapshots: CPU as a fraction of one core, counters per second. */
    static Map<String, Object> between(Snapshot a, Snapshot b) {
        double seconds = (b.wallNanos() - a.wallNanos()) / 1e9;
        long engine = (b.processCpu() - a.processCpu()) - (b.clientCpu() - a.clientCpu());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seconds", Report.round(seconds));
        m.put("engineCpuSeconds", Report.round(engine / 1e9));
        m.put("engineCoreFraction", Report.round(engine / 1e9 / seconds));
        m.put("clientCpuSeconds", Report.round((b.clientCpu() - a.clientCpu()) / 1e9));
        m.put("postgresCpuSeconds", Report.round((b.postgresCpu() - a.postgresCpu()) / 1e9));
        m.put("postgresCoreFraction", Report.round((b.postgresCpu() - a.postgresCpu()) / 1e9 / seconds));
        Map<String, Object> perSecond = new LinkedHashMap<>();
        a.db().forEach((k, v) -> perSecond.put(k, Report.round((b.db().getOrDefault(k, v) - v) / seconds)));
        m.put("databasePerSecond", perSecond);
        // Where the process's CPU went, by thread (numbers in names folded); JVM threads such as the JIT compiler
        // and the garbage collector are listed too, they are part of the engine's cost.
        Map<String, Long> byThread = new java.util.HashMap<>();
        b.threads().forEach((id, now) -> {
            Map.Entry<String, Long> before = a.threads().get(id);
            long delta = now.getValue() - (before == null ? 0 : before.getValue());
            byThread.merge(now.getKey().replaceAll("[0-9]+", "N"), delta, Long::sum);
        });
        Map<String, Object> top = new LinkedHashMap<>();
        byThread.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12)
                .forEach(e -> top.put(e.getKey(), Report.round(e.getValue() / 1e9)));
        m.put("cpuSecondsByThread", top);
        // Not in the list above (the JVM does not show these threads): elapsed time (not CPU) the JIT compiler
        // threads were busy, and GC pauses.
        m.put("jitSeconds", Report.round((b.jitMillis() - a.jitMillis()) / 1e3));
        m.put("gcPauseSeconds", Report.round((b.gcMillis() - a.gcMillis()) / 1e3));
        return m;
    }

    private long postgresCpu() {
        if (!wholeServer) {
            return Machine.pidsCpuNanos(pids);
        }
        long sum = reapedAndOwnCpu(postmaster);
        List<Long> children = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(pid -> parentOf(pid) == postmaster).forEach(children::add);
        } catch (IOException e) {
            return sum;
        }
        return sum + Machine.pidsCpuNanos(children);
    }

    /** utime + stime + cutime + cstime of a process (its own CPU and that of children it has waited for). */
    private static long reapedAndOwnCpu(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
            return ticks * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long parentOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[1]);
        } catch (IOException | RuntimeException e) {
            return -2;
        }
    }
}
