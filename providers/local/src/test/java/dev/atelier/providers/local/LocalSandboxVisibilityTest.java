package dev.atelier.providers.local;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.atelier.support.TestInfra;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.YamlPropertiesFactoryBean;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.SimpleStatusAggregator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.core.io.ClassPathResource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Running without a sandbox is never silent: the start-up log says so, health lists the local sandbox as
 * UNSANDBOXED (while the engine as a whole stays UP), and the connection info says {@code sandbox: none} (asserted by
 * {@code LocalWorkspaceProviderTest.WithoutSandbox}).
 */
class LocalSandboxVisibilityTest {

    @TempDir
    Path tmp;

    @Test
    void withoutASandboxTheLogAndHealthSaySo() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Logger logger = (Logger) LoggerFactory.getLogger(Sandboxes.class);
        logger.addAppender(appender);
        Sandboxes.Sandbox none;
        try {
            none = Sandboxes.choose(LocalProviderProperties.Sandbox.NONE);
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).anySatisfy(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getFormattedMessage()).contains("WITHOUT isolation").contains("sandbox=none");
        });

        LocalProviderConfiguration configuration = new LocalProviderConfiguration();
        try (LocalWorkspaceProvider provider = provider(none)) {
            Health health = configuration.localSandboxHealthIndicator(provider).health();
            assertThat(health.getStatus()).isEqualTo(LocalProviderConfiguration.UNSANDBOXED);
            assertThat(health.getDetails()).containsEntry("sandbox", "none");
        }
        TestInfra.bubblewrap();
        try (LocalWorkspaceProvider provider = provider(Sandboxes.choose(LocalProviderProperties.Sandbox.BWRAP))) {
            Health health = configuration.localSandboxHealthIndicator(provider).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("sandbox", "bwrap");
        }
    }

    @Test
    void unsandboxedRanksAfterUpSoTheEngineStaysUp() {
        YamlPropertiesFactoryBean yaml = new YamlPropertiesFactoryBean();
        yaml.setResources(new ClassPathResource("application.yml"));
        Properties properties = yaml.getObject();
        String order = properties.getProperty("management.endpoint.health.status.order");
        assertThat(order).as("the configured order").isNotNull();
        SimpleStatusAggregator aggregator = new SimpleStatusAggregator(Arrays.stream(order.split(","))
                .map(String::trim).map(c -> c.toUpperCase().replace('-', '_')).toArray(String[]::new));
        assertThat(aggregator.getAggregateStatus(Set.of(Status.UP, LocalProviderConfiguration.UNSANDBOXED)))
                .isEqualTo(Status.UP);
        assertThat(aggregator.getAggregateStatus(Set.of(Status.DOWN, LocalProviderConfiguration.UNSANDBOXED)))
                .isEqualTo(Status.DOWN);
    }

    private LocalWorkspaceProvider provider(Sandboxes.Sandbox sandbox) {
        return new LocalWorkspaceProvider(tmp.resolve("workspaces"), tmp.resolve("state"), sandbox,
                Duration.ofMillis(200), Duration.ofSeconds(1), () -> "http://127.0.0.1:1");
    }
}
