package dev.atelier.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.security.OidcEngine;
import dev.atelier.support.ApiClient;
import dev.atelier.support.ConsoleBrowser;
import dev.atelier.support.EngineIntegrationTest;
import dev.atelier.support.OidcIssuer;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console with single sign-on, in a real browser against the real engine and a real OIDC issuer in the test
 * JVM (no.nav mock-oauth2-server, whose login answers at once with the user the test queued): the console offers the
 * provider's button, the code flow with PKCE leaves a session cookie that the page cannot read and no token anywhere,
 * writes carry the CSRF token, and sign-out ends the session at the engine. The owner who signed in uses the operator
 * pages: API tokens (issue, the secret once, last use, revoke), users (suspend, activate) and dead letters (a
 * workspace that a test-only poison handler refuses: retry while it still fails, retry after the fix, evict).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Import(ConsoleSsoBrowserIT.PoisonHandler.class)
@TestPropertySource(properties = "atelier.dead-letters.attempts=1")
class ConsoleSsoBrowserIT extends EngineIntegrationTest {

    static final OidcIssuer ISSUER = new OidcIssuer();

    /** The workspace name the test's handler in the {@code workspaces} processing group fails for, or null. */
    static volatile String poison;

    @DynamicPropertySource
    static void singleSignOn(DynamicPropertyRegistry registry) {
        OidcEngine.properties(ISSUER).forEach((k, v) -> registry.add(k, () -> v));
        registry.add("atelier.oidc.provider-name", () -> "Acme SSO");
    }

    private ConsoleBrowser browser;

    @BeforeAll
    void startBrowser() {
        browser = new ConsoleBrowser("http://localhost:" + port);
    }

    @AfterAll
    void closeBrowserAndIssuer() {
        poison = null;
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            ISSUER.close();
        }
    }

    @AfterEach
    void noErrorsInTheBrowserConsole() {
        assertThat(browser.consoleErrors()).as("errors in the browser console").isEmpty();
        assertThat(browser.accessibilityFindings()).as("axe-core (WCAG 2.1 A and AA) on the pages shown").isEmpty();
    }

    @Test
    @Order(1)
    void theOwnerSignsInWithTheProviderAndTheSessionCookieIsAllTheConsoleHolds() {
        browser.open("");
        WebElement button = browser.waitFor(By.id("sign-in-sso"));
        assertThat(button.getText()).isEqualTo("Sign in with Acme SSO");
        assertThat(browser.driver().findElement(By.id("token")).isDisplayed()).as("token paste stays").isTrue();
        browser.screenshot("09-login-sso");

        ISSUER.nextLogin("ada", Map.of("name", "Ada Lovelace", "email", "ada@example.com",
                "groups", List.of("platform-admins", "team-blue")));
        button.click();
        browser.waitFor(By.cssSelector("header.top nav"));

        WebElement user = browser.driver().findElement(By.cssSelector(".who .user"));
        assertThat(user.getText()).contains("Ada Lovelace", "owner");
        assertThat(user.getAttribute("data-signed-in")).isEqualTo("session");
        assertThat(browser.navigation()).containsExactly("workspaces", "templates", "audit", "costs", "idle",
                "dead-letters", "users", "tokens");
        browser.until(d -> d.getCurrentUrl().endsWith("/#/workspaces") ? true : null);
        browser.waitFor(By.cssSelector("[data-live='live']"));             // the live stream works with the cookie
        // No token in the tab or the address; the session cookie is HttpOnly, only the CSRF token is readable.
        assertThat(browser.script("return sessionStorage.getItem('atelier.token')")).isNull();
        assertThat((String) browser.script("return document.cookie")).contains("XSRF-TOKEN=").doesNotContain("SESSION");
        assertThat(browser.driver().getCurrentUrl()).doesNotContain("code=", "state=");

        // A write with the cookie alone is refused: the console's writes below work because they carry the CSRF token.
        Object refused = browser.script("""
                return fetch('/api/v1/tokens', {method: 'POST', headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({name: 'forged'})}).then(r => r.status)""");
        assertThat(refused).isEqualTo(403L);
        assertThat(browser.consoleErrors("/api/v1/tokens")).isEmpty();
        assertThat(admin.get("/api/v1/tokens?subject=ada").json().get("tokens")).isEmpty();

        // A reload keeps the session.
        browser.driver().navigate().refresh();
        browser.waitForText(By.cssSelector(".who .user"), text -> text.contains("Ada Lovelace"));
    }

    @Test
    @Order(2)
    void sheIssuesATokenSeesTheSecretOnceAndItsLastUseThenRevokesIt() {
        browser.driver().findElement(By.cssSelector("nav a[data-page='tokens']")).click();
        browser.waitFor(By.cssSelector("table.tokens tbody tr[data-id]"));       // the bootstrap token at least
        browser.driver().findElement(By.id("t-name")).sendKeys("ada-laptop");
        new org.openqa.selenium.support.ui.Select(browser.driver().findElement(By.id("t-expires"))).selectByValue("P7D");
        browser.driver().findElement(By.xpath("//button[normalize-space()='Issue token']")).click();

        String secret = browser.waitFor(By.id("issued-token")).getText();
        assertThat(secret).isNotBlank();
        By row = By.cssSelector("table.tokens tr[data-name='ada-laptop']");
        WebElement listed = browser.waitFor(row);
        assertThat(listed.getText()).contains("ada").doesNotContain(secret);
        assertThat(listed.findElement(By.cssSelector("[data-created] time")).getAttribute("datetime")).isNotBlank();
        assertThat(listed.findElement(By.cssSelector("[data-last-used]")).getText()).isEqualTo("never");
        JsonNode token = StreamSupport.stream(admin.get("/api/v1/tokens?subject=ada").json().get("tokens").spliterator(), false)
                .filter(t -> t.get("name").asText().equals("ada-laptop")).findFirst().orElseThrow();
        assertThat(java.time.Instant.parse(token.get("expiresAt").asText()))
                .isAfter(java.time.Instant.now().plus(Duration.ofDays(6))).isBefore(java.time.Instant.now().plus(Duration.ofDays(8)));
        assertThat(token.get("roles")).extracting(JsonNode::asText).containsExactly("member");
        browser.screenshot("10-tokens");

        // Used once, it says so after a refresh; "Done" hides the secret for good.
        ApiClient laptop = client(secret);
        assertThat(laptop.get("/api/v1/users/me").json().get("id").asText()).isEqualTo("ada");
        browser.driver().findElement(By.xpath("//button[normalize-space()='Done']")).click();
        assertThat(browser.driver().findElements(By.id("issued-token"))).isEmpty();
        browser.driver().findElement(By.xpath("//button[normalize-space()='Refresh']")).click();
        browser.until(d -> d.findElement(row).findElement(By.cssSelector("[data-last-used]"))
                .findElements(By.tagName("time")).isEmpty() ? null : true);

        // Revoking asks first; cancelled, nothing happens.
        By revoke = By.cssSelector("button[aria-label='Revoke ada-laptop']");
        browser.driver().findElement(revoke).click();
        browser.waitFor(By.cssSelector("dialog.confirm")).findElement(By.xpath(".//button[normalize-space()='Cancel']")).click();
        assertThat(laptop.get("/api/v1/users/me").status()).isEqualTo(200);
        browser.driver().findElement(revoke).click();
        browser.waitFor(By.cssSelector("dialog.confirm [data-confirm]")).click();
        browser.waitForText(By.cssSelector(".messages .notice"), "ada-laptop revoked."::equals);
        browser.until(d -> d.findElements(row).isEmpty() ? true : null);
        assertThat(laptop.get("/api/v1/users/me").status()).isEqualTo(401);
    }

    @Test
    @Order(3)
    void sheSuspendsAUserAfterConfirmingAndActivatesThemAgain() {
        assertThat(admin.post("/api/v1/users", Map.of("id", "sam", "name", "Sam Sung", "email", "sam@example.com"))
                .status()).isEqualTo(201);
        ApiClient sam = clientFor("sam", "member");
        browser.driver().findElement(By.cssSelector("nav a[data-page='users']")).click();
        By row = By.cssSelector("table.users tr[data-id='sam']");
        browser.waitFor(row);
        assertThat(browser.driver().findElement(row).getAttribute("data-state")).isEqualTo("active");
        // Her own row offers no suspension (the engine refuses it anyway).
        assertThat(browser.driver().findElement(By.cssSelector("table.users tr[data-id='ada']")).getText()).contains("you");
        assertThat(browser.driver().findElements(By.cssSelector("button[aria-label='Suspend ada']"))).isEmpty();

        browser.driver().findElement(By.cssSelector("button[aria-label='Suspend sam']")).click();
        WebElement dialog = browser.waitFor(By.cssSelector("dialog.confirm"));
        assertThat(dialog.getText()).contains("Suspend Sam Sung?", "workspaces are stopped");
        dialog.findElement(By.cssSelector("[data-confirm]")).click();
        browser.until(d -> "suspended".equals(d.findElement(row).getAttribute("data-state")) ? true : null);
        assertThat(browser.driver().findElement(row).getText()).contains("suspended");
        assertThat(sam.get("/api/v1/users/me").status()).isEqualTo(401);
        browser.screenshot("11-users");

        browser.driver().findElement(By.cssSelector("button[aria-label='Activate sam']")).click();
        browser.until(d -> "active".equals(d.findElement(row).getAttribute("data-state")) ? true : null);
        assertThat(sam.get("/api/v1/users/me").status()).isEqualTo(200);
    }

    @Test
    @Order(4)
    void deadLettersAreRetriedAfterTheFixAndEvictedAfterConfirming() {
        browser.driver().findElement(By.cssSelector("nav a[data-page='dead-letters']")).click();
        browser.waitForText(By.cssSelector("table.dead-letters td.empty"), text -> text.startsWith("No dead letters"));

        String template = createLocalTemplate("poisoned", "exec sleep 300");
        poison = "poisoned-one";
        String one = admin.post("/api/v1/workspaces", Map.of("name", "poisoned-one", "templateId", template))
                .json().get("id").asText();
        await().atMost(Duration.ofSeconds(60)).until(() -> !letters(one).isEmpty());

        browser.driver().findElement(By.xpath("//button[normalize-space()='Refresh']")).click();
        By firstRow = By.cssSelector("table.dead-letters tbody tr[data-group='workspaces']");
        WebElement letter = browser.waitFor(firstRow);
        assertThat(letter.getText()).contains("WorkspaceCreatedEvent", "test poison: workspace poisoned-one");
        assertThat(browser.driver().findElement(By.cssSelector(".counts [data-group='workspaces']")).getAttribute("data-count"))
                .isNotEqualTo("0");
        browser.screenshot("12-dead-letters");

        // Still poisoned: the retry says it failed and the letter stays.
        letter.findElement(By.xpath(".//button[normalize-space()='Retry']")).click();
        browser.waitForText(By.cssSelector(".messages .notice"), text -> text.startsWith("Still failing: test poison"));
        assertThat(letters(one)).isNotEmpty();

        // Fixed: the retry goes through and the workspace reaches its read model.
        poison = null;
        browser.driver().findElement(firstRow).findElement(By.xpath(".//button[normalize-space()='Retry']")).click();
        browser.waitForText(By.cssSelector(".messages .notice"), text -> text.startsWith("Handled"));
        browser.until(d -> d.findElements(By.cssSelector("table.dead-letters tbody tr[data-group]")).isEmpty() ? true : null);
        assertThat(letters(one)).isEmpty();
        assertThat(admin.get("/api/v1/workspaces/" + one).status()).isEqualTo(200);

        // Evicting asks first, and the letter is gone for good.
        poison = "poisoned-two";
        String two = admin.post("/api/v1/workspaces", Map.of("name", "poisoned-two", "templateId", template))
                .json().get("id").asText();
        await().atMost(Duration.ofSeconds(60)).until(() -> !letters(two).isEmpty());
        String id = letters(two).get(0).get("id").asText();
        browser.driver().findElement(By.xpath("//button[normalize-space()='Refresh']")).click();
        browser.waitFor(By.cssSelector("button[aria-label='Evict " + id + "']")).click();
        WebElement dialog = browser.waitFor(By.cssSelector("dialog.confirm"));
        assertThat(dialog.getText()).contains("Evict this dead letter?", "workspaces");
        dialog.findElement(By.cssSelector("[data-confirm]")).click();
        browser.waitForText(By.cssSelector(".messages .notice"), "Evicted."::equals);
        browser.until(d -> d.findElements(By.cssSelector("table.dead-letters tr[data-id='" + id + "']")).isEmpty() ? true : null);
        assertThat(letters(two)).noneSatisfy(l -> assertThat(l.get("id").asText()).isEqualTo(id));
        poison = null;
        admin.delete("/api/v1/workspaces/" + one + "?force=true");
        admin.delete("/api/v1/workspaces/" + two + "?force=true");
    }

    @Test
    @Order(5)
    void signingOutEndsTheSessionAtTheEngine() {
        browser.driver().findElement(By.xpath("//button[normalize-space()='Sign out']")).click();
        browser.until(d -> d.findElement(By.id("sign-in-sso")).isEnabled() ? true : null);
        Object status = browser.script("return fetch('/api/v1/users/me').then(r => r.status)");
        assertThat(status).isEqualTo(401L);
        assertThat(browser.consoleErrors("/api/v1/users/me")).isEmpty();
        // A reload stays on the sign-in page without asking the engine who is there.
        browser.driver().navigate().refresh();
        browser.waitFor(By.id("sign-in-sso"));
        assertThat(browser.driver().findElements(By.cssSelector("header.top"))).isEmpty();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(admin
                .get("/api/v1/audit?action=logout&resourceId=ada").json().get("entries")).isNotEmpty());
    }

    @Test
    @Order(6)
    void aMemberSignedInThroughTheProviderSeesOnlyHisPagesAndIsSignedOutWhenSuspended() {
        ISSUER.nextLogin("bob", Map.of("name", "Bob Builder", "groups", List.of("team-green")));
        browser.waitFor(By.id("sign-in-sso")).click();
        browser.waitFor(By.cssSelector("header.top nav"));
        assertThat(browser.driver().findElement(By.cssSelector(".who .user")).getText()).contains("Bob Builder", "member");
        assertThat(browser.navigation()).containsExactly("workspaces");
        for (String page : List.of("users", "tokens", "dead-letters")) {
            browser.open("#/" + page);
            browser.waitForText(By.cssSelector("main h1"), "Not available"::equals);
        }

        // Suspended while the console is open: the engine ends his stream and session, the console says why.
        browser.open("#/workspaces");
        browser.waitFor(By.cssSelector("[data-live='live']"));
        assertThat(admin.post("/api/v1/users/bob/suspend", null).status()).isEqualTo(200);
        browser.waitForText(By.cssSelector(".login-card .error"), text -> text.contains("user bob is suspended"));
        assertThat(browser.consoleErrors("/api/v1/")).as("only the refused calls of the ended session").isEmpty();
        assertThat(browser.driver().findElements(By.cssSelector("header.top"))).isEmpty();
        assertThat(admin.post("/api/v1/users/bob/activate", null).status()).isEqualTo(200);
    }

    @Test
    @Order(7)
    void aSuspendedUsersSignInIsRefusedWithTheReason() {
        assertThat(admin.post("/api/v1/users/sam/suspend", null).status()).isEqualTo(200);
        ISSUER.nextLogin("sam", Map.of("name", "Sam Sung"));
        browser.open("");
        browser.waitFor(By.id("sign-in-sso")).click();
        browser.waitForText(By.cssSelector(".login-card .error"), text -> text.contains("suspended"));
        assertThat(browser.driver().getCurrentUrl()).doesNotContain("login=");
        assertThat(browser.driver().findElements(By.cssSelector("header.top"))).isEmpty();
        browser.screenshot("13-login-refused");
    }

    private List<JsonNode> letters(String aggregateId) {
        JsonNode listing = admin.get("/api/v1/dead-letters?group=workspaces").json().get("deadLetters");
        return StreamSupport.stream(listing.spliterator(), false)
                .filter(l -> aggregateId.equals(l.path("aggregateId").asText())).toList();
    }

    @TestConfiguration
    static class PoisonHandler {
        @Bean
        PoisonedWorkspaces poisonedWorkspaces() {
            return new PoisonedWorkspaces();
        }
    }

    /** Fails in the {@code workspaces} processing group for the workspace named {@link #poison} while it is set. */
    @ProcessingGroup("workspaces")
    static class PoisonedWorkspaces {
        @EventHandler
        void on(WorkspaceCreatedEvent event) {
            if (event.name().equals(poison)) {
                throw new IllegalStateException("test poison: workspace " + event.name());
            }
        }
    }
}
