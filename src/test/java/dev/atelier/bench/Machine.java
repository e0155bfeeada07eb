package dev.atelier.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the machine is and what this process (and its database) use, from /proc and the JVM's management beans. */
final class Machine {

    /** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
    private static final long CLK_TCK = 100;

    private Machine() {
    }

    static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpuModel", firstValue(Path.of("/proc/cpuinfo"), "model name").orElse("unknown"));
        m.put("memoryGiB", Math.round(kib(Path.of("/proc/meminfo"), "MemTotal") / 1024.0 / 1024.0 * 10) / 10.0);
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("maxHeapMiB", Runtime.getRuntime().maxMemory() / 1024 / 1024);
        return m;
    }

    /** The 1, 5 and 15 minute load averages. */
    static List<Double> loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return List.of(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]), Double.parseDouble(parts[2]));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    static long rssKiB() {
        return kib(Path.of("/proc/self/status"), "VmRSS");
    }

    /** RSS and heap now; with {@code collect} the heap figure is the live set after a full GC. */
    static Map<String, Object> memory(boolean collect) {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        if (collect) {
            System.gc();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rssMiB", rssKiB() / 1024);
        m.put("heapUsedMiB", memory.getHeapMemoryUsage().getUsed() / 1024 / 1024);
        m.put("heapCommittedMiB", memory.getHeapMemoryUsage().getCommitted() / 1024 / 1024);
        // The highest heap use since the previous call (sum of the pools' peaks), then the peaks start again.
        long peak = 0;
        for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
                pool.resetPeakUsage();
            }
        }
        m.put("heapPeakMiB", peak / 1024 / 1024);
        m.put("nonHeapUsedMiB", memory.getNonHeapMemoryUsage().getUsed() / 1024 / 1024);
        m.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
        return m;
    }

    /** CPU time of this whole process (all threads, GC and JIT included), nanoseconds. */
    static long processCpuNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return pidCpuNanos(ProcessHandle.current().pid());
    }

    /** CPU time (user + system) of a process from /proc/<pid>/stat, nanoseconds; 0 once it is gone. */
    static long pidCpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based) -> indexes 11, 12
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * (1_000_000_000L / CLK_TCK);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static long pidsCpuNanos(Collection<Long> pids) {
        long sum = 0;
        for (long pid : pids) {
            sum += pidCpuNanos(pid);
        }
        return sum;
    }

    /**
     * CPU time of the benchmark's own client threads (the simulated users, agents and watchers run in this JVM):
     * subtracted from the process CPU, what remains is the engine's (GC and JIT are shared and stay on its side).
     */
    static long clientThreadsCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && isClientThread(info.getThreadName())) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                if (cpu > 0) {
                    sum += cpu;
                }
            }
        }
        return sum;
    }

    /** CPU time of every live Java thread: id → (name, nanoseconds). */
    static Map<Long, Map.Entry<String, Long>> threadCpu() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<Long, Map.Entry<String, Long>> result = new java.util.HashMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                if (cpu > 0) {
                    result.put(info.getThreadId(), Map.entry(info.getThreadName(), cpu));
                }
            }
        }
        return result;
    }

    static boolean isClientThread(String name) {
        // the simulated clients, and the JDK Flight Recorder when the benchmark profiles a phase
        return name.startsWith("bench-") || name.startsWith("HttpClient-") || name.startsWith("JFR ");
    }

    private static Optional<String> firstValue(Path file, String key) {
        try {
            return Files.readAllLines(file).stream().filter(l -> l.startsWith(key))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static long kib(Path file, String key) {
        return firstValue(file, key).map(v -> Long.parseLong(v.replace("kB", "").trim())).orElse(0L);
    }
}
