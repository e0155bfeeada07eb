package dev.atelier.domain.workspace;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The idle decision as a table. Times are minutes after T (2026-01-01T10:00Z), empty for none; idle timeout 30 min,
 * warning 5 min unless the row says otherwise. The expected outcome is CHECK@m, WARN@m (the announced stop) or STOP.
 */
class IdlePolicyTest {

    private static final Instant T = Instant.parse("2026-01-01T10:00:00Z");

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "", textBlock = """
            # case                                                       | now | conns | lastAct | running | keepAlive | warned | warn | expected
            an open connection postpones to a full idle period from now  | 40  | 1     |         | 0       |           |        | 5    | CHECK@65
            an open connection wins over a warning already given         | 40  | 2     | 0       | 0       |           | 35     | 5    | CHECK@65
            not idle long enough: check again when the warning is due    | 10  | 0     | 5       | 0       |           |        | 5    | CHECK@30
            idle since it began running, never active                    | 20  | 0     |         | 0       |           |        | 5    | CHECK@25
            the warning is due: warn with the stop a full period away    | 25  | 0     |         | 0       |           |        | 5    | WARN@30
            a late check still gives the full warning period             | 50  | 0     |         | 0       |           |        | 5    | WARN@55
            activity before the start does not count                     | 26  | 0     | -100    | 0       |           |        | 5    | WARN@31
            warned, stop not yet due: check at the announced stop        | 27  | 0     |         | 0       |           | 30     | 5    | CHECK@30
            warned and the announced stop has come: stop                 | 30  | 0     |         | 0       |           | 30     | 5    | STOP
            used after the warning: the old warning does not count       | 30  | 0     | 28      | 0       |           | 30     | 5    | CHECK@53
            keep-alive pushes the stop out                               | 26  | 0     |         | 0       | 60        |        | 5    | CHECK@55
            keep-alive over: the idle period counts again                | 61  | 0     |         | 0       | 60        |        | 5    | WARN@66
            no warning configured: stop when the idle period is over     | 30  | 0     |         | 0       |           |        | 0    | STOP
            no warning configured, not yet idle long enough              | 29  | 0     |         | 0       |           |        | 0    | CHECK@30
            """)
    void decides(String name, long now, int connections, Long lastActivity, Long runningSince, Long keepAliveUntil,
                 Long warnedStopAt, long warningMinutes, String expected) {
        IdlePolicy.Decision decision = IdlePolicy.decide(at(now),
                new ActivityReader.Activity(at(lastActivity), connections), at(runningSince), at(keepAliveUntil),
                at(warnedStopAt), Duration.ofMinutes(30), Duration.ofMinutes(warningMinutes));

        assertThat(describe(decision)).isEqualTo(expected);
    }

    private static String describe(IdlePolicy.Decision decision) {
        if (decision instanceof IdlePolicy.CheckAgain again) {
            return "CHECK@" + Duration.between(T, again.at()).toMinutes();
        }
        if (decision instanceof IdlePolicy.Warn warn) {
            return "WARN@" + Duration.between(T, warn.stopAt()).toMinutes();
        }
        return "STOP";
    }

    private static Instant at(Long minutes) {
        return minutes == null ? null : T.plus(Duration.ofMinutes(minutes));
    }
}
