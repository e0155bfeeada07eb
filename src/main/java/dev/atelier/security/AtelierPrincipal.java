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

    public Actor actor() {
        return new Actor(subject, type);
    }
}
