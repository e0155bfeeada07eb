package dev.atelier.support;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.PageLoadStrategy;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.logging.Level;

/**
 * Debian's chromium, headless, driven through its own chromium-driver (paths from {@code deploy/test-infra/chromium.sh};
 * Selenium Manager is never asked to download anything), with a fresh profile, the browser console's log kept for
 * assertions, downloads into a directory of the test's, and full-page screenshots under {@code target/screenshots/}.
 */
public final class ConsoleBrowser implements AutoCloseable {

    public static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ChromeDriver driver;
    private final ChromeDriverService service;
    private final Path profile;
    private final Path downloads;
    private final String baseUrl;
    private final List<String> consoleLog = new ArrayList<>();
    private final Map<String, List<String>> accessibility = new java.util.LinkedHashMap<>();

    public ConsoleBrowser(String baseUrl) {
        TestInfra.Browser browser = TestInfra.chromium();
        this.baseUrl = baseUrl;
        try {
            this.profile = Files.createTempDirectory("atelier-chromium-profile");
            this.downloads = Files.createTempDirectory("atelier-chromium-downloads");
            Files.createDirectories(SCREENSHOTS);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser.binary().toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--user-data-dir=" + profile, "--window-size=1280,800", "--lang=en-GB");
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
                "download.prompt_for_download", false, "intl.accept_languages", "en-GB"));
        // Navigation returns at DOMContentLoaded: the tests wait for what they need on the page anyway, and a page
        // whose last image or stylesheet is slow does not hold up a click that navigates.
        options.setPageLoadStrategy(PageLoadStrategy.EAGER);
        LoggingPreferences logging = new LoggingPreferences();
        logging.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logging);
        this.service = new ChromeDriverService.Builder().usingDriverExecutable(browser.driver().toFile())
                .usingAnyFreePort().build();
        this.driver = new ChromeDriver(service, options);
        // A page that never loads fails the test within a minute, not after WebDriver's default of five.
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        viewport(1280, 800);
    }

    public WebDriver driver() {
        return driver;
    }

    public Path downloads() {
        return downloads;
    }

    public void open(String hash) {
        driver.get(baseUrl + "/" + hash);
    }

    /** The console's login: paste the token, sign in, wait for the navigation of the caller's pages. */
    public void login(String token) {
        open("");
        WebElement field = waitFor(By.id("token"));
        field.sendKeys(token);
        driver.findElement(By.cssSelector("form.login-card button[type=submit]")).click();
        waitFor(By.cssSelector("header.top nav"));
    }

    public void signOut() {
        driver.findElement(By.xpath("//button[normalize-space()='Sign out']")).click();
        waitFor(By.id("token"));
    }

    /** The ids of the pages in the navigation. */
    public List<String> navigation() {
        return driver.findElements(By.cssSelector("header.top nav a[data-page]")).stream()
                .map(a -> a.getAttribute("data-page")).toList();
    }

    public WebElement waitFor(By locator) {
        return until(d -> {
            List<WebElement> found = d.findElements(locator);
            return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
        });
    }

    public <T> T until(ExpectedCondition<T> condition) {
        return until(condition, WAIT);
    }

    public <T> T until(ExpectedCondition<T> condition, Duration timeout) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(100)).until(condition);
    }

    public void waitForText(By locator, Predicate<String> text) {
        until(d -> {
            List<WebElement> found = d.findElements(locator);
            return !found.isEmpty() && text.test(found.get(0).getText()) ? Boolean.TRUE : null;
        });
    }

    public Object script(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** What axe-core found on the pages screenshotted since the last call, by screenshot name; then forgotten. */
    public Map<String, List<String>> accessibilityFindings() {
        Map<String, List<String>> found = Map.copyOf(accessibility);
        accessibility.clear();
        return found;
    }

    /** axe-core's rules for WCAG 2.1 levels A and AA (labels, names, contrast, keyboard focus, landmarks, …). */
    private static final String AXE = "META-INF/resources/webjars/axe-core/4.6.3/axe.min.js";

    /**
     * The page's accessibility violations by Deque's axe-core (WCAG 2.1 A and AA rules), each as
     * "rule (impact): count × first targets"; empty when the page passes.
     */
    @SuppressWarnings("unchecked")
    public List<String> accessibilityViolations() {
        try (var in = ConsoleBrowser.class.getClassLoader().getResourceAsStream(AXE)) {
            script(new String(java.util.Objects.requireNonNull(in, AXE).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Object found = ((JavascriptExecutor) driver).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                  .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.length + ' x '
                      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                  .catch(e => done(['axe did not run: ' + e]));""");
        return (List<String>) found;
    }

    /** Sets the size of the page's viewport (not of the window, whose frame differs between modes). */
    public void viewport(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
        Long innerWidth = (Long) script("return window.innerWidth");
        Long innerHeight = (Long) script("return window.innerHeight");
        driver.manage().window().setSize(new Dimension(2 * width - innerWidth.intValue(),
                2 * height - innerHeight.intValue()));
    }

    /**
     * A screenshot of the whole page at the current width, as target/screenshots/{name}.png; the page is also checked
     * with axe-core, and what it finds is kept for {@link #accessibilityFindings()}: every page the documentation
     * shows is a page checked for accessibility.
     */
    public Path screenshot(String name) {
        List<String> violations = accessibilityViolations();
        if (!violations.isEmpty()) {
            accessibility.put(name, violations);
        }
        int width = ((Long) script("return window.innerWidth")).intValue();
        int height = ((Long) script("return window.innerHeight")).intValue();
        int pageHeight = ((Long) script("return document.documentElement.scrollHeight")).intValue();
        viewport(width, Math.min(Math.max(pageHeight, height), 4000));
        try {
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            viewport(width, height);
        }
    }

    /**
     * Errors in the browser's console since the last call (uncaught exceptions, failed requests, Content-Security-
     * Policy violations), except those matching {@code expected}.
     */
    public List<String> consoleErrors(String... expected) {
        List<String> errors = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            consoleLog.add(entry.getLevel() + " " + entry.getMessage());
            if (entry.getLevel().intValue() >= Level.SEVERE.intValue()
                    && java.util.Arrays.stream(expected).noneMatch(entry.getMessage()::contains)) {
                errors.add(entry.getMessage());
            }
        }
        return errors;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            deleteQuietly(profile);
            deleteQuietly(downloads);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
