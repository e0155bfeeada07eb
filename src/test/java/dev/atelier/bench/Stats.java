package dev.atelier.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Percentiles by the nearest-rank method: the p-th percentile of n samples is the smallest sample such that at
 * least p% of the samples are less than or equal to it (so it is always one of the measured values, never an
 * interpolation). Latencies are recorded in nanoseconds and reported in milliseconds.
 */
public final class Stats {

    private Stats() {
    }

    /** @param sorted samples in ascending order, at least one */
    public static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        if (p <= 0 || p > 100) {
            throw new IllegalArgumentException("percentile must be in (0, 100], was " + p);
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    public static Summary summarize(long[] samples) {
        if (samples.length == 0) {
            return new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (long v : sorted) {
            sum += v;
        }
        return new Summary(sorted.length, ms(sorted[0]), ms(percentile(sorted, 50)), ms(percentile(sorted, 95)),
                ms(percentile(sorted, 99)), ms(sorted[sorted.length - 1]), ms(sum / sorted.length));
    }

    static double ms(double nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }

    /** Latency summary in milliseconds. */
    public record Summary(long count, double minMs, double p50Ms, double p95Ms, double p99Ms, double maxMs,
                          double meanMs) {

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("count", count);
            m.put("p50Ms", p50Ms);
            m.put("p95Ms", p95Ms);
            m.put("p99Ms", p99Ms);
            m.put("maxMs", maxMs);
            m.put("meanMs", meanMs);
            m.put("minMs", minMs);
            return m;
        }

        @Override
        public String toString() {
            return count == 0 ? "no samples"
                    : String.format(java.util.Locale.ROOT, "p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)",
                    p50Ms, p95Ms, p99Ms, maxMs, count);
        }
    }

    /** A thread-safe, growable list of samples (nanoseconds). */
    public static final class Samples {
        private long[] values = new long[256];
        private int size;

        public synchronized void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        public synchronized void addAll(Samples other) {
            long[] more = other.toArray();
            for (long v : more) {
                add(v);
            }
        }

        public synchronized long[] toArray() {
            return Arrays.copyOf(values, size);
        }

        public synchronized int size() {
            return size;
        }

        public Summary summary() {
            return summarize(toArray());
        }
    }
}
