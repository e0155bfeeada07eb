package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.DeviceAuthorizationServer;
import dev.atelier.support.DeviceAuthorizationServerProcess;
import dev.atelier.support.EngineIntegrationTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code atelier login} as a new user does it, end to end against a real authorization server with the device
 * authorization grant (Spring Authorization Server, {@link DeviceAuthorizationServer}, in a JVM of its own): the CLI
 * asks the engine where to sign in, prints the verification URI with the user code, the user signs in at the server in
 * a "browser" (java.net.http with cookies: the form login with its CSRF token, then the consent page) and approves or
 * declines; the CLI stores the token, and the engine accepts it for {@code atelier templates} and {@code atelier ls} as
 * the user the token names. The same flow against a fake provider, with its edge cases, is DeviceLoginTest.
 *
 * <p>Its issuer makes this engine's Spring context its own; it is closed after the class, so that its connection pool
 * does not stay open beside the other cached contexts on the one test PostgreSQL (NodeCrashIT, which runs next,
 * found the server's connection slots used up).
 */
@org.springframework.test.annotation.DirtiesContext
class DeviceLoginAuthorizationServerIT extends EngineIntegrationTest {

    private static final Pattern HIDDEN = Pattern.compile("<input type=\"hidden\" name=\"([a-z_]+)\" value=\"([^\"]*)\"");
    private static final Pattern SCOPE = Pattern.compile("name=\"scope\" value=\"([a-z]+)\"");
    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" type=\"hidden\" value=\"([^\"]+)\"");
    private static final Pattern OPEN = Pattern.compile("To sign in, open (\\S+)");

    private static DeviceAuthorizationServerProcess authorizationServer;

    @TempDir
    Path home;

    private static synchronized DeviceAuthorizationServerProcess authorizationServer() {
        if (authorizationServer == null) {
            try {
                authorizationServer = DeviceAuthorizationServerProcess.start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the authorization server", e);
            }
        }
        return authorizationServer;
    }

    /** Single sign-on as an operator sets it for CLIs only: the issuer and its public client for the device grant. */
    @DynamicPropertySource
    static void singleSignOn(DynamicPropertyRegistry registry) {
        registry.add("atelier.oidc.issuer-uri", () -> authorizationServer().issuerUri());
        registry.add("atelier.oidc.cli-client-id", () -> DeviceAuthorizationServer.CLI_CLIENT);
    }

    @AfterAll
    static void stopAuthorizationServer() {
        if (authorizationServer != null) {
            authorizationServer.close();
            authorizationServer = null;
        }
    }

    private String url() {
        return "http://localhost:" + port;
    }

    @Test
    void aNewUserSignsInWithTheDeviceCodeApprovesInTheBrowserAndTheEngineAcceptsTheStoredToken() throws Exception {
        createLocalTemplate("sas-greeter", "exec sleep 1000");
        CliRun ada = new CliRun(home);

        CliRun.Running login = ada.start("login", "--url", url());
        String verification = printedVerificationUri(login);
        String issuer = authorizationServer().issuerUri();
        assertThat(verification).startsWith(issuer + "/oauth2/device_verification?user_code=");
        String userCode = verification.substring(verification.indexOf("user_code=") + "user_code=".length());
        assertThat(userCode).matches("[A-Z]{4}-[A-Z]{4}");

        Browser browser = new Browser();
        Map<String, String> consent = browser.signInAndOpenConsent(verification, DeviceAuthorizationServer.USER,
                DeviceAuthorizationServer.PASSWORD);
        assertThat(consent).containsEntry("user_code", userCode).containsEntry("client_id",
                DeviceAuthorizationServer.CLI_CLIENT);
        assertThat(browser.scopesOffered).containsExactlyInAnyOrder("profile", "email");
        HttpResponse<String> approved = browser.submitConsent(consent, browser.scopesOffered);
        assertThat(approved.uri().getQuery()).as(approved.uri() + "\n" + approved.body()).isEqualTo("success");

        CliRun.Result signedIn = login.result().get(60, TimeUnit.SECONDS);
        assertThat(signedIn.exitCode()).as(signedIn + "\n" + authorizationServer().logTail()).isZero();
        assertThat(signedIn.out()).isEqualTo("Signed in to " + url() + " as " + DeviceAuthorizationServer.USER
                + " (roles: member, " + DeviceAuthorizationServer.USER_ROLE + ")\n");
        assertThat(signedIn.err()).contains("To sign in, open " + verification);

        // The stored token: the server's JWT for ada, readable by nobody else, accepted by the engine as her.
        Path credentials = home.resolve(".config/atelier/credentials");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials))).isEqualTo("rw-------");
        JsonNode saved = EngineClient.JSON.readTree(credentials.toFile());
        assertThat(saved.path("kind").asText()).isEqualTo("oidc");
        assertThat(saved.path("url").asText()).isEqualTo(url());
        String token = saved.path("token").asText();
        JsonNode claims = EngineClient.JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
        assertThat(claims.path("iss").asText()).isEqualTo(issuer);
        assertThat(claims.path("sub").asText()).isEqualTo(DeviceAuthorizationServer.USER);
        assertThat(claims.path("aud").toString()).contains("\"atelier\"");
        JsonNode me = client(token).get("/api/v1/users/me").json();
        assertThat(me.path("id").asText()).isEqualTo(DeviceAuthorizationServer.USER);
        assertThat(me.path("name").asText()).isEqualTo(DeviceAuthorizationServer.USER_NAME);
        assertThat(me.path("email").asText()).isEqualTo(DeviceAuthorizationServer.USER_EMAIL);
        assertThat(me.path("authentication").asText()).isEqualTo("USER");

        CliRun.Result templates = ada.run("templates");
        assertThat(templates.exitCode()).as(templates.toString()).isZero();
        assertThat(templates.out()).startsWith("NAME").contains("sas-greeter");
        CliRun.Result listed = ada.run("ls", "--json");
        assertThat(listed.exitCode()).as(listed.toString()).isZero();
        assertThat(EngineClient.JSON.readTree(listed.out()).path("workspaces").isArray()).isTrue();

        // The engine knows her as the token said, from her first call on.
        ApiClient.Response users = admin.get("/api/v1/users?limit=500");
        assertThat(users.status()).isEqualTo(200);
        JsonNode user = null;
        for (JsonNode candidate : users.json().path("users")) {
            if (DeviceAuthorizationServer.USER.equals(candidate.path("id").asText())) {
                user = candidate;
            }
        }
        assertThat(user).as(users.toString()).isNotNull();
        assertThat(user.path("name").asText()).isEqualTo(DeviceAuthorizationServer.USER_NAME);
        assertThat(user.path("email").asText()).isEqualTo(DeviceAuthorizationServer.USER_EMAIL);
    }

    @Test
    void aUserWhoDeclinesInTheBrowserIsNotSignedInAndNothingIsStored() throws Exception {
        CliRun grace = new CliRun(home);

        CliRun.Running login = grace.start("login", "--url", url());
        String verification = printedVerificationUri(login);
        Browser browser = new Browser();
        Map<String, String> consent = browser.signInAndOpenConsent(verification, DeviceAuthorizationServer.OTHER_USER,
                DeviceAuthorizationServer.OTHER_PASSWORD);
        // Cancel on the consent page: the form is sent without any scope.
        browser.submitConsent(consent, List.of());

        CliRun.Result declined = login.result().get(60, TimeUnit.SECONDS);
        assertThat(declined.exitCode()).as(declined.toString()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(declined.err()).contains("error: the sign-in was denied");
        assertThat(declined.out()).isEmpty();
        assertThat(home.resolve(".config/atelier/credentials")).doesNotExist();
        ApiClient.Response users = admin.get("/api/v1/users?limit=500");
        assertThat(users.status()).isEqualTo(200);
        assertThat(users.json().path("users").findValuesAsText("id")).doesNotContain(DeviceAuthorizationServer.OTHER_USER);

        CliRun.Result listed = grace.run("ls");
        assertThat(listed.exitCode()).as(listed.toString()).isEqualTo(ExitCodes.UNAUTHENTICATED);
    }

    private static String printedVerificationUri(CliRun.Running login) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> login.result().isDone() || OPEN.matcher(login.errSoFar()).find());
        assertThat(OPEN.matcher(login.errSoFar()).find()).as("the CLI ended before printing where to sign in: %s",
                login.result().getNow(null)).isTrue();
        Matcher open = OPEN.matcher(login.errSoFar());
        assertThat(open.find()).isTrue();
        return open.group(1);
    }

    /** What the user's browser does at the authorization server: cookies, redirects, forms. */
    private static final class Browser {
        private final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(5)).build();
        private final List<String> scopesOffered = new ArrayList<>();

        /** Opens the verification URI, is sent to the login form, signs in and lands on the consent page. */
        Map<String, String> signInAndOpenConsent(String verification, String user, String password) throws Exception {
            HttpResponse<String> loginPage = get(URI.create(verification));
            assertThat(loginPage.uri().getPath()).as(loginPage.body()).isEqualTo("/login");
            Matcher csrf = CSRF.matcher(loginPage.body());
            assertThat(csrf.find()).as(loginPage.body()).isTrue();
            HttpResponse<String> consentPage = post(loginPage.uri(), List.of(Map.entry("username", user),
                    Map.entry("password", password), Map.entry("_csrf", csrf.group(1))));
            assertThat(consentPage.statusCode()).as(consentPage.body()).isEqualTo(200);
            assertThat(consentPage.uri().getPath()).isEqualTo("/oauth2/device_verification");
            assertThat(consentPage.body()).contains("consent_form");
            Map<String, String> hidden = new LinkedHashMap<>();
            Matcher field = HIDDEN.matcher(consentPage.body());
            while (field.find()) {
                hidden.put(field.group(1), field.group(2));
            }
            Matcher scope = SCOPE.matcher(consentPage.body());
            while (scope.find()) {
                scopesOffered.add(scope.group(1));
            }
            hidden.put("_action", consentPage.uri().toString());
            return hidden;
        }

        HttpResponse<String> submitConsent(Map<String, String> consent, List<String> scopes) throws Exception {
            List<Map.Entry<String, String>> form = new ArrayList<>();
            consent.forEach((name, value) -> {
                if (!name.equals("_action")) {
                    form.add(Map.entry(name, value));
                }
            });
            scopes.forEach(s -> form.add(Map.entry("scope", s)));
            URI action = URI.create(consent.get("_action"));
            return post(URI.create(action.getScheme() + "://" + action.getAuthority() + action.getPath()), form);
        }

        private HttpResponse<String> get(URI uri) throws Exception {
            return http.send(HttpRequest.newBuilder(uri).header("Accept", "text/html").timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
        }

        private HttpResponse<String> post(URI uri, List<Map.Entry<String, String>> form) throws Exception {
            StringBuilder body = new StringBuilder();
            for (Map.Entry<String, String> field : form) {
                body.append(body.isEmpty() ? "" : "&").append(URLEncoder.encode(field.getKey(), StandardCharsets.UTF_8))
                        .append('=').append(URLEncoder.encode(field.getValue(), StandardCharsets.UTF_8));
            }
            return http.send(HttpRequest.newBuilder(uri).header("Accept", "text/html")
                    .header("Content-Type", "application/x-www-form-urlencoded").timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
