package dev.atelier.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The benchmark's percentiles (nearest rank) and summaries. */
class StatsTest {

    @Test
    void nearestRankPercentilesOfOneToHundred() {
        long[] sorted = new long[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertThat(Stats.percentile(sorted, 50)).isEqualTo(50);
        assertThat(Stats.percentile(sorted, 95)).isEqualTo(95);
        assertThat(Stats.percentile(sorted, 99)).isEqualTo(99);
        assertThat(Stats.percentile(sorted, 99.5)).isEqualTo(100);
        assertThat(Stats.percentile(sorted, 100)).isEqualTo(100);
        assertThat(Stats.percentile(sorted, 0.5)).isEqualTo(1);
    }

    @Test
    void percentilesOfFewSamplesAreMeasuredValuesNeverInterpolated() {
        long[] sorted = {10, 20, 30, 1_000};
        assertThat(Stats.percentile(sorted, 50)).isEqualTo(20);   // rank ceil(2.0) = 2
        assertThat(Stats.percentile(sorted, 75)).isEqualTo(30);   // rank 3
        assertThat(Stats.percentile(sorted, 76)).isEqualTo(1_000); // rank ceil(3.04) = 4
        assertThat(Stats.percentile(new long[]{7}, 99)).isEqualTo(7);
    }

    @Test
    void summarySortsUnorderedNanosecondsAndReportsMilliseconds() {
        Stats.Samples samples = new Stats.Samples();
        for (long ms : new long[]{9, 1, 5, 3, 7, 2, 8, 4, 6, 10}) {
            samples.add(ms * 1_000_000);
        }
        Stats.Summary s = samples.summary();
        assertThat(s.count()).isEqualTo(10);
        assertThat(s.minMs()).isEqualTo(1.0);
        assertThat(s.p50Ms()).isEqualTo(5.0);
        assertThat(s.p95Ms()).isEqualTo(10.0);
        assertThat(s.p99Ms()).isEqualTo(10.0);
        assertThat(s.maxMs()).isEqualTo(10.0);
        assertThat(s.meanMs()).isEqualTo(5.5);
    }

    @Test
    void samplesGrowPastTheirInitialCapacityFromManyThreads() throws Exception {
        Stats.Samples samples = new Stats.Samples();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 1_000; i++) {
                    samples.add(i);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(samples.size()).isEqualTo(4_000);
        assertThat(Stats.summarize(samples.toArray()).maxMs()).isEqualTo(0.001); // 999 ns
    }

    @Test
    void emptyOrOutOfRangeIsRefusedAndAnEmptySummarySaysSo() {
        assertThatThrownBy(() -> Stats.percentile(new long[0], 50)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Stats.percentile(new long[]{1}, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Stats.percentile(new long[]{1}, 101)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Stats.summarize(new long[0]).count()).isZero();
        assertThat(Stats.summarize(new long[0]).toString()).isEqualTo("no samples");
    }
}
