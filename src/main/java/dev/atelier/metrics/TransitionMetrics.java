package dev.atelier.metrics;

import dev.atelier.domain.workspace.TransitionReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What the lifecycle saga measures: how long transitions take and how they end, per provider and kind
 * ({@code atelier_transition_seconds{provider,kind,outcome}}), and the stops the engine's own policies decided
 * ({@code atelier_stops_total{reason}}). The saga records them because it handles each transition's events exactly
 * once across all nodes (one node holds its segment), so the sum over nodes counts every transition once.
 */
@Component
public class TransitionMetrics {

    /** The automatic stops an operator watches: a surge means a policy or a budget is biting. */
    static final Set<TransitionReason> POLICY_STOPS = EnumSet.of(TransitionReason.IDLE, TransitionReason.MAX_LIFETIME,
            TransitionReason.BUDGET, TransitionReason.DORMANCY, TransitionReason.SCHEDULE, TransitionReason.SYSTEM);

    private final MeterRegistry meters;

    public TransitionMetrics(MeterRegistry meters) {
        this.meters = meters;
        // Present from the start (at zero), so that an alert on their rate has a series to look at.
        for (TransitionReason reason : POLICY_STOPS) {
            stops(reason);
        }
    }

    /** A transition ended: {@code succeeded} or {@code failed}, after {@code took} from its start event. */
    public void transitionEnded(String provider, String kind, boolean succeeded, Duration took) {
        Timer.builder("atelier.transition").description("Workspace transitions from start to outcome")
                .tag("provider", provider).tag("kind", kind.toLowerCase(Locale.ROOT))
                .tag("outcome", succeeded ? "succeeded" : "failed")
                .register(meters).record(took.isNegative() ? Duration.ZERO : took);
    }

    /** A stop began; counted only when one of the engine's policies asked for it. */
    public void stopStarted(TransitionReason reason) {
        if (reason != null && POLICY_STOPS.contains(reason)) {
            stops(reason).increment();
        }
    }

    private Counter stops(TransitionReason reason) {
        return Counter.builder("atelier.stops").description("Stops decided by the engine's policies")
                .tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(meters);
    }
}
