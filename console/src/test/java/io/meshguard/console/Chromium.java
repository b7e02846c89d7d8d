package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.TemporaryDirectories;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) driven through Selenium, one per
 * persona, with a fresh profile; axe-core (from its WebJar) is injected into pages for the accessibility check.
 */
final class Chromium implements AutoCloseable {
    static final Path BROWSER = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    private static final String AXE = "/META-INF/resources/webjars/axe-core/4.6.3/axe.min.js";

    final ChromeDriver driver;
    private final Path profile;

    private Chromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /**
     * Fails under CI ({@code CI=true}: {@code .ci/run} installs the packages) and skips elsewhere when the packages
     * are missing, naming them either way.
     */
    static void requireInstalled() {
        boolean present = Files.isExecutable(BROWSER) && Files.isExecutable(DRIVER);
        String message = "the console's browser tests need Debian's chromium and chromium-driver (" + BROWSER + ", "
                + DRIVER + "): apt-get install -y chromium chromium-driver (.ci/run installs them)";
        if ("true".equals(System.getenv("CI"))) {
            assertThat(present).as(message).isTrue();
        }
        Assumptions.assumeTrue(present, message);
    }

    static Chromium start() throws IOException {
        Path profile = Files.createTempDirectory("mg-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER.toFile());
        // without these it waits on the closed network (component updates, sync, QUIC probes)
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + profile,
                "--window-size=1400,1000");
        options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort()
                .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        driver.manage().window().setSize(new Dimension(1400, 1000));
        return new Chromium(driver, profile);
    }

    /** Signs in through the console's sign-in link and Keycloak's login form; ends on the console. */
    void signIn(String base, String user) {
        signIn(base, user, "/console/revisions");
    }

    /** Signs in and lands on {@code next}. */
    void signIn(String base, String user, String next) {
        driver.get(base + "/console/signin?next=" + java.net.URLEncoder.encode(next, StandardCharsets.UTF_8));
        waitFor(By.id("username")).sendKeys(user);
        driver.findElement(By.id("password")).sendKeys(user + "-pw");
        driver.findElement(By.id("kc-login")).click();
        // the callback's page moves on by itself; the screen's sign-out form shows the session cookie came along
        new WebDriverWait(driver, Duration.ofSeconds(30)).until(ExpectedConditions.urlContains(next));
        waitFor(By.cssSelector("form.signout"));
    }

    /** The SameSite attribute the browser stored for a cookie of this site. */
    String sameSiteOf(String cookie) {
        return driver.manage().getCookieNamed(cookie).getSameSite();
    }

    WebElement waitFor(By by) {
        return acrossPageSwaps(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    void waitForText(By by, String text) {
        acrossPageSwaps(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
    }

    /**
     * A wait that outlasts the page it started on: after a form's submit the element found may belong to the page
     * being replaced, and chromedriver (150) then answers "Node with given id does not belong to the document", an
     * unknown error rather than a stale element, which Selenium's conditions do not catch.
     */
    WebDriverWait acrossPageSwaps(Duration timeout) {
        WebDriverWait wait = new WebDriverWait(driver, timeout);
        wait.ignoring(WebDriverException.class);
        return wait;
    }

    /** The page's axe-core violations of impact serious or critical, as "rule (impact): help ×nodes". */
    List<String> seriousAccessibilityViolations() {
        String axe;
        try (InputStream in = Chromium.class.getResourceAsStream(AXE)) {
            axe = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // injected by WebDriver, not by the page: the console's CSP stays default-src 'self'
        driver.executeScript(axe);
        Object result = driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ['violations']})
                  .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                      .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' x' + v.nodes.length)))
                  .catch(e => done(['axe failed: ' + e]));
                """);
        @SuppressWarnings("unchecked")
        List<String> violations = (List<String>) result;
        return violations;
    }

    /** Browser console lines that report a Content-Security-Policy violation. */
    List<String> cspViolations() {
        return driver.manage().logs().get("browser").getAll().stream()
                .map(e -> e.getMessage())
                .filter(m -> m.contains("Content Security Policy"))
                .toList();
    }

    /** A POST from the page's own script, as a forged or stripped form would arrive; returns the status. */
    long post(String path, String body, boolean withCsrf) {
        Object status = driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const headers = {'Content-Type': 'application/x-www-form-urlencoded'};
                if (arguments[2]) {
                  headers['X-CSRF-Token'] = document.querySelector('meta[name=csrf-token]').content;
                }
                fetch(arguments[0], {method: 'POST', headers: headers, body: arguments[1], redirect: 'manual'})
                  .then(r => done(r.status)).catch(e => done(-1));
                """, path, body, withCsrf);
        return ((Number) status).longValue();
    }

    void screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Files.write(SCREENSHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
    }

    @Override
    public void close() {
        driver.quit();
        TemporaryDirectories.deleteQuietly(profile);
    }
}
