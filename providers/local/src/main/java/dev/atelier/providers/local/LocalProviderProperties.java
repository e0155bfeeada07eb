package dev.atelier.providers.local;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code local} provider ({@code atelier.providers.local.*}).
 *
 * @param rootDir        where workspace directories live; default {@code <data dir>/workspaces}
 * @param sandbox        {@code auto} (bubblewrap when it works here, else a plain process group), {@code bwrap}
 *                       (required) or {@code none}
 * @param readinessDelay how long the start-up process must stay alive before the workspace counts as RUNNING
 * @param stopGracePeriod how long stop waits after SIGTERM before it sends SIGKILL to the process tree
 */
@ConfigurationProperties("atelier.providers.local")
public record LocalProviderProperties(
        @DefaultValue("true") boolean enabled,
        Path rootDir,
        @DefaultValue("auto") Sandbox sandbox,
        @DefaultValue("PT0.5S") Duration readinessDelay,
        @DefaultValue("PT5S") Duration stopGracePeriod) {

    public enum Sandbox { AUTO, BWRAP, NONE }
}
