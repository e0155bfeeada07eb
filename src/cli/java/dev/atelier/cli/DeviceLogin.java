package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sign-in with the OAuth 2.0 device authorization grant (RFC 8628) at the engine's identity provider: the engine's
 * {@code GET /auth/config} names the provider's device authorization and token endpoints and the public CLI client;
 * the user confirms a code in a browser while this polls the token endpoint.
 */
final class DeviceLogin {

    static final String GRANT = "urn:ietf:params:oauth:grant-type:device_code";
    private static final String OPENID = "openid";

    /** Sleeps between polls; a test can pass one that does not wait. */
    interface Pause {
        void sleep(Duration duration) throws InterruptedException;
    }

    private final EngineClient engine;
    private final Output out;
    private final Clock clock;
    private final Pause pause;

    DeviceLogin(EngineClient engine, Output out, Clock clock, Pause pause) {
        this.engine = engine;
        this.out = out;
        this.clock = clock;
        this.pause = pause;
    }

    Credentials login(String engineUrl) {
        JsonNode config = engine.get("/auth/config");
        JsonNode device = config.path("deviceAuthorization");
        if (!config.path("sso").asBoolean(false) || device.isMissingNode()) {
            throw new CliException(ExitCodes.UNAUTHENTICATED, "this engine offers no device sign-in (no single sign-on, "
                    + "or the provider has no device authorization grant); sign in with 'atelier login --token'");
        }
        String clientId = device.path("clientId").asText();
        String tokenEndpoint = device.path("tokenEndpoint").asText();
        List<String> scopes = new ArrayList<>();
        device.path("scopes").forEach(s -> scopes.add(s.asText()));
        URI deviceEndpoint = URI.create(device.path("deviceAuthorizationEndpoint").asText());
        HttpResponse<String> started = engine.postForm(deviceEndpoint, start(clientId, scopes));
        JsonNode code = EngineClient.parse(started.body());
        if (started.statusCode() != 200 && code != null && "invalid_scope".equals(code.path("error").asText())
                && scopes.remove(OPENID)) {
            // The CLI needs only the access token. Spring Authorization Server refuses 'openid' in a device
            // authorization request (invalid_scope), while Okta requires it: ask with it, and once more without.
            started = engine.postForm(deviceEndpoint, start(clientId, scopes));
            code = EngineClient.parse(started.body());
        }
        if (started.statusCode() != 200 || code == null || !code.hasNonNull("device_code")) {
            throw new CliException(ExitCodes.UNAVAILABLE, "the identity provider refused to start a device sign-in"
                    + oauthError(code));
        }
        String verification = code.path("verification_uri_complete").asText(code.path("verification_uri").asText());
        out.progress("To sign in, open " + Text.cell(verification) + (code.hasNonNull("verification_uri_complete") ? ""
                : " and enter the code " + Text.cell(code.path("user_code").asText())));
        Instant deadline = clock.instant().plusSeconds(code.path("expires_in").asLong(600));
        Duration interval = Duration.ofSeconds(Math.max(1, code.path("interval").asLong(5)));
        Map<String, String> poll = new LinkedHashMap<>();
        poll.put("grant_type", GRANT);
        poll.put("device_code", code.path("device_code").asText());
        poll.put("client_id", clientId);
        while (clock.instant().isBefore(deadline)) {
            try {
                pause.sleep(interval);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCodes.ERROR, "interrupted");
            }
            HttpResponse<String> answer = engine.postForm(URI.create(tokenEndpoint), poll);
            JsonNode body = EngineClient.parse(answer.body());
            if (answer.statusCode() == 200 && body != null && body.hasNonNull("access_token")) {
                return credentials(engineUrl, body, tokenEndpoint, clientId, null);
            }
            String error = body == null ? "" : body.path("error").asText();
            switch (error) {
                case "authorization_pending" -> {
                }
                case "slow_down" -> interval = interval.plusSeconds(5);
                case "access_denied" -> throw new CliException(ExitCodes.UNAUTHENTICATED, "the sign-in was denied");
                case "expired_token" -> throw new CliException(ExitCodes.TIMEOUT, "the code expired before it was confirmed; "
                        + "run 'atelier login' again");
                default -> throw new CliException(ExitCodes.UNAUTHENTICATED, "the identity provider refused the sign-in"
                        + oauthError(body));
            }
        }
        throw new CliException(ExitCodes.TIMEOUT, "the code expired before it was confirmed; run 'atelier login' again");
    }

    private static Map<String, String> start(String clientId, List<String> scopes) {
        Map<String, String> start = new LinkedHashMap<>();
        start.put("client_id", clientId);
        if (!scopes.isEmpty()) {
            start.put("scope", String.join(" ", scopes));
        }
        return start;
    }

    static Credentials credentials(String url, JsonNode token, String tokenEndpoint, String clientId, String oldRefresh) {
        String expiresAt = token.hasNonNull("expires_in")
                ? Instant.now().plusSeconds(token.path("expires_in").asLong()).toString() : null;
        String refresh = token.hasNonNull("refresh_token") ? token.path("refresh_token").asText() : oldRefresh;
        return new Credentials(url, "oidc", token.path("access_token").asText(), expiresAt, refresh, tokenEndpoint, clientId);
    }

    /** The provider's error code (never its description verbatim: it may echo input). */
    private static String oauthError(JsonNode body) {
        String error = body == null ? "" : body.path("error").asText();
        return error.matches("[a-z_]{1,64}") ? " (" + error + ")" : "";
    }
}
