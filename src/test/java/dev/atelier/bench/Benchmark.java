package dev.atelier.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Atelier's benchmark harness: starts the real engine on a fresh PostgreSQL with the {@link NullProvider} and runs
 * the phases of issue 8 in one go, then writes {@code target/bench/results.json} and appends a Markdown section to
 * {@code docs/benchmarks.md}. Run it with {@code ./mvnw -Pbench verify} (docs/benchmarks.md lists the parameters).
 */
public final class Benchmark {

    /**
     * The phases, in the order they run. A projection's rebuild is measured by {@link CatchUpPhase#PROJECTIONS}, which
     * shuts the processors down: it stays last.
     */
    static final List<BenchPhase> PHASES = List.of(new LifecyclePhase(), new SseFanoutPhase(), new HeartbeatPhase(),
            new IdleStopPhase(), new CostReportPhase(), new AppendPhase(), new AuditQueryPhase(), new CatchUpPhase());

    private Benchmark() {
    }

    public static void main(String[] args) throws Exception {
        run(BenchConfig.fromSystemProperties(), null);
    }

    /** @param given a database to use instead of the one {@code bench.db} names (tests), or null */
    public static Report run(BenchConfig config, BenchDatabase given) throws Exception {
        Report report = new Report();
        long start = System.nanoTime();
        report.meta.put("date", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")));
        report.meta.put("mode", config.mode());
        report.meta.put("commit", commit());
        report.meta.put("loadAtStart", Machine.loadAverage());
        report.meta.put("machine", Machine.describe());
        report.meta.put("parameters", config.toMap());
        BenchRun.log("%s run, load average %s, parameters %s", config.mode(), Machine.loadAverage(), config.toMap());
        Path work = Files.createTempDirectory("atelier-bench");
        try (BenchDatabase db = given != null ? given : BenchDatabase.open(config.db(), work)) {
            report.meta.put("database", db.describe());
            long boot = System.nanoTime();
            try (BenchEngine engine = BenchEngine.start(db, work.resolve("data"));
                 BenchHttp http = new BenchHttp(engine.baseUrl(), 8)) {
                report.meta.put("engineStartSeconds", Report.round(BenchRun.seconds(System.nanoTime() - boot)));
                report.memory.put("engine started", Machine.memory(true));
                BenchRun run = new BenchRun(config, db, engine, http, report);
                for (BenchPhase phase : PHASES) {
                    if (!config.runs(phase.id())) {
                        continue;
                    }
                    runPhase(run, phase);
                }
            }
        } finally {
            deleteTree(work);
        }
        report.meta.put("loadAtEnd", Machine.loadAverage());
        report.meta.put("durationSeconds", Math.round(BenchRun.seconds(System.nanoTime() - start)));
        report.writeJson(config.outputDir().resolve("results.json"));
        if (config.docsFile() != null) {
            report.appendMarkdown(config.docsFile());
            BenchRun.log("appended the results to %s", config.docsFile());
        }
        BenchRun.log("done in %s s; results in %s", report.meta.get("durationSeconds"), config.outputDir().resolve("results.json"));
        System.out.println(report.markdown());
        return report;
    }

    private static void runPhase(BenchRun run, BenchPhase phase) {
        BenchRun.log("phase %s: start (load average %s)", phase.id(), Machine.loadAverage());
        Map<String, Object> result = run.report.phase(phase.id());
        result.put("loadAtStart", Machine.loadAverage());
        long start = System.nanoTime();
        PhaseProfiler profiler = null;
        try {
            if (run.config.profile()) {
                profiler = new PhaseProfiler(run.config.outputDir(), phase.id());
            }
            phase.run(run);
            result.put("phaseSeconds", Report.round(BenchRun.seconds(System.nanoTime() - start)));
        } catch (Exception | AssertionError e) {
            BenchRun.log("phase %s FAILED: %s", phase.id(), e);
            e.printStackTrace(System.out);
            result.put("error", String.valueOf(e));
            run.report.line(phase.title(), "**failed**: " + e);
        } finally {
            if (profiler != null) {
                try {
                    run.report.profiles.put(phase.id(), profiler.stopAndSummarize());
                } catch (IOException | RuntimeException e) {
                    BenchRun.log("profile of %s not written: %s", phase.id(), e);
                } finally {
                    profiler.close();
                }
            }
        }
        run.report.memory.put(phase.id(), Machine.memory(true));
        BenchRun.log("phase %s: done in %.1f s, memory %s", phase.id(), BenchRun.seconds(System.nanoTime() - start),
                run.report.memory.get(phase.id()));
    }

    static String commit() {
        try {
            String hash = git("rev-parse", "--short=10", "HEAD");
            String dirty = git("status", "--porcelain", "--untracked-files=no");
            return hash + (dirty.isBlank() ? "" : " (with uncommitted changes)");
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String git(String... args) throws IOException, InterruptedException {
        String[] command = new String[args.length + 1];
        command[0] = "git";
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("git failed: " + out);
        }
        return out;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }
}
