package dev.atelier.providers.ssh;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code ssh} provider ({@code atelier.providers.ssh.*}).
 *
 * @param enabled         off by default; when on, hosts are managed through {@code /api/v1/hosts}
 * @param keyDir          where the private keys named by the hosts' {@code keyRef} live (one file per key,
 *                        readable only by the engine); default {@code <data dir>/ssh-keys}
 * @param connectTimeout  TCP connect, key exchange and authentication, each
 * @param commandTimeout  how long one remote command or file transfer may take
 * @param readinessDelay  how long the start-up process must stay alive before the workspace is RUNNING
 * @param stopGracePeriod how long stop waits after SIGTERM before it sends SIGKILL to the process group
 */
@ConfigurationProperties("atelier.providers.ssh")
public record SshProviderProperties(
        @DefaultValue("false") boolean enabled,
        Path keyDir,
        @DefaultValue("PT10S") Duration connectTimeout,
        @DefaultValue("PT60S") Duration commandTimeout,
        @DefaultValue("PT0.5S") Duration readinessDelay,
        @DefaultValue("PT5S") Duration stopGracePeriod) {
}
