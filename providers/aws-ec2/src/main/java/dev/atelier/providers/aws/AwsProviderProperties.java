package dev.atelier.providers.aws;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The {@code aws-ec2} provider ({@code atelier.providers.aws.*}). Credentials come from the AWS SDK's default chain
 * (environment, system properties, profile files, web identity, container and instance roles).
 *
 * @param enabled          register the provider (default false)
 * @param endpoint         EC2 endpoint for every region instead of the public one (private clouds, proxies, tests)
 * @param pollInterval     how long the engine waits before it checks on a launching/stopping/terminating instance
 * @param apiCallTimeout   upper bound of one SDK call, the SDK's own retries included
 * @param inventoryRegions regions searched for Atelier-tagged instances besides those templates used since start-up
 * @param extraRegions     regions accepted in templates besides the built-in list (newly opened regions)
 */
@ConfigurationProperties("atelier.providers.aws")
public record AwsProviderProperties(
        @DefaultValue("false") boolean enabled,
        URI endpoint,
        @DefaultValue("PT5S") Duration pollInterval,
        @DefaultValue("PT60S") Duration apiCallTimeout,
        @DefaultValue List<String> inventoryRegions,
        @DefaultValue List<String> extraRegions) {
}
