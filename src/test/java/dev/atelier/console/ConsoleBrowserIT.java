package dev.atelier.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.support.ApiClient;
import dev.atelier.support.ConsoleBrowser;
import dev.atelier.support.EngineIntegrationTest;
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
import org.openqa.selenium.WindowType;
import org.openqa.selenium.support.ui.Select;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console in a real browser (Debian's chromium, headless, through Selenium) against the real engine: the
 * flows of the people it is for, one after the other in one browser and one engine. Every test also checks that the
 * browser's console shows no error, and saves screenshots of the pages to target/screenshots/ (docs/console.md shows
 * the best of them).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserIT extends EngineIntegrationTest {

    private final String suffix = UUID.randomUUID().toString().substring(0, 6);
    private final String workspaceName = "console-" + suffix;
    private ConsoleBrowser browser;
    private String templateId;
    private String workspaceId;
    private String memberToken;

    @BeforeAll
    void startBrowser() {
        browser = new ConsoleBrowser("http://localhost:" + port);
    }

    @AfterAll
    void closeBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @AfterEach
    void noErrorsInTheBrowserConsole() {
        assertThat(browser.consoleErrors()).as("errors in the browser console").isEmpty();
        assertThat(browser.accessibilityFindings()).as("axe-core (WCAG 2.1 A and AA) on the pages shown").isEmpty();
    }

    @Test
    @Order(0)
    void theConsoleIsPublicWithAStrictContentSecurityPolicyAndTheApiStillNeedsAToken() {
        ApiClient anonymous = client(null);
        ApiClient.Response page = anonymous.get("/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<atelier-console>", "type=\"importmap\"");
        for (String asset : List.of("/console/app.js", "/console/console.css", "/webjars/lit/index.js",
                "/webjars/chart.js/dist/chart.js", "/vendor/fetch-event-source/index.js")) {
            assertThat(anonymous.get(asset).status()).as(asset).isEqualTo(200);
        }
        assertThat(anonymous.get("/api/v1/workspaces").status()).isEqualTo(401);
        assertThat(anonymous.get("/api/v1/users/me").status()).isEqualTo(401);
        String policy = org.springframework.web.reactive.function.client.WebClient.create("http://localhost:" + port)
                .get().uri("/").retrieve().toBodilessEntity().block(Duration.ofSeconds(10))
                .getHeaders().getFirst("Content-Security-Policy");
        assertThat(policy).contains("default-src 'none'", "script-src 'self' 'sha256-", "frame-ancestors 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval");
        JsonNode me = client(dev.atelier.support.EngineTestSupport.ADMIN_TOKEN).get("/api/v1/users/me").json();
        assertThat(me.path("id").asText()).isEqualTo("admin");
        assertThat(me.path("roles")).extracting(JsonNode::asText).containsExactly("owner");
    }

    @Test
    @Order(1)
    void aMemberLogsInWithATokenAndSeesOnlyHerPages() {
        memberToken = issue("dana-" + suffix, "member");
        templateId = createTemplate();

        browser.open("");
        browser.waitFor(By.id("token"));
        browser.screenshot("01-login");
        // The accessibility check sees what it should: a field without a label and grey-on-white text fail it.
        // (Styles set through the CSSOM: the console's Content-Security-Policy refuses inline style attributes.)
        browser.script("""
                document.body.insertAdjacentHTML('afterbegin',
                    '<div id="a11y-probe"><input type="text"><p>faint text</p></div>');
                const probe = document.getElementById('a11y-probe');
                probe.style.background = '#fff';
                probe.querySelector('p').style.color = '#bbb';""");
        assertThat(String.join("\n", browser.accessibilityViolations())).contains("label").contains("color-contrast");
        browser.script("document.getElementById('a11y-probe').remove()");
        assertThat(browser.accessibilityViolations()).isEmpty();
        browser.login(memberToken);

        assertThat(browser.navigation()).containsExactly("workspaces");
        assertThat(browser.driver().findElement(By.cssSelector(".who .user")).getText()).contains("dana-" + suffix);
        // Pages of other roles are not offered, and asked for directly they say so without calling the API.
        for (String page : List.of("audit", "costs")) {
            browser.open("#/" + page);
            browser.waitForText(By.cssSelector("main h1"), "Not available"::equals);
            assertThat(browser.driver().findElement(By.cssSelector("main")).getText()).contains("member");
        }
        // The token is in the tab's session storage, not in the address.
        assertThat(browser.driver().getCurrentUrl()).doesNotContain(memberToken);
    }

    @Test
    @Order(2)
    void aDeveloperCreatesAWorkspaceFromATemplateWithParametersAndSeesItRunWithoutReloading() throws Exception {
        browser.open("#/workspaces");
        browser.waitFor(By.cssSelector("[data-live='live']"));
        browser.script("window.notReloaded = true");

        browser.driver().findElement(By.xpath("//button[normalize-space()='New workspace']")).click();
        browser.waitFor(By.id("ws-name")).sendKeys(workspaceName);
        new Select(browser.driver().findElement(By.id("ws-template"))).selectByValue(templateId);
        WebElement greeting = browser.waitFor(By.cssSelector("input[name='param:greeting']"));
        assertThat(greeting.getAttribute("value")).isEqualTo("hello");          // the template's default
        greeting.clear();
        greeting.sendKeys("hello from the console");
        Select size = new Select(browser.driver().findElement(By.cssSelector("select[name='param:size']")));
        assertThat(size.getOptions()).extracting(WebElement::getText).contains("small", "large");
        size.selectByValue("large");
        assertThat(browser.driver().findElement(By.cssSelector("input[name='param:cpus']")).getAttribute("type"))
                .isEqualTo("number");
        // A workspace's team must be one of its owner's teams: dana is put into the team first (docs/security.md).
        ensureTeam("web-" + suffix);
        assertThat(admin.post("/api/v1/users", Map.of("id", "dana-" + suffix, "teams", List.of("web-" + suffix)))
                .status()).isEqualTo(201);
        browser.driver().findElement(By.id("ws-team")).sendKeys("web-" + suffix);
        browser.screenshot("02-create-workspace");
        browser.driver().findElement(By.xpath("//button[normalize-space()='Create workspace']")).click();

        By status = By.cssSelector("tr[data-workspace='" + workspaceName + "'] [data-status]");
        browser.until(d -> "RUNNING".equals(d.findElement(status).getAttribute("data-status")) ? true : null);
        assertThat(browser.script("return window.notReloaded === true")).isEqualTo(true);
        workspaceId = browser.driver().findElement(By.cssSelector("tr[data-workspace='" + workspaceName + "']"))
                .getAttribute("data-id");
        // The typed inputs reached the workspace: its start-up script wrote the parameters.
        Path hello = DATA.resolve("workspaces").resolve(workspaceId).resolve("hello.txt");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(hello) && Files.readString(hello).contains("large"));
        assertThat(Files.readString(hello).trim()).isEqualTo("hello from the console / large");
        browser.screenshot("03-workspaces");

        browser.viewport(420, 860);
        assertThat((Boolean) browser.script("return document.documentElement.scrollWidth <= window.innerWidth"))
                .as("no sideways scrolling of the page on a narrow screen").isTrue();
        browser.screenshot("04-workspaces-narrow");
        browser.viewport(1280, 800);
    }

    @Test
    @Order(3)
    void stoppingFromASecondWindowUpdatesTheFirstLive() {
        browser.driver().findElement(By.linkText(workspaceName)).click();
        browser.waitForText(By.cssSelector("[data-status-text]"), "RUNNING"::equals);
        browser.waitFor(By.cssSelector("[data-live='live']"));
        browser.waitFor(By.cssSelector("[data-next-stop] strong"));              // time until the idle stop
        browser.driver().findElement(By.xpath("//button[normalize-space()='Extend']")).click();
        browser.waitForText(By.cssSelector(".messages .notice"), text -> text.startsWith("Kept alive until"));
        await().atMost(Duration.ofSeconds(10)).until(() -> !admin.get("/api/v1/workspaces/" + workspaceId).json()
                .at("/activity/keepAliveUntil").isMissingNode());                 // the extension reached the engine
        browser.script("window.notReloaded = true");
        browser.screenshot("05-workspace");
        String first = browser.driver().getWindowHandle();

        browser.driver().switchTo().newWindow(WindowType.WINDOW);
        browser.login(memberToken);                                               // a new window has its own session
        browser.open("#/workspaces");
        By stop = By.cssSelector("tr[data-workspace='" + workspaceName + "'] button[aria-label='Stop " + workspaceName + "']");
        browser.until(d -> d.findElement(stop).isEnabled() ? true : null);
        browser.driver().findElement(stop).click();
        browser.waitForText(By.cssSelector("tr[data-workspace='" + workspaceName + "'] [data-status]"), "STOPPED"::equals);
        assertThat(browser.consoleErrors()).as("errors in the second window's console").isEmpty();
        browser.driver().close();
        browser.driver().switchTo().window(first);

        browser.waitForText(By.cssSelector("[data-status-text]"), "STOPPED"::equals);
        browser.until(d -> d.findElements(By.cssSelector("table.history tr[data-type='TransitionSucceeded']")).size() == 2
                ? true : null);
        assertThat(browser.script("return window.notReloaded === true")).isEqualTo(true);
        assertThat(browser.driver().findElement(By.cssSelector("table.history")).getText()).contains("STOP", "#2");
        JsonNode stopped = admin.get("/api/v1/workspaces/" + workspaceId).json();
        assertThat(stopped.path("status").asText()).isEqualTo("STOPPED");
        assertThat(stopped.at("/lastTransition/actor").asText()).isEqualTo("dana-" + suffix);
    }

    @Test
    @Order(4)
    void anAuditorFindsTheStopWithASearchAndVerifiesTheChain() throws Exception {
        browser.signOut();
        browser.login(issue("carol-" + suffix, "auditor"));
        assertThat(browser.navigation()).containsExactly("audit");

        WebElement q = browser.waitFor(By.id("a-q"));
        q.sendKeys("resource_type:workspace resource_id:" + workspaceId + " action:stop");
        browser.driver().findElement(By.xpath("//button[normalize-space()='Search']")).click();
        By requested = By.cssSelector("table.audit tr[data-action='stop'][data-phase='requested']");
        browser.waitFor(requested);
        browser.waitFor(By.cssSelector("table.audit tr[data-action='stop'][data-phase='completed']"));
        assertThat(browser.driver().findElements(By.cssSelector("table.audit tbody tr[data-seq]")))
                .allSatisfy(row -> assertThat(row.getAttribute("data-action")).isEqualTo("stop"));
        assertThat(browser.driver().getCurrentUrl()).contains("#/audit?q=");  // the search is in the address

        browser.driver().findElement(requested).findElement(By.cssSelector("button.link")).click();
        WebElement detail = browser.waitFor(By.cssSelector(".entry-detail"));
        assertThat(detail.getText()).contains("dana-" + suffix, "RUNNING", "STOPPING");

        browser.driver().findElement(By.xpath("//button[normalize-space()='Verify chain']")).click();
        WebElement verdict = browser.waitFor(By.cssSelector(".verification"));
        assertThat(verdict.getAttribute("data-valid")).isEqualTo("true");
        assertThat(verdict.getText()).contains("The chain is intact");
        browser.screenshot("06-audit");

        browser.driver().findElement(By.xpath("//button[normalize-space()='Export CSV']")).click();
        Path csv = await().atMost(Duration.ofSeconds(15)).until(() -> {
            try (var files = Files.list(browser.downloads())) {
                return files.filter(f -> f.toString().endsWith(".csv")).findFirst().orElse(null);
            }
        }, found -> found != null);
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines.get(0)).startsWith("seq,time,actorId");
        assertThat(lines.subList(1, lines.size())).hasSize(2).allSatisfy(line -> assertThat(line).contains(",stop,"));
    }

    @Test
    @Order(5)
    void financeSeesTheMonthChartAndABudgetCrossing80PercentLive() {
        browser.signOut();
        browser.login(issue("fiona-" + suffix, "finance"));
        assertThat(browser.navigation()).containsExactly("costs", "idle");
        browser.waitFor(By.cssSelector("table.budgets"));
        browser.waitFor(By.cssSelector("[data-live='live']"));

        // A budget set in the console, for a team whose workspace then costs 0.80 EUR a second.
        String team = "fin-" + suffix;
        ensureTeam(team); // a team budget names a team that exists
        browser.driver().findElement(By.id("b-name")).sendKeys(team);
        browser.driver().findElement(By.id("b-amount")).sendKeys("4");
        browser.driver().findElement(By.xpath("//button[normalize-space()='Set budget']")).click();
        By budgetRow = By.cssSelector("table.budgets tr[data-budget='" + team + "']");
        browser.until(d -> "OK".equals(d.findElement(budgetRow).getAttribute("data-state")) ? true : null);

        String pricey = createTemplate("pricey-" + suffix, "2880");
        String expensive = admin.post("/api/v1/workspaces", Map.of("name", "pricey-" + suffix, "templateId", pricey,
                "team", team)).json().path("id").asText();
        // 80 % of 4 EUR after about 4 s of running: the crossing arrives over the budget stream.
        browser.until(d -> d.findElements(By.cssSelector(".live-notices li")).stream()
                .anyMatch(li -> li.getText().contains("80 %")) ? true : null, Duration.ofSeconds(60));
        admin.post("/api/v1/workspaces/" + expensive + "/stop", Map.of());
        browser.until(d -> List.of("WARNING", "EXHAUSTED").contains(d.findElement(budgetRow).getAttribute("data-state"))
                ? true : null);
        // Stopped (and free when stopped) before the month is shown: the forecast is what was spent, not a month at
        // 2880 EUR an hour.
        admin.awaitStatus(expensive, "STOPPED");

        browser.driver().findElement(By.xpath("//button[normalize-space()='Show']")).click();
        browser.waitFor(By.cssSelector("table.costs tr[data-group='" + team + "']"));
        browser.waitFor(By.cssSelector("table.costs tr[data-group='web-" + suffix + "']"));
        // The chart drew something: its canvas differs from an empty one of the same size.
        assertThat((Boolean) browser.script("""
                const chart = document.querySelector('#daily-chart');
                const blank = document.createElement('canvas');
                blank.width = chart.width; blank.height = chart.height;
                return chart.width > 0 && chart.toDataURL() !== blank.toDataURL();""")).isTrue();
        String projected = browser.waitFor(By.cssSelector("table.forecast tr[data-group='" + team + "']"))
                .getAttribute("data-projected");
        assertThat(new java.math.BigDecimal(projected)).as("the forecast of a stopped, free workspace")
                .isBetween(new java.math.BigDecimal("3"), new java.math.BigDecimal("50"));
        browser.screenshot("07-costs");
    }

    @Test
    @Order(6)
    void aTemplateAdminSeesTheEnginesValidationNextToTheFieldAndPublishesAVersion() {
        browser.signOut();
        browser.login(issue("tim-" + suffix, "template-admin"));
        assertThat(browser.navigation()).containsExactly("templates");
        browser.open("#/templates/" + templateId);
        WebElement spec = browser.waitFor(By.id("tpl-spec"));
        spec.clear();
        spec.sendKeys("{\"startupScrpt\": \"exec sleep infinity\"}");
        browser.driver().findElement(By.xpath("//button[starts-with(normalize-space(), 'Publish version')]")).click();
        WebElement error = browser.waitFor(By.id("err-spec"));
        assertThat(error.getText()).contains("startupScrpt");
        assertThat(spec.getAttribute("aria-invalid")).isEqualTo("true");
        assertThat(browser.consoleErrors("/api/v1/templates/" + templateId + "/versions"))
                .as("only the refused publish in the console").isEmpty();
        browser.screenshot("08-template-validation");
        assertThat(admin.get("/api/v1/templates/" + templateId).json().path("latestVersion").asInt()).isEqualTo(1);

        spec.clear();
        spec.sendKeys("{\"startupScript\": \"exec sleep infinity\"}");
        browser.driver().findElement(By.xpath("//button[starts-with(normalize-space(), 'Publish version')]")).click();
        browser.waitFor(By.cssSelector("table.versions tr[data-version='2']"));
        browser.driver().findElement(By.xpath("//button[normalize-space()='Make v1 active']")).click();
        browser.waitForText(By.cssSelector("table.versions tr[data-version='1'] td:last-child"), "active"::equals);
        assertThat(admin.get("/api/v1/templates/" + templateId).json().path("version").asInt()).isEqualTo(1);
    }

    private String issue(String subject, String role) {
        ApiClient.Response issued = admin.post("/api/v1/tokens", Map.of("name", subject, "subject", subject,
                "roles", List.of(role)));
        assertThat(issued.status()).isEqualTo(201);
        return issued.json().path("token").asText();
    }

    private String createTemplate() {
        ApiClient.Response created = admin.post("/api/v1/templates", Map.of(
                "name", "python-" + suffix, "description", "A workspace that greets", "provider", "local",
                "spec", Map.of("startupScript",
                        "echo \"$ATELIER_PARAM_GREETING / $ATELIER_PARAM_SIZE\" > hello.txt; exec sleep infinity"),
                "parameters", List.of(
                        Map.of("name", "greeting", "type", "STRING", "defaultValue", "hello", "mutable", true,
                                "description", "written to hello.txt"),
                        Map.of("name", "size", "type", "STRING", "allowedValues", List.of("small", "large"),
                                "defaultValue", "small"),
                        Map.of("name", "cpus", "type", "NUMBER", "defaultValue", "2")),
                "policy", Map.of("idleTimeout", "PT30M"),
                "pricing", Map.of("runningPerHour", "0.50", "stoppedPerHour", "0.02", "currency", "EUR")));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        return created.json().path("id").asText();
    }

    private String createTemplate(String name, String runningPerHour) {
        ApiClient.Response created = admin.post("/api/v1/templates", Map.of("name", name, "provider", "local",
                "spec", Map.of("startupScript", "exec sleep infinity"),
                "pricing", Map.of("runningPerHour", runningPerHour, "stoppedPerHour", "0", "currency", "EUR")));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        return created.json().path("id").asText();
    }
}
