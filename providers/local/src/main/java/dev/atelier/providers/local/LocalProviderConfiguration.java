package dev.atelier.providers.local;

import dev.atelier.config.AtelierProperties;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import java.nio.file.Path;
import java.util.function.Supplier;

/** Enables the {@code local} provider unless {@code atelier.providers.local.enabled=false}. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(LocalProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.local", name = "enabled", havingValue = "true", matchIfMissing = true)
public class LocalProviderConfiguration {

    /** The health status of the local provider's sandbox when there is none: listed after UP, so overall still UP. */
    public static final Status UNSANDBOXED = new Status("UNSANDBOXED",
            "local workspaces run without a sandbox (see the start-up log)");

    @Bean(destroyMethod = "close")
    LocalWorkspaceProvider localWorkspaceProvider(LocalProviderProperties properties, AtelierProperties atelier,
                                                  Environment environment) {
        Path root = properties.rootDir() != null ? properties.rootDir() : atelier.dataDir().resolve("workspaces");
        Path state = properties.stateDir() != null ? properties.stateDir() : atelier.dataDir().resolve("local-state");
        Sandboxes.Sandbox sandbox = Sandboxes.choose(properties.sandbox(),
                new Sandboxes.Identity(properties.workspaceUid(), properties.workspaceGid()));
        return new LocalWorkspaceProvider(root, state, sandbox, properties.readinessDelay(),
                properties.stopGracePeriod(), engineUrl(environment));
    }

    /** {@code GET /actuator/health} lists {@code localSandbox}: UP with bubblewrap, UNSANDBOXED without. */
    @Bean
    HealthIndicator localSandboxHealthIndicator(LocalWorkspaceProvider provider) {
        return () -> provider.sandboxProblem() == null
                ? Health.up().withDetail("sandbox", provider.sandboxName()).build()
                : Health.status(UNSANDBOXED).withDetail("sandbox", provider.sandboxName()).build();
    }

    /**
     * Where the agent relay sends heartbeats: {@code atelier.agent.url} if set, else the engine's own port on
     * loopback (read when a heartbeat arrives: the port is known only once the server listens).
     */
    static Supplier<String> engineUrl(Environment environment) {
        return () -> {
            String url = environment.getProperty("atelier.agent.url");
            if (url != null && !url.isBlank()) {
                return url;
            }
            return "http://127.0.0.1:" + environment.getProperty("local.server.port",
                    environment.getProperty("server.port", "8080"));
        };
    }
}
