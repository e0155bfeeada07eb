package dev.atelier.domain.workspace;

import java.time.Duration;
import java.time.Instant;

/**
 * The idle decision of a running workspace, apart from the aggregate so that it can be read and tested as a table:
 * given the moment of the check, the workspace's activity and what it was told before, either check again later,
 * warn (and check again at the announced stop), or stop now. Pure: no clock, no store, no deadlines; the aggregate
 * carries the decision out.
 */
public final class IdlePolicy {

    private IdlePolicy() {
    }

    /** What the aggregate does after an idle check. */
    public sealed interface Decision {
    }

    /** Nothing to do yet: check again at {@code at}. */
    public record CheckAgain(
            Instant at) implements Decision {
    }

    /** Announce the stop at {@code stopAt} (the owner gets the full warning period) and check again then. */
    public record Warn(
            Instant stopAt,
            Instant idleSince) implements Decision {
    }

    /** Stop the workspace now, reason IDLE. */
    public record Stop() implements Decision {
    }

    /**
     * @param now             the moment of the check (never before the deadline it was due at)
     * @param activity        the workspace's last activity and open connections
     * @param runningSince    when the workspace last became RUNNING; idle time does not count before it
     * @param keepAliveUntil  an owner's extension: no stop before it; null for none
     * @param warnedStopAt    the stop announced by the last warning; null when none was given
     * @param idleTimeout     how long without activity until the stop
     * @param idleWarning     how long before the stop the warning comes; zero for none
     */
    public static Decision decide(Instant now, ActivityReader.Activity activity, Instant runningSince,
                                  Instant keepAliveUntil, Instant warnedStopAt, Duration idleTimeout,
                                  Duration idleWarning) {
        if (activity.openConnections() > 0) {
            return new CheckAgain(now.plus(idleTimeout).minus(idleWarning));
        }
        Instant idleSince = later(activity.lastActivityAt(), runningSince);
        Instant stopAt = later(idleSince == null ? now : idleSince.plus(idleTimeout), keepAliveUntil);
        // A warning announced for an earlier idle period (the workspace was used since) does not count.
        boolean warned = warnedStopAt != null && !stopAt.isAfter(warnedStopAt);
        if (warned) {
            return now.isBefore(warnedStopAt) ? new CheckAgain(warnedStopAt) : new Stop();
        }
        if (now.isBefore(stopAt.minus(idleWarning))) {
            return new CheckAgain(stopAt.minus(idleWarning));
        }
        if (idleWarning.isZero()) {
            return new Stop();
        }
        // Whoever is warned gets the full warning period, even if the check comes late.
        return new Warn(later(stopAt, now.plus(idleWarning)), idleSince);
    }

    private static Instant later(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }
}
