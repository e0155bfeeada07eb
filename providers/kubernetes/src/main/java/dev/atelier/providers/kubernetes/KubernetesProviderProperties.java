package dev.atelier.providers.kubernetes;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * The {@code kubernetes} provider ({@code atelier.providers.kubernetes.*}).
 *
 * @param enabled      off by default: the engine starts without a cluster
 * @param masterUrl    the API server; unset: the client's usual chain (KUBECONFIG / ~/.kube/config, then the
 *                     in-cluster service account). Credentials come from that chain either way, like
 *                     {@code kubectl --server}
 * @param namespace    where workspaces go when their template names no namespace; unset: the namespace of the
 *                     kubeconfig context or of the engine's pod, else {@code default}
 * @param ingressCidrs the only sources allowed to connect to workspaces (NetworkPolicy ingress); empty: none
 * @param pollInterval how often the engine checks on a starting, stopping or deleting workspace
 * @param deniedEgressCidrs addresses no workspace may reach, excepted from every egress rule of its NetworkPolicy:
 *                     the engine, its database (the database's addresses from {@code atelier.db.url} are added
 *                     by themselves) and anything else of the engine's
 */
@ConfigurationProperties("atelier.providers.kubernetes")
public record KubernetesProviderProperties(
        @DefaultValue("false") boolean enabled,
        String masterUrl,
        String namespace,
        @DefaultValue List<String> ingressCidrs,
        @DefaultValue("PT2S") Duration pollInterval,
        @DefaultValue List<String> deniedEgressCidrs) {

    public KubernetesProviderProperties {
        deniedEgressCidrs = deniedEgressCidrs == null ? List.of() : List.copyOf(deniedEgressCidrs);
    }
}
