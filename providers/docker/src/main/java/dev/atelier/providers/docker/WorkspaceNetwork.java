package dev.atelier.providers.docker;

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
}
