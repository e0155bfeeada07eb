package dev.atelier.bench;

/**
 * One phase of the benchmark. A phase measures one thing on the running engine, puts its numbers into the
 * report ({@code run.report.phase(id())}), the targets it covers ({@code run.report.atLeast/atMost}) and
 * one or more Markdown lines. New phases (audit queries, cost report) are added to {@link Benchmark#PHASES}.
 */
interface BenchPhase {

    /** Short name used in {@code -Dbench.phases} and in results.json. */
    String id();

    /** Title in the Markdown table, numbered as in the issue. */
    String title();

    void run(BenchRun run) throws Exception;
}
