package dev.atelier.providers.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Enables the {@code kubernetes} provider when {@code atelier.providers.kubernetes.enabled=true}. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(KubernetesProviderProperties.class)
@ConditionalOnProperty(prefix = "atelier.providers.kubernetes", name = "enabled", havingValue = "true")
public class KubernetesProviderConfiguration {

    @Bean(destroyMethod = "close")
    KubernetesWorkspaceProvider kubernetesWorkspaceProvider(KubernetesProviderProperties properties,
                                                            dev.atelier.config.AtelierProperties atelier) {
        return new KubernetesWorkspaceProvider(() -> client(properties), properties.namespace(),
                properties.ingressCidrs(), deniedEgress(properties, atelier), properties.pollInterval());
    }

    /** The configured ranges and the engine's database (when it is external: the embedded one is on loopback). */
    static java.util.List<dev.atelier.provider.IpRange> deniedEgress(KubernetesProviderProperties properties,
                                                                    dev.atelier.config.AtelierProperties atelier) {
        java.util.List<dev.atelier.provider.IpRange> denied = new java.util.ArrayList<>();
        for (String cidr : properties.deniedEgressCidrs()) {
            if (!Cidrs.valid(cidr) && !Cidrs.valid(cidr + (cidr.contains(":") ? "/128" : "/32"))) {
                throw new IllegalArgumentException("atelier.providers.kubernetes.denied-egress-cidrs: '" + cidr
                        + "' is not a CIDR such as 10.0.0.0/8");
            }
            denied.add(dev.atelier.provider.IpRange.parse(cidr));
        }
        dev.atelier.config.EngineAddresses.database(atelier).forEach(a -> denied.add(dev.atelier.provider.IpRange.of(a)));
        return denied;
    }

    /** Built on first use, so that an engine with the provider enabled starts even while the cluster is away. */
    static KubernetesClient client(KubernetesProviderProperties properties) {
        ConfigBuilder config = new ConfigBuilder(Config.autoConfigure(null));
        if (properties.masterUrl() != null && !properties.masterUrl().isBlank()) {
            config.withMasterUrl(properties.masterUrl());
        }
        // The engine retries with persistent backoff (atelier.transitions.*): keep each call short.
        config.withRequestRetryBackoffLimit(1).withRequestRetryBackoffInterval(200);
        return new KubernetesClientBuilder().withConfig(config.build()).build();
    }
}
