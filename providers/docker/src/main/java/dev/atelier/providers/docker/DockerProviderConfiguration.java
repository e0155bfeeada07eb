package dev.atelier.providers.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Duration;

/**
 * Enables the {@code docker} provider with {@code atelier.providers.docker.enabled=true}. Creating the client does
 * not contact the daemon, so the engine starts even when the daemon is down; calls then fail as retryable.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(DockerProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.docker", name = "enabled", havingValue = "true")
public class DockerProviderConfiguration {

    @Bean(destroyMethod = "close")
    DockerWorkspaceProvider dockerWorkspaceProvider(DockerProviderProperties properties,
                                                    dev.atelier.config.AtelierProperties atelier) {
        return new DockerWorkspaceProvider(client(properties), properties,
                dev.atelier.config.EngineAddresses.database(atelier));
    }

    static DockerClient client(DockerProviderProperties properties) {
        DefaultDockerClientConfig.Builder builder = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(properties.effectiveHost())
                .withDockerTlsVerify(properties.tlsVerify());
        if (properties.certPath() != null && !properties.certPath().isBlank()) {
            builder.withDockerCertPath(properties.certPath());
        }
        DockerClientConfig config = builder.build();
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .maxConnections(32)
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofSeconds(60))
                .build();
        return DockerClientImpl.getInstance(config, http);
    }
}
