package dev.atelier.cluster;

import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenSchema;
import org.axonframework.serialization.Serializer;
import org.axonframework.springboot.TokenStoreProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** What several engines on one PostgreSQL need from Axon. */
@Configuration(proxyBeanMethods = false)
public class ClusterConfiguration {

    /**
     * Axon's JDBC token store as auto-configured, but claiming segments in this node's name: Axon's default owner is
     * the JVM's {@code pid@host}, which two engines in one JVM (or two containers with the same pid and host name)
     * share, so each would think the other's claims were its own and both would project the same segments.
     */
    @Bean
    TokenStore tokenStore(ConnectionProvider connectionProvider, Serializer serializer, TokenStoreProperties tokens,
                          Node node) {
        return JdbcTokenStore.builder()
                .connectionProvider(connectionProvider)
                .schema(new TokenSchema())
                .serializer(serializer)
                .claimTimeout(tokens.getClaimTimeout())
                .nodeId(node.id())
                .build();
    }
}
