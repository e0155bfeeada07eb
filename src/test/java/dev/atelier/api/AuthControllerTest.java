package dev.atelier.api;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.atelier.security.OidcDiscovery;
import dev.atelier.security.OidcProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /auth/config} advertises the device authorization grant when the issuer's discovery document has the
 * endpoint (mock-oauth2-server, the issuer of the integration tests, has none) and a public client is known.
 */
class AuthControllerTest {

    private WireMockServer issuer;
    private String issuerUri;

    @BeforeEach
    void start() {
        issuer = new WireMockServer(wireMockConfig().dynamicPort());
        issuer.start();
        issuerUri = issuer.baseUrl() + "/realms/acme";
        issuer.stubFor(get(urlEqualTo("/realms/acme/.well-known/openid-configuration")).willReturn(aResponse()
                .withHeader("Content-Type", "application/json")
                .withBody("""
                        {"issuer": "%1$s", "token_endpoint": "%1$s/token",
                         "device_authorization_endpoint": "%1$s/device"}""".formatted(issuerUri()))));
    }

    @AfterEach
    void stop() {
        issuer.stop();
    }

    private String issuerUri() {
        return issuerUri;
    }

    private Map<String, Object> config(String clientSecret, String cliClientId) {
        return config(clientSecret, cliClientId, null);
    }

    private Map<String, Object> config(String clientSecret, String cliClientId, String providerName) {
        OidcProperties oidc = new OidcProperties(issuerUri(), "atelier", "atelier-console", clientSecret, cliClientId,
                "roles", Map.of(), List.of("member"), "groups", Map.of(), Duration.ofSeconds(60),
                List.of("openid", "profile"), "{baseUrl}/login/oauth2/code/{registrationId}", providerName);
        return new AuthController(oidc, new OidcDiscovery(oidc, WebClient.builder())).config().block(Duration.ofSeconds(10));
    }

    @SuppressWarnings("unchecked")
    @Test
    void theDeviceGrantIsAdvertisedWithAPublicClientOnly() {
        Map<String, Object> withCli = config("secret", "atelier-cli");
        assertThat(withCli).containsEntry("sso", true).containsEntry("browserLogin", true)
                .containsEntry("loginUrl", "/oauth2/authorization/atelier");
        Map<String, Object> device = (Map<String, Object>) withCli.get("deviceAuthorization");
        assertThat(device).containsEntry("deviceAuthorizationEndpoint", issuerUri() + "/device")
                .containsEntry("tokenEndpoint", issuerUri() + "/token").containsEntry("clientId", "atelier-cli");
        // The browser's client has a secret, which a CLI cannot hold: without a public client nothing is advertised.
        assertThat(config("secret", null)).doesNotContainKey("deviceAuthorization");
        assertThat(((Map<String, Object>) config(null, null).get("deviceAuthorization")).get("clientId"))
                .isEqualTo("atelier-console");
    }

    @Test
    void theConsoleButtonNamesTheProviderAsConfiguredOrByTheIssuersHost() {
        assertThat(config(null, null, "Acme SSO")).containsEntry("providerName", "Acme SSO");
        assertThat(config(null, null, "  ")).containsEntry("providerName", "localhost");
        assertThat(config(null, null)).containsEntry("providerName", "localhost");
    }

    @Test
    void anUnreachableIssuerIsSaid() {
        issuer.stop();
        assertThat(config(null, "atelier-cli")).containsEntry("issuerReachable", false)
                .doesNotContainKey("deviceAuthorization");
    }
}
