package dev.atelier.providers.docker;

import dev.atelier.provider.IpRange;
import dev.atelier.provider.ProviderException;

import java.net.InetAddress;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Which networks a workspace's containers join; the one place that decides it. A workspace has a bridge network of
 * its own ({@code atelier-<workspace id>}), created before its containers: the main container joins it as
 * {@code workspace}, each sidecar under its name, so that they reach each other by name and other workspaces not at
 * all. The main container also joins the existing network a template names in {@code network} (a shared proxy, a
 * company service). A template with {@code network: none} gets no network at all (and has no sidecars or ports).
 *
 * @param own   the workspace's own network, or null for none
 * @param extra the existing network the main container joins as well, or null
 */
record WorkspaceNetwork(String own, String extra) {

    /** The main container's host name and its name on the workspace's own network. */
    static final String MAIN_ALIAS = "workspace";

    static WorkspaceNetwork of(DockerSpec spec, DockerNames names) {
        return spec.noNetwork() ? new WorkspaceNetwork(null, null) : new WorkspaceNetwork(names.network(), spec.network());
    }

    /** The network the workspace needs created (labelled as its own, removed on delete), if any. */
    Optional<String> toCreate() {
        return Optional.ofNullable(own);
    }

    /** Docker's network mode of the main container: its own network, or {@code none}. */
    String mainMode() {
        return own == null ? "none" : own;
    }

    /** The main container's alias on its own network, if it has one. */
    Optional<String> mainAlias() {
        return own == null ? Optional.empty() : Optional.of(MAIN_ALIAS);
    }

    /** The network the main container is connected to after it is created, if any. */
    Optional<String> mainAlsoJoins() {
        return Optional.ofNullable(extra);
    }

    /** Docker's network mode of a sidecar (a template with sidecars always has a network of its own). */
    String sidecarMode() {
        return own;
    }

    /**
     * A workspace never joins a network that reaches the engine's database: one the operator listed
     * ({@code atelier.providers.docker.denied-networks}), or one whose subnet holds the database's address. Checked
     * before anything of the workspace is made; a missing network fails later, when it is joined, with its own message.
     */
    void refuseReachingEngine(DockerApi api, Collection<String> deniedNetworks, List<InetAddress> engineAddresses) {
        if (extra == null) {
            return;
        }
        if (deniedNetworks.contains(extra)) {
            throw ProviderException.permanent("the template's network is one workspaces may not join "
                    + "(atelier.providers.docker.denied-networks): it reaches the engine or its database");
        }
        if (engineAddresses.isEmpty()) {
            return;
        }
        var ipam = api.inspectNetwork(extra).map(n -> n.getIpam()).orElse(null);
        if (ipam == null || ipam.getConfig() == null) {
            return;
        }
        for (var config : ipam.getConfig()) {
            if (config.getSubnet() == null) {
                continue;
            }
            IpRange subnet = IpRange.parse(config.getSubnet());
            for (InetAddress address : engineAddresses) {
                if (subnet.contains(address)) {
                    throw ProviderException.permanent("the template's network has the subnet " + subnet + ", which "
                            + "holds the engine's database (" + address.getHostAddress() + "); workspaces never join it");
                }
            }
        }
    }
}
