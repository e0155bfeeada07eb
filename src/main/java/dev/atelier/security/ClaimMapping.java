package dev.atelier.security;

import dev.atelier.domain.identity.IdentityRules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Claims of a JWT or an ID token to an {@link ExternalIdentity}: {@code sub} is the user id, {@code name} (or
 * {@code preferred_username}) and {@code email} the profile; roles come from {@code atelier.oidc.roles-claim} through
 * {@code atelier.oidc.role-mapping} (a value that is an Atelier role id counts as that role) plus the default roles;
 * teams from {@code atelier.oidc.teams-claim}, through {@code atelier.oidc.team-mapping} when it is set. Claims may be
 * a list or one string of space- or comma-separated values, and may be nested ({@code realm_access.roles}).
 */
public final class ClaimMapping {

    private static final Logger log = LoggerFactory.getLogger(ClaimMapping.class);

    private final OidcProperties properties;

    public ClaimMapping(OidcProperties properties) {
        this.properties = properties;
    }

    /** @throws IllegalArgumentException when {@code sub} is missing or no usable user id (the message may be shown) */
    public ExternalIdentity map(Map<String, Object> claims) {
        Object sub = claims.get("sub");
        if (!(sub instanceof String subject) || !IdentityRules.validUserId(subject)) {
            throw new IllegalArgumentException("the token's subject (sub) is missing or not usable as a user id (1-100 "
                    + "letters, digits or . _ @ | : + -)");
        }
        String name = text(claims.get("name"));
        if (name == null) {
            name = text(claims.get("preferred_username"));
        }
        String email = text(claims.get("email"));
        if (email != null && (email.length() > 254 || !email.contains("@"))) {
            email = null;
        }
        return new ExternalIdentity(subject, name == null ? null : limit(name, 200), email, roles(claims), teams(claims));
    }

    private Set<Role> roles(Map<String, Object> claims) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        properties.defaultRoles().forEach(r -> roles.add(Role.parse(r)));
        for (String value : values(claims, properties.rolesClaim())) {
            String mapped = properties.roleMapping().get(value);
            if (mapped != null) {
                roles.addAll(Role.parseAll(mapped));
            } else {
                try {
                    roles.add(Role.parse(value));
                } catch (IllegalArgumentException notARole) {
                    // a group that means nothing to Atelier
                }
            }
        }
        return roles;
    }

    private Set<String> teams(Map<String, Object> claims) {
        Set<String> teams = new TreeSet<>();
        for (String value : values(claims, properties.teamsClaim())) {
            // Keycloak's group paths: "/platform" is the team "platform".
            String group = value.startsWith("/") ? value.substring(1) : value;
            String team = properties.teamMapping().isEmpty() ? group : properties.teamMapping().get(group);
            if (team == null) {
                continue;
            }
            if (IdentityRules.validTeamName(team)) {
                teams.add(team);
            } else {
                log.debug("a value of the teams claim is no valid team name (letters, digits, . _ @ -); ignored");
            }
        }
        return teams;
    }

    /** The values of a claim given by a dotted path. */
    static List<String> values(Map<String, Object> claims, String path) {
        if (path == null || path.isBlank()) {
            return List.of();
        }
        Object value = claims;
        for (String part : path.split("\\.")) {
            if (!(value instanceof Map<?, ?> map)) {
                return List.of();
            }
            value = map.get(part);
        }
        List<String> values = new ArrayList<>();
        if (value instanceof Collection<?> many) {
            many.forEach(v -> {
                if (v != null && !v.toString().isBlank()) {
                    values.add(v.toString().trim());
                }
            });
        } else if (value instanceof String one) {
            for (String v : one.split("[\\s,]+")) {
                if (!v.isBlank()) {
                    values.add(v);
                }
            }
        }
        return values.size() > 1000 ? values.subList(0, 1000) : values;
    }

    private static String text(Object value) {
        return value instanceof String s && !s.isBlank() ? s.trim() : null;
    }

    private static String limit(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max);
    }
}
