package dev.atelier.lifecycle;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * How long a transition may go without progress before it fails as "timed out", and how retryable provider
 * errors are retried ({@code atelier.transitions.*}).
 */
@ConfigurationProperties("atelier.transitions")
public record TransitionSettings(
        @DefaultValue("PT15M") Duration timeout,
        @DefaultValue("6") int maxAttempts,
        @DefaultValue("PT2S") Duration initialBackoff,
        @DefaultValue("2.0") double backoffMultiplier,
        @DefaultValue("PT1M") Duration maxBackoff,
        @DefaultValue("PT2S") Duration defaultPollInterval) {
}
