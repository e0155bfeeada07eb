package dev.atelier.api;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * Where requests come from and how often they may fail to authenticate (docs/operations.md).
 *
 * @param trustedProxies     addresses or CIDR ranges of reverse proxies whose {@code Forwarded} /
 *                           {@code X-Forwarded-For} headers are believed; from anybody else they are ignored
 * @param authFailureLimit   failed authentications one client address may have per {@code authFailureWindow}
 *                           before it is answered 429 with {@code Retry-After}; 0 = no limit
 * @param authFailureWindow  the window of that limit (the bucket refills gradually over it)
 * @param maxTrackedAddresses client addresses tracked at once (for the limit and for the aggregated audit entries);
 *                           beyond that the least recently seen are forgotten
 */
@ConfigurationProperties("atelier.security")
public record AbuseSettings(@DefaultValue List<String> trustedProxies, @DefaultValue("30") int authFailureLimit,
                            @DefaultValue("PT1M") Duration authFailureWindow,
                            @DefaultValue("100000") int maxTrackedAddresses) {
}
