package dev.atelier.security;

import dev.atelier.domain.shared.Actor;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * An authenticated caller: who (subject), how (API token, OIDC user, workspace agent), with which roles, and with
 * which credential: the API token's id, {@code session:<id>} for a browser session, {@code jwt:<id>} for a bearer JWT,
 * {@code <workspace>:<build>} for an agent. The credential id is never a secret; the audit trail records it.
 *
 * @param scope     what a scoped (agent) token is limited to; null for everything else
 * @param expiresAt when the credential stops working, if it does (a token a token creates cannot outlive it)
 */
public record AtelierPrincipal(String subject, Actor.ActorType type, Set<Role> roles, String credentialId,
                               TokenScope scope, Instant expiresAt) {

    public AtelierPrincipal {
        roles = Set.copyOf(roles);
    }

    public AtelierPrincipal(String subject, Actor.ActorType type, Set<Role> roles, String credentialId) {
        this(subject, type, roles, credentialId, null, null);
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

    /** A token limited to some workspaces or to agent workspaces. */
    public boolean scoped() {
        return scope != null;
    }

    /** For a workspace agent: the workspace and build its token was issued for. */
    public Optional<AgentTokens.AgentClaim> agentClaim() {
        if (type != Actor.ActorType.AGENT || credentialId == null) {
            return Optional.empty();
        }
        int colon = credentialId.lastIndexOf(':');
        return Optional.of(new AgentTokens.AgentClaim(credentialId.substring(0, colon),
                Long.parseLong(credentialId.substring(colon + 1))));
    }

    public Actor actor() {
        return new Actor(subject, type);
    }
}
