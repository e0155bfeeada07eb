package dev.atelier.providers.aws;

import dev.atelier.providers.ssh.SshHopConfiguration;
import dev.atelier.providers.ssh.SshShells;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.Ec2ClientBuilder;

import java.util.function.Function;

/**
 * Enables the {@code aws-ec2} provider when {@code atelier.providers.aws.enabled=true}. EC2 clients (one per region)
 * are built on first use, so the SDK is not even loaded unless a template of this provider is used.
 */
@Configuration(proxyBeanMethods = false)
@Import(SshHopConfiguration.class)
@EnableConfigurationProperties(AwsProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.aws", name = "enabled", havingValue = "true")
public class AwsProviderConfiguration {

    @Bean
    Ec2WorkspaceProvider ec2WorkspaceProvider(AwsProviderProperties properties, SshShells hop) {
        return new Ec2WorkspaceProvider(clients(properties), properties.pollInterval(), properties.extraRegions(),
                properties.inventoryRegions(), hop);
    }

    /**
     * The SDK's standard retry strategy (3 attempts, exponential backoff with jitter, longer after throttling) is the
     * only retry inside a call; the engine's bounded step retries come on top only for what is still retryable.
     */
    static Function<String, Ec2Client> clients(AwsProviderProperties properties) {
        return region -> {
            Ec2ClientBuilder builder = Ec2Client.builder()
                    .region(Region.of(region))
                    .credentialsProvider(DefaultCredentialsProvider.builder().build())
                    .overrideConfiguration(ClientOverrideConfiguration.builder()
                            .apiCallTimeout(properties.apiCallTimeout())
                            .retryStrategy(RetryMode.STANDARD)
                            .build());
            if (properties.endpoint() != null) {
                builder.endpointOverride(properties.endpoint());
            }
            return builder.build();
        };
    }
}
