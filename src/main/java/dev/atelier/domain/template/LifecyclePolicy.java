package dev.atelier.domain.template;

import java.time.Duration;

/** When the engine stops, marks dormant or deletes workspaces by itself; null means "never". */
public record LifecyclePolicy(
        Duration idleTimeout,
        Duration maxLifetime,
        Duration autostopAfterFailure,
        Duration dormancyAfter,
        Duration deleteAfterDormant) {

    public static final LifecyclePolicy NONE = new LifecyclePolicy(null, null, null, null, null);
}
