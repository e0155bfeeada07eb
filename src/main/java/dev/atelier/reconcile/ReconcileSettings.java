package dev.atelier.reconcile;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * Reconciliation of the engine's record with what providers report (docs/operations.md, "Reconciliation").
 *
 * @param interval how long between two runs (a db-scheduler recurring task: one node at a time)
 * @param enabled  whether runs are scheduled at all ({@code POST /api/v1/reconcile} works either way)
 */
@ConfigurationProperties("atelier.reconcile")
public record ReconcileSettings(@DefaultValue("PT5M") Duration interval, @DefaultValue("true") boolean enabled) {

    public ReconcileSettings {
        if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("atelier.reconcile.interval must be at least PT1S");
        }
    }
}
