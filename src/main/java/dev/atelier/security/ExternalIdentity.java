package dev.atelier.security;

import java.util.Set;

/** Who the identity provider says a caller is: {@code sub}, name, e-mail, and the mapped roles and teams. */
public record ExternalIdentity(String subject, String name, String email, Set<Role> roles, Set<String> teams) {

    public ExternalIdentity {
        roles = Set.copyOf(roles);
        teams = Set.copyOf(teams);
    }
}
