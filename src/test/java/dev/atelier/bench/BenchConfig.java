package dev.atelier.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * Benchmark parameters: {@code -Dbench.<name>=<value>} over the defaults of the mode ({@code full}, or
 * {@code quick} with {@code -Dbench.quick=true}, or {@code smoke} for the test suite).
 */
public record BenchConfig(String mode, int workspaces, int clients, int warmup, long events, int appendEvents,
                          int appendBatch, int appendThreads, int heartbeatWorkspaces, Duration heartbeatInterval,
                          Duration heartbeatDuration, int idleWorkspaces, Duration idleTimeout, int watchers,
                          int sseLifecycles, Duration rebuildTimeLimit, int auditEntries, int auditQueries,
                          boolean auditVerify, String db, Path outputDir, Path docsFile,
                          Set<String> phases, boolean profile, int costWorkspaces, int costRepetitions) {

    public static final Set<String> ALL_PHASES = Set.of("lifecycle", "sse", "heartbeat", "idle", "cost", "append", "audit",
            "catchup");

    public static BenchConfig fromSystemProperties() {
        return from(System.getProperties());
    }

    public static BenchConfig from(Properties p) {
        String mode = Boolean.parseBoolean(p.getProperty("bench.quick", "false")) ? "quick"
                : p.getProperty("bench.mode", "full");
        Map<String, String> d = defaults(mode);
        Function<String, String> get = name -> p.getProperty("bench." + name, d.get(name));
        String phases = get.apply("phases");
        Set<String> selected = new LinkedHashSet<>(Arrays.asList(phases.split(",")));
        selected.removeIf(String::isBlank);
        for (String phase : selected) {
            if (!ALL_PHASES.contains(phase)) {
                throw new IllegalArgumentException("bench.phases: unknown phase '" + phase + "' (known: " + ALL_PHASES + ")");
            }
        }
        String docs = get.apply("docs");
        return new BenchConfig(mode,
                Integer.parseInt(get.apply("workspaces")),
                Integer.parseInt(get.apply("clients")),
                Integer.parseInt(get.apply("warmup")),
                Long.parseLong(get.apply("events")),
                Integer.parseInt(get.apply("appendEvents")),
                Integer.parseInt(get.apply("appendBatch")),
                Integer.parseInt(get.apply("appendThreads")),
                Integer.parseInt(get.apply("heartbeatWorkspaces")),
                Duration.parse(get.apply("heartbeatInterval")),
                Duration.parse(get.apply("heartbeatDuration")),
                Integer.parseInt(get.apply("idleWorkspaces")),
                Duration.parse(get.apply("idleTimeout")),
                Integer.parseInt(get.apply("watchers")),
                Integer.parseInt(get.apply("sseLifecycles")),
                Duration.parse(get.apply("rebuildTimeLimit")),
                Integer.parseInt(get.apply("auditEntries")),
                Integer.parseInt(get.apply("auditQueries")),
                Boolean.parseBoolean(get.apply("auditVerify")),
                get.apply("db"),
                Path.of(get.apply("output")),
                docs.isBlank() ? null : Path.of(docs),
                selected,
                Boolean.parseBoolean(get.apply("profile")),
                Integer.parseInt(get.apply("costWorkspaces")),
                Integer.parseInt(get.apply("costRepetitions")));
    }

    static Map<String, String> defaults(String mode) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("workspaces", "2000");
        d.put("clients", "64");
        d.put("warmup", "200");
        d.put("events", "1000000");
        d.put("appendEvents", "100000");
        d.put("appendBatch", "100");
        d.put("appendThreads", "4");
        d.put("heartbeatWorkspaces", "10000");
        d.put("heartbeatInterval", "PT30S");
        d.put("heartbeatDuration", "PT60S");
        d.put("idleWorkspaces", "1000");
        d.put("idleTimeout", "PT20S");
        d.put("watchers", "1000");
        d.put("sseLifecycles", "50");
        d.put("rebuildTimeLimit", "PT2M");
        d.put("auditEntries", "1000000");
        d.put("auditQueries", "200");
        d.put("auditVerify", "true");
        d.put("db", "embedded");
        d.put("output", "target/bench");
        d.put("docs", "docs/benchmarks.md");
        d.put("phases", String.join(",", "lifecycle", "sse", "heartbeat", "idle", "cost", "append", "audit", "catchup"));
        d.put("profile", "true");
        d.put("costWorkspaces", "100000");
        d.put("costRepetitions", "20");
        switch (mode) {
            case "full" -> {
            }
            case "quick" -> {
                d.put("workspaces", "150");
                d.put("clients", "16");
                d.put("warmup", "30");
                d.put("events", "50000");
                d.put("appendEvents", "10000");
                d.put("heartbeatWorkspaces", "1000");
                d.put("heartbeatDuration", "PT10S");
                d.put("idleWorkspaces", "100");
                d.put("idleTimeout", "PT4S");
                d.put("watchers", "50");
                d.put("sseLifecycles", "10");
                d.put("rebuildTimeLimit", "PT10S");
                d.put("costWorkspaces", "10000");
                d.put("costRepetitions", "10");
                d.put("auditEntries", "50000");
                d.put("auditQueries", "100");
            }
            case "smoke" -> {
                d.put("workspaces", "6");
                d.put("clients", "2");
                d.put("warmup", "2");
                d.put("events", "3000");
                d.put("appendEvents", "400");
                d.put("appendBatch", "20");
                d.put("appendThreads", "2");
                d.put("heartbeatWorkspaces", "10");
                d.put("heartbeatInterval", "PT1S");
                d.put("heartbeatDuration", "PT2S");
                d.put("idleWorkspaces", "4");
                d.put("idleTimeout", "PT4S");
                d.put("watchers", "3");
                d.put("sseLifecycles", "2");
                d.put("rebuildTimeLimit", "PT60S");
                d.put("auditEntries", "3000");
                d.put("auditQueries", "5");
                d.put("docs", "");
                d.put("profile", "false");
                d.put("costWorkspaces", "40");
                d.put("costRepetitions", "2");
            }
            default -> throw new IllegalArgumentException("bench.mode must be full, quick or smoke, was " + mode);
        }
        return d;
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode);
        m.put("workspaces", workspaces);
        m.put("clients", clients);
        m.put("warmup", warmup);
        m.put("events", events);
        m.put("appendEvents", appendEvents);
        m.put("appendBatch", appendBatch);
        m.put("appendThreads", appendThreads);
        m.put("heartbeatWorkspaces", heartbeatWorkspaces);
        m.put("heartbeatInterval", heartbeatInterval.toString());
        m.put("heartbeatDuration", heartbeatDuration.toString());
        m.put("idleWorkspaces", idleWorkspaces);
        m.put("idleTimeout", idleTimeout.toString());
        m.put("watchers", watchers);
        m.put("sseLifecycles", sseLifecycles);
        m.put("rebuildTimeLimit", rebuildTimeLimit.toString());
        m.put("auditEntries", auditEntries);
        m.put("auditQueries", auditQueries);
        m.put("auditVerify", auditVerify);
        m.put("db", db);
        m.put("phases", String.join(",", phases));
        m.put("profile", profile);
        m.put("costWorkspaces", costWorkspaces);
        m.put("costRepetitions", costRepetitions);
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("bench.engine.")).sorted()
                .forEach(k -> m.put(k.substring("bench.".length()), System.getProperty(k)));
        return m;
    }

    boolean runs(String phase) {
        return phases.contains(phase);
    }
}
