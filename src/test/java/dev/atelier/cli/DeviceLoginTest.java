package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The device authorization grant (RFC 8628) against a fake identity provider in the test: the mock OIDC issuer the
 * engine tests use does not implement the device grant, so the provider's side is played by a small HTTP server that
 * answers as the RFC says (pending, slow_down, then a token; or access_denied).
 */
class DeviceLoginTest {

    @TempDir
    Path home;
    private HttpServer server;
    private String base;
    private final Deque<String> tokenAnswers = new ConcurrentLinkedDeque<>();
    private final List<Map<String, String>> tokenRequests = new ArrayList<>();
    private final List<Map<String, String>> deviceRequests = new ArrayList<>();
    /** As Spring Authorization Server does: 'openid' in a device authorization request is invalid_scope. */
    private volatile boolean refuseOpenid;

    @BeforeEach
    void provider() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        base = "http://127.0.0.1:" + server.getAddress().getPort();
        server.createContext("/auth/config", x -> answer(x, 200, "{\"sso\":true,\"deviceAuthorization\":{"
                + "\"deviceAuthorizationEndpoint\":\"" + base + "/device\",\"tokenEndpoint\":\"" + base + "/token\","
                + "\"clientId\":\"atelier-cli\",\"scopes\":[\"openid\",\"profile\"]}}"));
        server.createContext("/device", x -> {
            Map<String, String> form = form(x);
            deviceRequests.add(form);
            if (refuseOpenid && form.getOrDefault("scope", "").contains("openid")) {
                answer(x, 400, "{\"error\":\"invalid_scope\"}");
                return;
            }
            answer(x, 200, "{\"device_code\":\"dev-123\",\"user_code\":\"WDJB-MJHT\",\"verification_uri\":\"" + base
                    + "/activate\",\"expires_in\":600,\"interval\":1}");
        });
        server.createContext("/token", x -> {
            Map<String, String> form = form(x);
            synchronized (tokenRequests) {
                tokenRequests.add(form);
            }
            String next = tokenAnswers.isEmpty() ? "{\"error\":\"authorization_pending\"}" : tokenAnswers.poll();
            answer(x, next.contains("access_token") ? 200 : 400, next);
        });
        server.createContext("/api/v1/", x -> {
            if (!"Bearer access-2".equals(x.getRequestHeaders().getFirst("Authorization"))) {
                answer(x, 401, "{\"title\":\"Unauthorized\",\"detail\":\"expired\"}");
            } else {
                answer(x, 200, "{\"workspaces\":[]}");
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static Map<String, String> form(HttpExchange exchange) throws IOException {
        Map<String, String> form = new LinkedHashMap<>();
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        for (String pair : body.split("&")) {
            String[] kv = pair.split("=", 2);
            form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        return form;
    }

    private static void answer(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private CliEnvironment env(StringWriter err) {
        return new CliEnvironment(Map.of(), home, new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                java.io.InputStream.nullInputStream(), java.io.OutputStream.nullOutputStream());
    }

    @Test
    void pollsAsTheProviderSaysUntilTheUserConfirmsAndKeepsTheRefreshToken() {
        tokenAnswers.add("{\"error\":\"authorization_pending\"}");
        tokenAnswers.add("{\"error\":\"slow_down\"}");
        tokenAnswers.add("{\"error\":\"authorization_pending\"}");
        tokenAnswers.add("{\"access_token\":\"access-1\",\"refresh_token\":\"refresh-1\",\"expires_in\":3600,\"token_type\":\"Bearer\"}");
        List<Duration> pauses = new ArrayList<>();
        StringWriter err = new StringWriter();
        Credentials credentials = new DeviceLogin(new EngineClient(base, null), new Output(env(err), false),
                Clock.systemUTC(), pauses::add).login(base);

        assertThat(deviceRequests).containsExactly(Map.of("client_id", "atelier-cli", "scope", "openid profile"));
        assertThat(err.toString()).contains("open " + base + "/activate and enter the code WDJB-MJHT");
        assertThat(pauses).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(6),
                Duration.ofSeconds(6));
        assertThat(tokenRequests).allSatisfy(r -> assertThat(r).isEqualTo(Map.of("grant_type", DeviceLogin.GRANT,
                "device_code", "dev-123", "client_id", "atelier-cli")));
        assertThat(credentials.kind()).isEqualTo("oidc");
        assertThat(credentials.token()).isEqualTo("access-1");
        assertThat(credentials.refreshToken()).isEqualTo("refresh-1");
        assertThat(credentials.tokenEndpoint()).isEqualTo(base + "/token");
        assertThat(Instant.parse(credentials.expiresAt())).isAfter(Instant.now().plusSeconds(3500));
    }

    @Test
    void aProviderThatRefusesOpenidInTheDeviceRequestIsAskedOnceMoreWithoutIt() {
        refuseOpenid = true;
        tokenAnswers.add("{\"access_token\":\"access-1\",\"expires_in\":3600,\"token_type\":\"Bearer\"}");
        Credentials credentials = new DeviceLogin(new EngineClient(base, null), new Output(env(new StringWriter()), false),
                Clock.systemUTC(), d -> { }).login(base);

        assertThat(deviceRequests).containsExactly(Map.of("client_id", "atelier-cli", "scope", "openid profile"),
                Map.of("client_id", "atelier-cli", "scope", "profile"));
        assertThat(credentials.token()).isEqualTo("access-1");
    }

    @Test
    void aDeniedSignInIsExitThree() {
        tokenAnswers.add("{\"error\":\"access_denied\"}");
        assertThatThrownBy(() -> new DeviceLogin(new EngineClient(base, null), new Output(env(new StringWriter()), false),
                Clock.systemUTC(), d -> { }).login(base))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAUTHENTICATED));
    }

    @Test
    void anExpiredAccessTokenIsRefreshedBeforeTheCallAndSavedAgain() throws Exception {
        new Credentials(base, "oidc", "access-1", Instant.now().minusSeconds(5).toString(), "refresh-1", base + "/token",
                "atelier-cli").save(env(new StringWriter()));
        tokenAnswers.add("{\"access_token\":\"access-2\",\"expires_in\":3600}");
        CliRun.Result listed = new CliRun(home).run("ls", "--json");
        assertThat(listed.exitCode()).as(listed.toString()).isZero();
        assertThat(tokenRequests).containsExactly(Map.of("grant_type", "refresh_token", "refresh_token", "refresh-1",
                "client_id", "atelier-cli"));
        JsonNode saved = EngineClient.JSON.readTree(home.resolve(".config/atelier/credentials").toFile());
        assertThat(saved.path("token").asText()).isEqualTo("access-2");
        assertThat(saved.path("refreshToken").asText()).isEqualTo("refresh-1");
    }
}
