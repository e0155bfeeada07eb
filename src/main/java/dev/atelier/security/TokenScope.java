package dev.atelier.security;

import java.util.Set;

/**
 * What a scoped token (for an agent or a CI job) may touch: the named workspaces, and/or workspaces of kind
 * {@code AGENT} of its subject (create them, then act on them). Anything else answers as if it did not exist.
 */
public record TokenScope(Set<String> workspaces, boolean agentWorkspaces) {

    public TokenScope {
        workspaces = workspaces == null ? Set.of() : Set.copyOf(workspaces);
    }

    /** Whether the token may see and act on this workspace. */
    public boolean allows(String workspaceId, String owner, String kind, String subject) {
        return workspaces.contains(workspaceId) || (agentWorkspaces && "AGENT".equals(kind) && subject.equals(owner));
    }
}
