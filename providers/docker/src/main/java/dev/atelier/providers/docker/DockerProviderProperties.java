package dev.atelier.providers.docker;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * The {@code docker} provider ({@code atelier.providers.docker.*}).
 *
 * @param enabled         off by default: the engine starts without any Docker daemon
 * @param host            the Docker Engine API: {@code unix:///var/run/docker.sock}, {@code tcp://host:2376}, or
 *                        podman's socket; default: {@code DOCKER_HOST}, else {@code unix:///var/run/docker.sock}
 * @param tlsVerify       verify a {@code tcp://} daemon's TLS certificate with the client certificates in
 *                        {@code certPath} (Docker's {@code DOCKER_TLS_VERIFY}/{@code DOCKER_CERT_PATH})
 * @param certPath        directory with {@code ca.pem}, {@code cert.pem}, {@code key.pem}
 * @param publishAddress  host address that published container ports (and the SSH port) are bound to
 * @param connectionHost  the host name users connect to for published ports; default: {@code publishAddress}
 * @param readinessDelay  how long a started main container must keep running before the workspace is RUNNING
 * @param stopGracePeriod how long stop waits after SIGTERM before it sends SIGKILL
 * @param pullTimeout     how long an image pull may take before the transition fails
 * @param deniedNetworks  Docker networks no workspace may join, such as the one the engine and its database share
 *                        (networks whose subnet holds the database's address are refused anyway, and so is
 *                        {@code host})
 */
@ConfigurationProperties("atelier.providers.docker")
public record DockerProviderProperties(
        @DefaultValue("false") boolean enabled,
        String host,
        @DefaultValue("false") boolean tlsVerify,
        String certPath,
        @DefaultValue("127.0.0.1") String publishAddress,
        String connectionHost,
        @DefaultValue("PT1S") Duration readinessDelay,
        @DefaultValue("PT10S") Duration stopGracePeriod,
        @DefaultValue("PT10M") Duration pullTimeout,
        @DefaultValue List<String> deniedNetworks) {

    public DockerProviderProperties {
        deniedNetworks = deniedNetworks == null ? List.of() : List.copyOf(deniedNetworks);
    }

    /** The daemon address: the configured one, else {@code DOCKER_HOST}, else Docker's default socket. */
    public String effectiveHost() {
        if (host != null && !host.isBlank()) {
            return host;
        }
        String env = System.getenv("DOCKER_HOST");
        return env != null && !env.isBlank() ? env : "unix:///var/run/docker.sock";
    }

    public String effectiveConnectionHost() {
        if (connectionHost != null && !connectionHost.isBlank()) {
            return connectionHost;
        }
        return "0.0.0.0".equals(publishAddress) || "::".equals(publishAddress) ? "localhost" : publishAddress;
    }
}
