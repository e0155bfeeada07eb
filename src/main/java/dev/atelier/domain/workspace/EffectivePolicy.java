package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.template.LifecyclePolicy;

import java.time.Duration;

/** The policy in force for one workspace: override, else template, else the default for its kind. */
public record EffectivePolicy(Duration idleTimeout, Duration maxLifetime, Duration autostopAfterFailure,
                       Duration dormancyAfter, Duration deleteAfterDormant, Duration idleWarning) {

    public static EffectivePolicy of(LifecyclePolicy template, PolicyOverrides overrides, WorkspaceKind kind,
                              PolicyDefaults defaults) {
        LifecyclePolicy base = defaults.forKind(kind);
        LifecyclePolicy t = template == null ? LifecyclePolicy.NONE : template;
        PolicyOverrides o = overrides == null ? PolicyOverrides.NONE : overrides;
        Duration idle = first(o.idleTimeout(), t.idleTimeout(), base.idleTimeout());
        Duration warning = defaults.idleWarning() == null || idle == null ? Duration.ZERO
                : min(defaults.idleWarning(), idle.dividedBy(2));
        return new EffectivePolicy(idle,
                first(o.maxLifetime(), t.maxLifetime(), base.maxLifetime()),
                first(null, t.autostopAfterFailure(), base.autostopAfterFailure()),
                first(null, t.dormancyAfter(), base.dormancyAfter()),
                first(null, t.deleteAfterDormant(), base.deleteAfterDormant()),
                warning);
    }

    /** Overrides may shorten the template's limits, never lengthen them. */
    static void requireWithinBounds(PolicyOverrides overrides, LifecyclePolicy template) {
        if (overrides == null) {
            return;
        }
        LifecyclePolicy t = template == null ? LifecyclePolicy.NONE : template;
        check("idleTimeout", overrides.idleTimeout(), t.idleTimeout());
        check("maxLifetime", overrides.maxLifetime(), t.maxLifetime());
    }

    private static void check(String name, Duration wanted, Duration bound) {
        if (wanted == null) {
            return;
        }
        if (wanted.isNegative() || wanted.isZero()) {
            throw DomainRuleViolation.invalid("policy." + name + " must be a positive duration, was " + wanted);
        }
        if (bound != null && wanted.compareTo(bound) > 0) {
            throw DomainRuleViolation.invalid("policy." + name + " " + wanted + " exceeds the template's " + bound);
        }
    }

    private static Duration first(Duration a, Duration b, Duration c) {
        return a != null ? a : b != null ? b : c;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
