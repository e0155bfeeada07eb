package dev.atelier.gateway;

import dev.atelier.audit.AuditRecorder;
import dev.atelier.config.AtelierProperties;
import dev.atelier.projections.identity.IdentityReadModel;
import dev.atelier.projections.idle.ActivityIngestor;
import dev.atelier.provider.ProviderRegistry;
import dev.atelier.provider.WorkspaceKey;
import dev.atelier.security.ApiTokens;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Clock;

/** Wires the SSH gateway (docs/ssh.md); with {@code atelier.ssh.gateway.port=0} it is there but does not listen. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(GatewaySettings.class)
public class GatewayConfiguration {

    /**
     * The engine's key for ssh and VM workspaces: a bean of its own (in the provider package) because providers
     * install its public key and log in with it, and they may not know the gateway.
     */
    @Bean
    WorkspaceKey workspaceKey(GatewaySettings settings, AtelierProperties atelier) {
        return WorkspaceKey.at(settings.workspaceKey() != null ? settings.workspaceKey()
                : atelier.dataDir().resolve("ssh").resolve("gateway-workspace-key"));
    }

    @Bean
    SshGateway sshGateway(GatewaySettings settings, AtelierProperties atelier, IdentityReadModel identities,
                          ApiTokens tokens, QueryGateway queries, AuditRecorder audit, ActivityIngestor activity,
                          ProviderRegistry providers) {
        GatewayAdmissions admissions = new GatewayAdmissions(identities, tokens, queries);
        return new SshGateway(settings, atelier, admissions, new GatewaySessions(audit, activity, Clock.systemUTC(),
                id -> admissions.view(id).map(dev.atelier.projections.workspaces.WorkspaceView::status).orElse("DELETED")),
                providers);
    }
}
