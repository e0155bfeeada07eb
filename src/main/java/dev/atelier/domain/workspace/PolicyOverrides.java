package dev.atelier.domain.workspace;

import java.time.Duration;

/** Per-workspace policy values; they may only tighten what the template allows. Null fields: no override. */
public record PolicyOverrides(
        Duration idleTimeout,
        Duration maxLifetime) {

    public static final PolicyOverrides NONE = new PolicyOverrides(null, null);
}
