package dev.atelier.providers.gcp;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * The {@code gcp-compute} provider ({@code atelier.providers.gcp.*}). Credentials are Google's Application Default
 * Credentials ({@code GOOGLE_APPLICATION_CREDENTIALS}, gcloud's user credentials, the metadata server of a GCE/GKE
 * host), except in emulator mode.
 *
 * @param enabled           register the provider (default false)
 * @param endpoint          Compute Engine endpoint instead of {@code https://compute.googleapis.com}; a plain
 *                          {@code http://} URL means emulator mode: no credentials are required or sent
 * @param defaultProject    project of templates whose spec names none
 * @param pollInterval      how long the engine waits before it checks on an operation or instance again
 * @param inventoryProjects projects searched for Atelier-labelled instances besides those used since start-up
 * @param extraZones        zones accepted in templates besides the built-in list
 */
@ConfigurationProperties("atelier.providers.gcp")
public record GcpProviderProperties(
        @DefaultValue("false") boolean enabled,
        String endpoint,
        String defaultProject,
        @DefaultValue("PT5S") Duration pollInterval,
        @DefaultValue List<String> inventoryProjects,
        @DefaultValue List<String> extraZones) {

    public boolean emulator() {
        return endpoint != null && endpoint.startsWith("http://");
    }
}
