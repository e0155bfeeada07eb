package dev.atelier.providers.azure;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * The {@code azure-vm} provider ({@code atelier.providers.azure.*}). Credentials come from azure-identity's
 * {@code DefaultAzureCredential} (environment service principal, workload identity, managed identity, Azure CLI),
 * except in emulator mode.
 *
 * @param enabled                register the provider (default false)
 * @param endpoint               Azure Resource Manager endpoint instead of {@code https://management.azure.com}
 *                               (sovereign or private clouds, proxies, tests); a plain {@code http://} URL means
 *                               emulator mode: no credentials are required or sent
 * @param pollInterval           how long the engine waits before it checks on a long-running operation again
 * @param inventorySubscriptions subscriptions searched for Atelier-tagged VMs besides those used since start-up
 * @param extraLocations         locations accepted in templates besides the built-in list
 */
@ConfigurationProperties("atelier.providers.azure")
public record AzureProviderProperties(
        @DefaultValue("false") boolean enabled,
        String endpoint,
        @DefaultValue("PT10S") Duration pollInterval,
        @DefaultValue List<String> inventorySubscriptions,
        @DefaultValue List<String> extraLocations) {

    public boolean emulator() {
        return endpoint != null && endpoint.startsWith("http://");
    }
}
