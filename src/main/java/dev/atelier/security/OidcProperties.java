package dev.atelier.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Single sign-on through an OpenID Connect issuer (docs/security.md). Spring's relaxed binding maps the operator-facing
 * variables onto it: {@code ATELIER_OIDC_ISSUER_URI}, {@code ATELIER_OIDC_AUDIENCE}, {@code ATELIER_OIDC_CLIENT_ID},
 * {@code ATELIER_OIDC_CLIENT_SECRET}. Nothing here is contacted at start-up: discovery happens on first use, so the
 * engine starts while the identity provider is down.
 *
 * @param issuerUri    bearer JWTs from this issuer are accepted; unset means no single sign-on at all
 * @param audience     a JWT's {@code aud} must contain this
 * @param clientId     the browser login (authorization code with PKCE) is on when set
 * @param clientSecret the client's secret; unset means a public client (PKCE only)
 * @param cliClientId  a public client for the device authorization grant of CLIs, advertised at {@code /auth/config}
 * @param rolesClaim   the claim (dotted path for nested claims, {@code realm_access.roles}) holding roles or groups
 * @param roleMapping  claim value to Atelier role(s), comma-separated; a value that is itself a role id maps to it
 * @param defaultRoles roles every signed-in user has, mapped or not
 * @param teamsClaim   the claim holding the user's teams
 * @param teamMapping  claim value to team name; when not empty, only mapped values become teams
 * @param clockSkew    tolerated clock difference for exp/nbf (at most PT5M)
 * @param scopes       scopes the browser login asks for
 * @param redirectUri  where the identity provider sends the browser back; set it behind a proxy that rewrites the host
 * @param providerName what the console's button calls the provider ("Sign in with Acme SSO"); default the issuer's host
 */
@ConfigurationProperties("atelier.oidc")
public record OidcProperties(String issuerUri,
                             @DefaultValue("atelier") String audience,
                             String clientId,
                             String clientSecret,
                             String cliClientId,
                             @DefaultValue("roles") String rolesClaim,
                             Map<String, String> roleMapping,
                             @DefaultValue("member") List<String> defaultRoles,
                             @DefaultValue("groups") String teamsClaim,
                             Map<String, String> teamMapping,
                             @DefaultValue("PT60S") Duration clockSkew,
                             @DefaultValue({"openid", "profile", "email"}) List<String> scopes,
                             @DefaultValue("{baseUrl}/login/oauth2/code/{registrationId}") String redirectUri,
                             String providerName) {

    static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    /** The registration id of the browser login: {@code /oauth2/authorization/atelier}. */
    public static final String REGISTRATION_ID = "atelier";

    public OidcProperties {
        roleMapping = roleMapping == null ? Map.of() : Map.copyOf(roleMapping);
        teamMapping = teamMapping == null ? Map.of() : Map.copyOf(teamMapping);
        defaultRoles = defaultRoles == null ? List.of() : List.copyOf(defaultRoles);
        if (clockSkew.isNegative() || clockSkew.compareTo(MAX_CLOCK_SKEW) > 0) {
            throw new IllegalArgumentException("atelier.oidc.clock-skew must be between PT0S and " + MAX_CLOCK_SKEW
                    + ", is " + clockSkew);
        }
        defaultRoles.forEach(Role::parse);
        roleMapping.values().forEach(Role::parseAll);
    }

    /** The provider's name for people: {@code providerName}, else the issuer's host. */
    public String displayName() {
        if (providerName != null && !providerName.isBlank()) {
            return providerName.strip();
        }
        try {
            String host = java.net.URI.create(issuerUri).getHost();
            return host == null ? "single sign-on" : host;
        } catch (IllegalArgumentException e) {
            return "single sign-on";
        }
    }

    /** Bearer JWTs are accepted. */
    public boolean enabled() {
        return issuerUri != null && !issuerUri.isBlank();
    }

    /** The browser login is on. */
    public boolean browserLogin() {
        return enabled() && clientId != null && !clientId.isBlank();
    }
}
