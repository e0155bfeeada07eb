package dev.atelier.providers.gcp;

import dev.atelier.providers.cloud.LiveLifecycle;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * LIVE: creates, stops, starts and deletes a real e2-micro in Compute Engine. Runs only when Google credentials and
 * a project are in the environment (GOOGLE_APPLICATION_CREDENTIALS, ATELIER_LIVE_GCP_PROJECT; ATELIER_LIVE_GCP_ZONE,
 * default us-central1-a); reported as skipped otherwise. Uses the project's default network.
 */
@EnabledIfEnvironmentVariable(named = "GOOGLE_APPLICATION_CREDENTIALS", matches = ".+",
        disabledReason = "LIVE test against real GCP: set GOOGLE_APPLICATION_CREDENTIALS and ATELIER_LIVE_GCP_PROJECT to run it")
@EnabledIfEnvironmentVariable(named = "ATELIER_LIVE_GCP_PROJECT", matches = ".+",
        disabledReason = "LIVE test against real GCP: set ATELIER_LIVE_GCP_PROJECT to run it")
class GceLiveIT {

    @Test
    @DisplayName("LIVE GCP: an e2-micro goes through create, stop, start and delete")
    void aRealInstanceGoesThroughItsLifecycle() {
        String project = System.getenv("ATELIER_LIVE_GCP_PROJECT");
        GcpProviderProperties properties = new GcpProviderProperties(true, null, project, Duration.ofSeconds(5),
                List.of(), List.of());
        GceWorkspaceProvider provider = new GceWorkspaceProvider(() -> GcpProviderConfiguration.clients(properties),
                project, properties.pollInterval(), List.of(), List.of(), null);
        LiveLifecycle.run(provider, Map.of("zone", LiveLifecycle.env("ATELIER_LIVE_GCP_ZONE", "us-central1-a"),
                "machineType", "e2-micro", "image", "projects/debian-cloud/global/images/family/debian-12",
                "startupScript", "echo atelier-live > /var/tmp/atelier-live.txt\n"));
    }
}
