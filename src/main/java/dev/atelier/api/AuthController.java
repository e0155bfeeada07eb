package dev.atelier.api;

import dev.atelier.security.OidcDiscovery;
import dev.atelier.security.OidcProperties;
import dev.atelier.security.SecurityConfiguration;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a client needs to sign in, open to everybody ({@code GET /auth/config}): whether single sign-on is on, where
 * the browser login starts and ends, the CSRF cookie and header of session writes, and, when the issuer offers the
 * device authorization grant, what a CLI needs for it (docs/security.md).
 */
@RestController
public class AuthController {

    private final OidcProperties oidc;
    private final OidcDiscovery discovery;

    public AuthController(OidcProperties oidc, OidcDiscovery discovery) {
        this.oidc = oidc;
        this.discovery = discovery;
    }

    @GetMapping("/auth/config")
    public Mono<Map<String, Object>> config() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("sso", oidc.enabled());
        if (!oidc.enabled()) {
            return Mono.just(body);
        }
        body.put("issuer", oidc.issuerUri());
        body.put("providerName", oidc.displayName());
        body.put("audience", oidc.audience());
        body.put("browserLogin", oidc.browserLogin());
        if (oidc.browserLogin()) {
            body.put("loginUrl", "/oauth2/authorization/" + OidcProperties.REGISTRATION_ID);
            body.put("logoutUrl", "/logout");
            body.put("csrf", Map.of("cookie", SecurityConfiguration.CSRF_COOKIE, "header", SecurityConfiguration.CSRF_HEADER));
        }
        return discovery.document()
                .timeout(Duration.ofSeconds(5))
                .map(document -> {
                    Object endpoint = document.get("device_authorization_endpoint");
                    // A CLI holds no secret: the browser's client counts only when it is public too.
                    String clientId = oidc.cliClientId() != null ? oidc.cliClientId()
                            : oidc.clientSecret() == null || oidc.clientSecret().isBlank() ? oidc.clientId() : null;
                    if (endpoint != null && clientId != null) {
                        Map<String, Object> device = new LinkedHashMap<>();
                        device.put("deviceAuthorizationEndpoint", endpoint);
                        device.put("tokenEndpoint", document.get("token_endpoint"));
                        device.put("clientId", clientId);
                        device.put("scopes", oidc.scopes());
                        body.put("deviceAuthorization", device);
                    }
                    return body;
                })
                .onErrorResume(e -> {
                    body.put("issuerReachable", false);
                    return Mono.just(body);
                })
                .defaultIfEmpty(body);
    }
}
