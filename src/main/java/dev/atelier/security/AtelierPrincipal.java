package dev.atelier.security;

import dev.atelier.domain.shared.Actor;

import java.util.Set;

/** An authenticated caller: who (subject), how (API token, later OIDC), and with which roles. */
public record AtelierPrincipal(String subject, Actor.ActorType type, Set<Role> roles, String credentialId) {

    public AtelierPrincipal {
        roles = Set.copyOf(roles);
    }

    public boolean has(Role role) {
        return roles.contains(role) || roles.contains(Role.OWNER);
    }

    public boolean hasAny(Role... wanted) {
        for (Role role : wanted) {
            if (has(role)) {
                return true;
            }
        }
        return false;
    }

    /** For a workspace agent: the workspace and build its token was issued for. */
    public java.util.Optional<AgentTokens.AgentClaim> agentClaim() {
        if (type != Actor.ActorType.AGENT || credentialId == null) {
            return java.util.Optional.empty();
        }
        int colon = credentialId.lastIndexOf(':');
        return java.util.Optional.of(new AgentTokens.AgentClaim(credentialId.substring(0, colon),
                Long.parseLong(credentialId.substring(colon + 1))));
    }

    public Actor actor() {
        return new Actor(subject, type);
    }
}
