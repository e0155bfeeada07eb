package dev.atelier.api;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * Caps that keep one caller from tying up the engine (docs/operations.md). Each refusal is a 429 or 409 whose
 * {@code detail} names the property.
 *
 * @param liveStreamsPerPrincipal server-sent event streams ({@code /watch}) one principal may hold open at once
 * @param workspacesPerMember     workspaces (not deleted) one person may own; 0 = no cap
 * @param concurrentVerifies      audit {@code verify} runs at once (each reads the whole chain)
 * @param concurrentCostExports   cost CSV exports at once
 * @param maxExtend               longest keep-alive {@code extend} grants
 */
@ConfigurationProperties("atelier.limits")
public record ApiLimits(@DefaultValue("8") int liveStreamsPerPrincipal, @DefaultValue("50") int workspacesPerMember,
                        @DefaultValue("2") int concurrentVerifies, @DefaultValue("4") int concurrentCostExports,
                        @DefaultValue("P30D") Duration maxExtend) {
}
