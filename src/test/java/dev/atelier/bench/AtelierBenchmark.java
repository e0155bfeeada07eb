package dev.atelier.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Entry point of {@code ./mvnw -Pbench verify} (the {@code bench} profile runs this class with Failsafe; the
 * normal build never does: its name matches neither {@code *Test} nor {@code *IT}).
 */
class AtelierBenchmark {

    @Test
    void run() throws Exception {
        Report report = Benchmark.run(BenchConfig.fromSystemProperties(), null);
        assertThat(report.phases.values()).as("phases that failed").noneMatch(p -> p.containsKey("error"));
    }
}
