package dev.atelier.providers.azure;

import dev.atelier.providers.ssh.SshHopConfiguration;
import dev.atelier.providers.ssh.SshShells;
import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.policy.AddDatePolicy;
import com.azure.core.http.policy.HttpLogOptions;
import com.azure.core.http.policy.HttpLoggingPolicy;
import com.azure.core.http.policy.RequestIdPolicy;
import com.azure.core.http.policy.RetryPolicy;
import com.azure.core.http.policy.UserAgentPolicy;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.profile.AzureProfile;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.resourcemanager.compute.ComputeManager;
import com.azure.resourcemanager.network.NetworkManager;
import com.azure.resourcemanager.resources.fluentcore.utils.HttpPipelineProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Enables the {@code azure-vm} provider when {@code atelier.providers.azure.enabled=true}. Clients (one pair per
 * subscription) are built on first use.
 */
@Configuration(proxyBeanMethods = false)
@Import(SshHopConfiguration.class)
@EnableConfigurationProperties(AzureProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.azure", name = "enabled", havingValue = "true")
public class AzureProviderConfiguration {

    @Bean
    AzureVmWorkspaceProvider azureVmWorkspaceProvider(AzureProviderProperties properties, SshShells hop) {
        return new AzureVmWorkspaceProvider(clients(properties), properties.pollInterval(),
                properties.extraLocations(), properties.inventorySubscriptions(), hop);
    }

    /**
     * With credentials: the SDK's standard ARM pipeline (ARM challenge bearer tokens from DefaultAzureCredential,
     * retry policy that honours Retry-After). In emulator mode (plain http) the same policies without any
     * authentication: the SDK's token policies refuse plain http, and an emulator needs no token.
     */
    static Function<String, AzureVmWorkspaceProvider.Clients> clients(AzureProviderProperties properties) {
        HttpPipeline[] shared = new HttpPipeline[1];
        return subscriptionId -> {
            AzureEnvironment environment = environment(properties.endpoint());
            AzureProfile profile = new AzureProfile(null, subscriptionId, environment);
            HttpPipeline pipeline;
            synchronized (shared) {
                if (shared[0] == null) {
                    shared[0] = properties.emulator() ? emulatorPipeline()
                            : HttpPipelineProvider.buildHttpPipeline(new DefaultAzureCredentialBuilder().build(), profile);
                }
                pipeline = shared[0];
            }
            return new AzureVmWorkspaceProvider.Clients(ComputeManager.authenticate(pipeline, profile),
                    NetworkManager.authenticate(pipeline, profile), pipeline, environment.getResourceManagerEndpoint());
        };
    }

    static AzureEnvironment environment(String endpoint) {
        if (endpoint == null || endpoint.isBlank()) {
            return AzureEnvironment.AZURE;
        }
        Map<String, String> endpoints = new HashMap<>(AzureEnvironment.AZURE.getEndpoints());
        endpoints.put("resourceManagerEndpointUrl", endpoint.endsWith("/") ? endpoint : endpoint + "/");
        return new AzureEnvironment(endpoints);
    }

    private static HttpPipeline emulatorPipeline() {
        return new HttpPipelineBuilder()
                .httpClient(HttpClient.createDefault())
                .policies(new UserAgentPolicy("atelier"), new RequestIdPolicy(), new RetryPolicy(), new AddDatePolicy(),
                        new HttpLoggingPolicy(new HttpLogOptions()))
                .build();
    }
}
