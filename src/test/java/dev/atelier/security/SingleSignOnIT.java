package dev.atelier.security;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.BrowserSession;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.OidcIssuer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Single sign-on against a real OIDC issuer in the test JVM: bearer JWTs (claims mapped to roles and teams, every kind
 * of invalid token refused with a reason, key rotation at the issuer followed), the browser's code flow with PKCE and
 * its session (CSRF on cookie writes), and the bootstrap admin token's retirement once an SSO owner exists (last: the
 * admin client stops working then). {@link IdentityIT} covers users, teams, suspension and tokens on the same engine.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SingleSignOnIT extends EngineIntegrationTest {

    static final OidcIssuer ISSUER = new OidcIssuer();

    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void singleSignOn(DynamicPropertyRegistry registry) {
        OidcEngine.properties(ISSUER).forEach((k, v) -> registry.add(k, () -> v));
    }

    @AfterAll
    static void stopIssuer() {
        ISSUER.close();
    }

    private ApiClient bearer(String jwt) {
        return client(jwt);
    }

    @Test
    @Order(1)
    void theConsoleLearnsHowToSignInAndTheBootstrapTokenStaysUntilAnSsoOwnerExists() {
        JsonNode config = BrowserSession.json(new BrowserSession("http://localhost:" + port).get("/auth/config"));
        assertThat(config.get("sso").asBoolean()).isTrue();
        assertThat(config.get("issuer").asText()).isEqualTo(ISSUER.issuerUri());
        assertThat(config.get("loginUrl").asText()).isEqualTo("/oauth2/authorization/atelier");
        assertThat(config.at("/csrf/header").asText()).isEqualTo("X-XSRF-TOKEN");
        // mock-oauth2-server has no device authorization endpoint, so none is advertised.
        assertThat(config.has("deviceAuthorization")).isFalse();

        ApiClient.Response refused = admin.delete("/api/v1/tokens/bootstrap");
        assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
        assertThat(refused.json().get("detail").asText()).contains("single sign-on", "owner role");
        assertThat(admin.get("/api/v1/users/me").status()).isEqualTo(200);
    }

    @Test
    @Order(2)
    void aJwtUserWithMappedGroupsLandsWithTheirRolesAndTeamsAndLaterLoginsSyncThem() {
        String token = ISSUER.token("ada", Map.of("name", "Ada Lovelace", "email", "ada@example.com",
                "groups", List.of("platform-admins", "team-blue", "unmapped-group")));
        JsonNode me = bearer(token).get("/api/v1/users/me").json();
        assertThat(me.get("id").asText()).isEqualTo("ada");
        assertThat(me.get("name").asText()).isEqualTo("Ada Lovelace");
        assertThat(me.get("email").asText()).isEqualTo("ada@example.com");
        assertThat(me.get("roles")).extracting(JsonNode::asText).containsExactly("member", "owner");
        assertThat(me.get("teams")).extracting(JsonNode::asText).containsExactly("blue");

        JsonNode ada = user("ada");
        assertThat(ada.get("source").asText()).isEqualTo("OIDC");
        assertThat(ada.get("roles")).extracting(JsonNode::asText).containsExactly("member", "owner");
        assertThat(ada.get("lastLoginAt").isNull()).isFalse();
        JsonNode blue = team("blue");
        assertThat(blue.get("source").asText()).isEqualTo("OIDC");
        assertThat(blue.get("members")).extracting(JsonNode::asText).containsExactly("ada");

        // The next login says other groups: roles and teams follow.
        JsonNode again = bearer(ISSUER.token("ada", Map.of("name", "Ada Lovelace", "email", "ada@example.com",
                "groups", List.of("team-green")))).get("/api/v1/users/me").json();
        assertThat(again.get("roles")).extracting(JsonNode::asText).containsExactly("member");
        assertThat(again.get("teams")).extracting(JsonNode::asText).containsExactly("green");
        assertThat(team("blue").get("members")).isEmpty();

        // Logins are in the audit trail with the token that logged in.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            JsonNode logins = admin.get("/api/v1/audit?action=login&resourceId=ada").json().get("entries");
            assertThat(logins).hasSizeGreaterThanOrEqualTo(2);
            assertThat(logins.get(0).at("/details/method").asText()).isEqualTo("bearer-jwt");
            assertThat(logins.get(0).at("/tokenId").asText()).startsWith("jwt:");
        });
    }

    @Test
    @Order(3)
    void everyInvalidTokenIsRefusedWithAReasonAndNobodyAppears() {
        Instant now = Instant.now();
        assertRefused(ISSUER.signed("eve", Map.of("iss", "https://elsewhere.example")), "issuer (iss) is not");
        assertRefused(ISSUER.signed("eve", Map.of("aud", List.of("another-service"))), "audience (aud) does not include 'atelier'");
        assertRefused(ISSUER.signedByStranger("eve", Map.of()), "signature does not verify");
        assertRefused(ISSUER.signed("eve", Map.of("iat", Date.from(now.minusSeconds(7200)),
                "nbf", Date.from(now.minusSeconds(7200)), "exp", Date.from(now.minusSeconds(3600)))), "expired at");
        assertRefused(ISSUER.signed("eve", Map.of("nbf", Date.from(now.plusSeconds(3600)))), "not valid before");
        assertRefused("abc.def.ghi", "not a JWT");
        assertRefused(ISSUER.signed("eve", java.util.Collections.singletonMap("sub", null)), "subject (sub)");
        assertThat(admin.get("/api/v1/users/eve").status()).isIn(404, 405);
        assertThat(admin.get("/api/v1/users").body()).doesNotContain("\"eve\"");
    }

    @Test
    @Order(4)
    void keyRotationAtTheIssuerIsFollowed() {
        String before = ISSUER.signed("kim", Map.of());
        assertThat(bearer(before).get("/api/v1/users/me").status()).isEqualTo(200);
        ISSUER.rotateKeys();
        String after = ISSUER.token("kim", Map.of());
        // An unknown key id makes the engine fetch the issuer's keys again.
        assertThat(bearer(after).get("/api/v1/users/me").status()).isEqualTo(200);
        assertRefused(before, "signature does not verify");
    }

    @Test
    @Order(5)
    void theCodeFlowWithPkceYieldsASessionWhoseCookieWritesNeedTheCsrfToken() {
        ISSUER.nextLogin("erin", Map.of("name", "Erin", "email", "erin@example.com", "groups", List.of("team-blue")));
        BrowserSession browser = new BrowserSession("http://localhost:" + port);
        browser.follow("/oauth2/authorization/atelier");
        HttpResponse<String> toIssuer = browser.hops.get(0);
        assertThat(toIssuer.statusCode()).isEqualTo(302);
        String authorize = toIssuer.headers().firstValue("Location").orElseThrow();
        assertThat(authorize).startsWith(ISSUER.issuerUri() + "/authorize").contains("code_challenge=",
                "code_challenge_method=S256", "client_id=atelier-console");
        HttpResponse<String> loggedIn = browser.hops.get(2);
        assertThat(loggedIn.uri().getPath()).isEqualTo("/login/oauth2/code/atelier");
        assertThat(loggedIn.headers().firstValue("Location")).contains("/");
        String sessionCookie = loggedIn.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith("SESSION=")).findFirst().orElseThrow();
        assertThat(sessionCookie.toLowerCase(java.util.Locale.ROOT)).contains("httponly", "samesite=lax").doesNotContain("secure"); // plain HTTP here

        JsonNode me = BrowserSession.json(browser.get("/api/v1/users/me"));
        assertThat(me.get("id").asText()).isEqualTo("erin");
        assertThat(me.get("teams")).extracting(JsonNode::asText).containsExactly("blue");

        Map<String, String> key = Map.of("name", "laptop", "publicKey", OidcEngine.ed25519PublicKey());
        HttpResponse<String> noCsrf = browser.send("POST", "/api/v1/users/me/keys", key, null);
        assertThat(noCsrf.statusCode()).isEqualTo(403);
        assertThat(BrowserSession.json(noCsrf).get("detail").asText()).contains("CSRF token", "X-XSRF-TOKEN");
        assertThat(BrowserSession.json(browser.get("/api/v1/users/me/keys")).get("keys")).isEmpty();

        String csrf = browser.cookie("XSRF-TOKEN").orElseThrow();
        HttpResponse<String> added = browser.send("POST", "/api/v1/users/me/keys", key, csrf);
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        assertThat(BrowserSession.json(added).get("fingerprint").asText()).startsWith("SHA256:");
        assertThat(BrowserSession.json(browser.get("/api/v1/users/me/keys")).get("keys")).hasSize(1);

        assertThat(browser.send("POST", "/logout", null, csrf).statusCode()).isEqualTo(302);
        assertThat(browser.get("/api/v1/users/me").statusCode()).isEqualTo(401);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            JsonNode entries = admin.get("/api/v1/audit?resourceId=erin&resourceType=user").json().get("entries");
            assertThat(entries).anySatisfy(e -> {
                assertThat(e.get("action").asText()).isEqualTo("login");
                assertThat(e.at("/tokenId").asText()).startsWith("session:");
            });
            assertThat(entries).anySatisfy(e -> assertThat(e.get("action").asText()).isEqualTo("logout"));
        });
    }

    @Test
    @Order(6)
    void aMemberCannotCreateAWorkspaceInATeamTheyAreNotInAndTeamsAreReal() {
        String templateId = createLocalTemplate("sso-teams", "exec sleep 1000");
        ApiClient bob = bearer(ISSUER.token("bob", Map.of("groups", List.of("team-green"))));
        ApiClient.Response refused = bob.post("/api/v1/workspaces", Map.of("name", "in-blue", "templateId", templateId,
                "team", "blue"));
        assertThat(refused.status()).as(refused.toString()).isEqualTo(403);
        assertThat(refused.json().get("detail").asText()).contains("not a member of the team in 'team'");
        assertThat(bob.get("/api/v1/workspaces").json().get("workspaces")).isEmpty();
        assertThat(admin.get("/api/v1/workspaces?owner=bob").json().get("workspaces")).isEmpty();

        // Owners may pick any team, but it must exist; so must a budget's.
        ApiClient.Response noTeam = admin.post("/api/v1/workspaces", Map.of("name", "nowhere", "templateId", templateId,
                "team", "no-such-team"));
        assertThat(noTeam.status()).as(noTeam.toString()).isEqualTo(400);
        assertThat(admin.get("/api/v1/workspaces?team=no-such-team").json().get("workspaces")).isEmpty();
        ApiClient.Response noBudget = admin.post("/api/v1/budgets", Map.of("scope", "team", "name", "no-such-team",
                "amount", "10", "currency", "EUR", "action", "notify"));
        assertThat(noBudget.status()).as(noBudget.toString()).isEqualTo(400);
        assertThat(admin.get("/api/v1/budgets").body()).doesNotContain("no-such-team");

        // Owners manage the members of their teams; a team synced from the identity provider is the provider's.
        assertThat(admin.post("/api/v1/teams", Map.of("name", "red", "description", "the red team")).status()).isEqualTo(201);
        JsonNode red = admin.exchange("PUT", "/api/v1/teams/red/members", Map.of("members", List.of("bob"))).json();
        assertThat(red.get("members")).extracting(JsonNode::asText).containsExactly("bob");
        assertThat(bob.get("/api/v1/users/me").json().get("teams")).extracting(JsonNode::asText)
                .containsExactly("green", "red");
        assertThat(admin.exchange("PUT", "/api/v1/teams/green/members", Map.of("members", List.of())).status())
                .isEqualTo(409);
        assertThat(admin.exchange("PUT", "/api/v1/teams/red/members", Map.of("members", List.of("nobody"))).status())
                .isEqualTo(400);
        assertThat(team("red").get("members")).extracting(JsonNode::asText).containsExactly("bob");
        assertThat(bob.post("/api/v1/teams", Map.of("name", "mine")).status()).isEqualTo(403);
    }

    @Test
    @Order(7)
    void aSuspendedUserIsRefusedAtOnceTheirSessionAndStreamsEndAndTheirWorkspacesStop() throws Exception {
        String templateId = createLocalTemplate("sso-suspend", "exec sleep 1000");
        ApiClient carol = bearer(ISSUER.token("carol", Map.of("groups", List.of("team-green"))));
        ApiClient.Response issued = carol.post("/api/v1/tokens", Map.of("name", "carol-cli"));
        assertThat(issued.status()).as(issued.toString()).isEqualTo(201);
        ApiClient carolToken = client(issued.json().get("token").asText());
        ISSUER.nextLogin("carol", Map.of("groups", List.of("team-green")));
        BrowserSession browser = new BrowserSession("http://localhost:" + port);
        browser.follow("/oauth2/authorization/atelier");
        assertThat(browser.get("/api/v1/users/me").statusCode()).isEqualTo(200);
        ApiClient.Response created = carol.post("/api/v1/workspaces", Map.of("name", "carol-ws", "templateId", templateId,
                "team", "green"));
        assertThat(created.status()).as(created.toString()).isEqualTo(202);
        String workspace = created.json().get("id").asText();
        admin.awaitStatus(workspace, "RUNNING");
        AtomicBoolean stream = openStream(carol);

        assertThat(admin.post("/api/v1/users/carol/suspend", null).json().get("suspended").asBoolean()).isTrue();
        awaitEnded(stream);
        for (ApiClient.Response refused : List.of(carol.get("/api/v1/users/me"), carolToken.get("/api/v1/users/me"),
                bearer(ISSUER.token("carol", Map.of())).get("/api/v1/users/me"))) {
            assertThat(refused.status()).as(refused.toString()).isEqualTo(401);
            assertThat(refused.json().get("detail").asText()).contains("carol is suspended");
        }
        HttpResponse<String> session = browser.get("/api/v1/users/me");
        assertThat(session.statusCode()).isEqualTo(401);
        assertThat(BrowserSession.json(session).get("detail").asText()).contains("carol is suspended");
        JsonNode stopped = admin.awaitStatus(workspace, "STOPPED");
        assertThat(stopped.at("/lastTransition/reason").asText()).isEqualTo("SYSTEM");
        assertThat(admin.post("/api/v1/users/carol/suspend", null).status()).isEqualTo(409);

        assertThat(admin.post("/api/v1/users/carol/activate", null).json().get("suspended").asBoolean()).isFalse();
        assertThat(carol.get("/api/v1/users/me").status()).isEqualTo(200);
        assertThat(carolToken.get("/api/v1/users/me").status()).isEqualTo(200);
        assertThat(browser.get("/api/v1/users/me").statusCode()).isEqualTo(401); // that session is gone: log in again
        assertThat(admin.post("/api/v1/users/admin/suspend", null).status()).isEqualTo(409);
        admin.delete("/api/v1/workspaces/" + workspace);
    }

    @Test
    @Order(8)
    void tokensExpireCarryNoMoreRolesThanTheirCreatorAndCanBeReviewedAndRevoked() throws Exception {
        ApiClient dan = bearer(ISSUER.token("dan", Map.of()));
        ApiClient.Response ci = dan.post("/api/v1/tokens", Map.of("name", "ci", "expiresIn", "PT2H"));
        assertThat(ci.status()).as(ci.toString()).isEqualTo(201);
        assertThat(ci.json().get("roles")).extracting(JsonNode::asText).containsExactly("member");
        assertThat(Instant.parse(ci.json().get("expiresAt").asText()))
                .isBetween(Instant.now().plusSeconds(7000), Instant.now().plusSeconds(7300));
        String ciId = ci.json().get("id").asText();
        ApiClient ciClient = client(ci.json().get("token").asText());

        ApiClient.Response greedy = dan.post("/api/v1/tokens", Map.of("name", "greedy", "roles", List.of("owner")));
        assertThat(greedy.status()).isEqualTo(403);
        assertThat(greedy.json().get("detail").asText()).contains("more roles than its creator");
        assertThat(dan.post("/api/v1/tokens", Map.of("name", "forever", "expiresIn", "P1000D")).status()).isEqualTo(400);
        assertThat(ciClient.post("/api/v1/tokens", Map.of("name", "child", "expiresIn", "P1D")).json()
                .get("detail").asText()).contains("cannot outlive");

        assertThat(ciClient.get("/api/v1/users/me").json().get("id").asText()).isEqualTo("dan");
        JsonNode own = dan.get("/api/v1/tokens").json().get("tokens");
        assertThat(own).extracting(t -> t.get("name").asText()).containsExactly("ci");
        assertThat(own.get(0).has("token")).isFalse();
        assertThat(own.get(0).get("lastUsedAt").isNull()).isFalse();
        assertThat(own.get(0).get("createdAt").isNull()).isFalse();
        assertThat(dan.get("/api/v1/tokens?subject=ada").status()).isEqualTo(403);
        JsonNode all = admin.get("/api/v1/tokens").json().get("tokens");
        assertThat(all).anySatisfy(t -> assertThat(t.get("id").asText()).isEqualTo(ciId));
        assertThat(all).anySatisfy(t -> assertThat(t.get("kind").asText()).isEqualTo("bootstrap"));

        ApiClient shortLived = client(dan.post("/api/v1/tokens", Map.of("name", "short", "expiresIn", "PT3S"))
                .json().get("token").asText());
        AtomicBoolean shortStream = openStream(shortLived);
        awaitEnded(shortStream); // at the token's expiry
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> shortLived.get("/api/v1/users/me").status() == 401);
        assertThat(shortLived.get("/api/v1/users/me").json().get("detail").asText()).contains("expired at");

        ApiClient.Response scoped = dan.post("/api/v1/tokens", Map.of("name", "agent", "scope", Map.of("agentWorkspaces", true)));
        assertThat(scoped.status()).as(scoped.toString()).isEqualTo(201);
        assertThat(Instant.parse(scoped.json().get("expiresAt").asText())).isBefore(Instant.now().plusSeconds(3700));
        ApiClient agent = client(scoped.json().get("token").asText());
        assertThat(agent.post("/api/v1/workspaces", Map.of("name", "human", "templateId", "x", "kind", "HUMAN")).status())
                .isEqualTo(403);
        assertThat(agent.get("/api/v1/idle").status()).isEqualTo(403);
        assertThat(agent.get("/api/v1/workspaces").status()).isEqualTo(200);
        assertThat(agent.post("/api/v1/tokens", Map.of("name", "more")).status()).isEqualTo(403);
        assertThat(dan.post("/api/v1/tokens", Map.of("name", "w", "scope", Map.of("workspaces",
                List.of("00000000-0000-0000-0000-000000000000")))).status()).isEqualTo(400);

        AtomicBoolean ciStream = openStream(ciClient);
        assertThat(dan.delete("/api/v1/tokens/" + ciId).status()).isEqualTo(204);
        awaitEnded(ciStream);
        assertThat(ciClient.get("/api/v1/users/me").status()).isEqualTo(401);
        assertThat(dan.delete("/api/v1/tokens/" + ciId).status()).isEqualTo(404);
        assertThat(dan.delete("/api/v1/tokens/bootstrap").status()).isEqualTo(404);
        // Revoked on another node (straight in the shared database): the streams end at the next look.
        ApiClient.Response other = dan.post("/api/v1/tokens", Map.of("name", "elsewhere"));
        AtomicBoolean otherStream = openStream(client(other.json().get("token").asText()));
        jdbc.update("UPDATE api_token SET revoked_at = now() WHERE id = ?::uuid", other.json().get("id").asText());
        awaitEnded(otherStream);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(admin.get(
                "/api/v1/audit?action=revoke&resourceId=" + ciId).json().at("/entries/0/tokenId").asText())
                .startsWith("jwt:"));
    }

    @Test
    @Order(100)
    void theBootstrapTokenCanBeRotatedAndRetiredOnceAnSsoOwnerExists() {
        ApiClient olga = bearer(ISSUER.token("olga", Map.of("groups", List.of("platform-admins"))));
        ApiClient.Response rotated = olga.post("/api/v1/tokens/bootstrap/rotate", null);
        assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
        ApiClient newAdmin = client(rotated.json().get("token").asText());
        assertThat(newAdmin.get("/api/v1/users/me").json().get("roles")).extracting(JsonNode::asText).containsExactly("owner");
        assertThat(admin.get("/api/v1/users/me").status()).isEqualTo(401);

        assertThat(olga.delete("/api/v1/tokens/bootstrap").status()).isEqualTo(204);
        assertThat(newAdmin.get("/api/v1/users/me").status()).isEqualTo(401);
        assertThat(olga.get("/api/v1/tokens").json().get("tokens")).noneSatisfy(t ->
                assertThat(t.get("kind").asText()).isEqualTo("bootstrap"));
    }

    /** Opens a live stream; the returned flag turns true when the server ends it. */
    private static AtomicBoolean openStream(ApiClient client) throws InterruptedException {
        AtomicBoolean ended = new AtomicBoolean();
        CountDownLatch subscribed = new CountDownLatch(1);
        client.watch("/api/v1/workspaces/watch", subscribed).doFinally(signal -> ended.set(true)).subscribe(e -> {
        }, e -> {
        });
        assertThat(subscribed.await(15, TimeUnit.SECONDS)).as("stream open").isTrue();
        assertThat(ended).isFalse();
        return ended;
    }

    private static void awaitEnded(AtomicBoolean ended) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).untilTrue(ended);
    }

    private void assertRefused(String token, String reason) {
        ApiClient.Response refused = bearer(token).get("/api/v1/users/me");
        assertThat(refused.status()).as(refused.toString()).isEqualTo(401);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.json().get("detail").asText()).contains(reason);
        assertThat(refused.header("WWW-Authenticate")).startsWith("Bearer ").contains("error=\"invalid_token\"", reason);
    }

    private JsonNode user(String id) {
        for (JsonNode user : admin.get("/api/v1/users?limit=500").json().get("users")) {
            if (user.get("id").asText().equals(id)) {
                return user;
            }
        }
        throw new AssertionError("no user " + id);
    }

    private JsonNode team(String name) {
        for (JsonNode team : admin.get("/api/v1/teams").json().get("teams")) {
            if (team.get("name").asText().equals(name)) {
                return team;
            }
        }
        throw new AssertionError("no team " + name);
    }
}
