package dev.atelier.providers.azure;

import dev.atelier.providers.cloud.LiveLifecycle;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * LIVE: creates, deallocates, starts and deletes a real Standard_B1s VM in Azure. Runs only when a service principal
 * and a place for the VM are in the environment (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET,
 * AZURE_SUBSCRIPTION_ID, ATELIER_LIVE_AZURE_RESOURCE_GROUP, ATELIER_LIVE_AZURE_SUBNET_ID,
 * ATELIER_LIVE_AZURE_SSH_PUBLIC_KEY; ATELIER_LIVE_AZURE_LOCATION, default westeurope); reported as skipped otherwise.
 */
@EnabledIfEnvironmentVariable(named = "AZURE_CLIENT_ID", matches = ".+",
        disabledReason = "LIVE test against real Azure: set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET to run it")
@EnabledIfEnvironmentVariable(named = "ATELIER_LIVE_AZURE_SUBNET_ID", matches = ".+",
        disabledReason = "LIVE test against real Azure: set AZURE_SUBSCRIPTION_ID, ATELIER_LIVE_AZURE_RESOURCE_GROUP, "
                + "ATELIER_LIVE_AZURE_SUBNET_ID and ATELIER_LIVE_AZURE_SSH_PUBLIC_KEY to run it")
class AzureVmLiveIT {

    @Test
    @DisplayName("LIVE Azure: a Standard_B1s goes through create, deallocate, start and delete")
    void aRealVmGoesThroughItsLifecycle() {
        AzureProviderProperties properties = new AzureProviderProperties(true, null, Duration.ofSeconds(10),
                List.of(), List.of());
        AzureVmWorkspaceProvider provider = new AzureVmWorkspaceProvider(AzureProviderConfiguration.clients(properties),
                properties.pollInterval(), List.of(), List.of(), null);
        LiveLifecycle.run(provider, Map.of("subscriptionId", System.getenv("AZURE_SUBSCRIPTION_ID"),
                "resourceGroup", System.getenv("ATELIER_LIVE_AZURE_RESOURCE_GROUP"),
                "location", LiveLifecycle.env("ATELIER_LIVE_AZURE_LOCATION", "westeurope"),
                "vmSize", "Standard_B1s", "image", "Canonical:ubuntu-24_04-lts:server:latest",
                "subnetId", System.getenv("ATELIER_LIVE_AZURE_SUBNET_ID"),
                "sshPublicKey", System.getenv("ATELIER_LIVE_AZURE_SSH_PUBLIC_KEY"),
                "startupScript", "echo atelier-live > /var/tmp/atelier-live.txt\n"));
    }
}
