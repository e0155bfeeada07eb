package dev.atelier.providers.gcp;

import dev.atelier.providers.ssh.SshHopConfiguration;
import dev.atelier.providers.ssh.SshShells;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Enables the {@code gcp-compute} provider when {@code atelier.providers.gcp.enabled=true}. The Compute Engine REST
 * clients are built on first use; the SDK's own retry settings apply (reads retry on UNAVAILABLE/DEADLINE_EXCEEDED,
 * mutations are not retried by the SDK: the engine repeats them with the same request id).
 */
@Configuration(proxyBeanMethods = false)
@Import(SshHopConfiguration.class)
@EnableConfigurationProperties(GcpProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.gcp", name = "enabled", havingValue = "true")
public class GcpProviderConfiguration {

    @Bean
    GceWorkspaceProvider gceWorkspaceProvider(GcpProviderProperties properties, SshShells hop) {
        return new GceWorkspaceProvider(() -> clients(properties), properties.defaultProject(),
                properties.pollInterval(), properties.extraZones(), properties.inventoryProjects(), hop);
    }

    static GceWorkspaceProvider.Clients clients(GcpProviderProperties properties) {
        try {
            InstancesSettings.Builder instances = InstancesSettings.newBuilder();
            ZoneOperationsSettings.Builder operations = ZoneOperationsSettings.newBuilder();
            if (properties.endpoint() != null) {
                instances.setEndpoint(properties.endpoint());
                operations.setEndpoint(properties.endpoint());
            }
            if (properties.emulator()) {
                instances.setCredentialsProvider(NoCredentialsProvider.create());
                operations.setCredentialsProvider(NoCredentialsProvider.create());
            }
            return new GceWorkspaceProvider.Clients(InstancesClient.create(instances.build()),
                    ZoneOperationsClient.create(operations.build()));
        } catch (IOException e) {
            throw new UncheckedIOException("could not create the Compute Engine clients: " + e.getMessage(), e);
        }
    }
}
