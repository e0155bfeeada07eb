package dev.atelier.providers.ssh;

import dev.atelier.config.AtelierProperties;
import dev.atelier.provider.WorkspaceKey;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.nio.file.Path;

/**
 * Enables the {@code ssh} provider and its host pool (managed through the engine's {@code /api/v1/hosts}) with
 * {@code atelier.providers.ssh.enabled=true}. Nothing connects to a host until a workspace needs it.
 */
@Configuration(proxyBeanMethods = false)
@Import(SshHopConfiguration.class)
@EnableConfigurationProperties(SshProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.ssh", name = "enabled", havingValue = "true")
public class SshProviderConfiguration {

    @Bean
    SshHostRegistry sshHostRegistry(JdbcTemplate jdbc, PlatformTransactionManager transactions) {
        return new SshHostRegistry(jdbc, new TransactionTemplate(transactions));
    }

    @Bean(destroyMethod = "close")
    SshConnector sshConnector(SshProviderProperties properties, AtelierProperties atelier) {
        Path keyDir = properties.keyDir() != null ? properties.keyDir() : atelier.dataDir().resolve("ssh-keys");
        return new SshConnector(keyDir, properties.connectTimeout(), properties.commandTimeout());
    }

    @Bean
    SshHostPool sshHostPool(SshHostRegistry hosts, SshConnector connector) {
        return new SshHostPool(hosts, connector);
    }

    /** The SSH gateway's hop into ssh workspaces, with the engine's gateway key. */
    @Bean
    SshWorkspaceProvider sshWorkspaceProvider(SshHostRegistry hosts, SshConnector connector,
                                              SshProviderProperties properties, WorkspaceKey gatewayKey,
                                              SshShells shells) {
        return new SshWorkspaceProvider(hosts, connector, properties, gatewayKey, shells);
    }
}
