package dev.atelier.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * Lifetimes of API tokens (docs/security.md).
 *
 * @param defaultLifetime       a token without {@code expiresIn} lives this long
 * @param maxLifetime           no token may live longer
 * @param scopedDefaultLifetime a scoped (agent) token without {@code expiresIn} lives this long
 * @param scopedMaxLifetime     no scoped token may live longer
 * @param lastUsedFlushInterval how often the time of last use is written (it is collected in memory meanwhile)
 * @param expiryCheckInterval   how often tokens that expired meanwhile are looked for, to end their live streams
 */
@ConfigurationProperties("atelier.tokens")
public record TokenProperties(@DefaultValue("P30D") Duration defaultLifetime,
                              @DefaultValue("P90D") Duration maxLifetime,
                              @DefaultValue("PT1H") Duration scopedDefaultLifetime,
                              @DefaultValue("PT24H") Duration scopedMaxLifetime,
                              @DefaultValue("PT30S") Duration lastUsedFlushInterval,
                              @DefaultValue("PT30S") Duration expiryCheckInterval) {

    public TokenProperties {
        if (defaultLifetime.compareTo(maxLifetime) > 0 || scopedDefaultLifetime.compareTo(scopedMaxLifetime) > 0) {
            throw new IllegalArgumentException("atelier.tokens: a default lifetime is longer than its maximum");
        }
        if (lastUsedFlushInterval.isNegative() || lastUsedFlushInterval.isZero() || expiryCheckInterval.isNegative()
                || expiryCheckInterval.isZero()) {
            throw new IllegalArgumentException("atelier.tokens: intervals must be positive");
        }
    }
}
