package dev.atelier.domain.identity;

/** Where a user or a team (or a team membership) comes from: the identity provider's login, or an owner's call. */
public enum IdentitySource {
    /** Created or synced from the claims of an OIDC login; the next login overwrites it. */
    OIDC,
    /** Created or managed by an owner through the API; logins leave it alone. */
    OWNER
}
