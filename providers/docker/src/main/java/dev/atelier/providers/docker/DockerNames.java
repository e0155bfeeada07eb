package dev.atelier.providers.docker;

import dev.atelier.provider.ProviderException;

import java.util.regex.Pattern;

/**
 * The names of a workspace's Docker objects, derived from the workspace id, so that a retried call finds what an
 * earlier attempt made. The id is checked before it becomes part of a name.
 */
record DockerNames(String workspaceId) {

    private static final Pattern WORKSPACE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    static DockerNames of(String workspaceId) {
        if (workspaceId == null || !WORKSPACE_ID.matcher(workspaceId).matches()) {
            throw ProviderException.permanent("invalid workspace id '" + workspaceId + "' for docker object names");
        }
        return new DockerNames(workspaceId);
    }

    String main() {
        return "atelier-" + workspaceId;
    }

    String sidecar(String name) {
        return "atelier-" + workspaceId + "-" + name;
    }

    String network() {
        return "atelier-" + workspaceId;
    }

    String volume(String name) {
        return "atelier-" + workspaceId + "-" + name;
    }
}
