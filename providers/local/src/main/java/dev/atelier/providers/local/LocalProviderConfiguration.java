package dev.atelier.providers.local;

import dev.atelier.config.AtelierProperties;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.nio.file.Path;

/** Enables the {@code local} provider unless {@code atelier.providers.local.enabled=false}. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(LocalProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.local", name = "enabled", havingValue = "true", matchIfMissing = true)
public class LocalProviderConfiguration {

    @Bean
    LocalWorkspaceProvider localWorkspaceProvider(LocalProviderProperties properties, AtelierProperties atelier) {
        Path root = properties.rootDir() != null ? properties.rootDir() : atelier.dataDir().resolve("workspaces");
        return new LocalWorkspaceProvider(root, Sandboxes.choose(properties.sandbox()), properties.readinessDelay(),
                properties.stopGracePeriod());
    }
}
