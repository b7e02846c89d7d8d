package io.meshguard.deploy.box;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A person's browser on the bank's network: a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}, through Selenium as xds-controller's console tests drive it), a fresh profile each. It opens
 * the names the bank's people use (the console's public origin, the issuer's host) and reaches them through the box's
 * port-forwards: Chromium's host resolver maps each {@code host:port} to its forward, so URLs, the {@code Host}
 * header, cookies and redirects keep the real names.
 */
final class PersonsBrowser implements AutoCloseable {
    static final Path BROWSER = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    final ChromeDriver driver;
    private final Path profile;

    private PersonsBrowser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** @param names {@code host:port} as people type it → the box's port-forward on this machine */
    static PersonsBrowser start(Map<String, InetSocketAddress> names) throws IOException {
        if (!Files.isExecutable(BROWSER) || !Files.isExecutable(DRIVER)) {
            throw new AssertionError("the console journeys need Debian's chromium and chromium-driver (" + BROWSER
                    + ", " + DRIVER + "): apt-get install -y chromium chromium-driver (.ci/run installs them)");
        }
        Path profile = Files.createTempDirectory("mgbox-chromium-");
        String rules = names.entrySet().stream()
                .map(e -> "MAP " + e.getKey() + " 127.0.0.1:" + e.getValue().getPort())
                .collect(Collectors.joining(", "));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER.toFile());
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
                "--no-proxy-server",
                "--host-resolver-rules=" + rules,
                "--ignore-certificate-errors-spki-list="
                        + ForwardsByName.bankCaKeyHash().orElse(""),
                "--user-data-dir=" + profile,
                "--window-size=1400,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort()
                .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        return new PersonsBrowser(driver, profile);
    }

    /**
     * Signs in through the console's sign-in link; Keycloak's login form when the person has no session there yet
     * (single sign-on otherwise). Ends on {@code next}, signed in.
     */
    void signIn(String origin, BankIdentityProvider.Person person, String next) {
        driver.get(origin + "/console/signin?next="
                + java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8));
        new WebDriverWait(driver, Duration.ofSeconds(60))
                .until(ExpectedConditions.or(
                        ExpectedConditions.urlContains(next),
                        ExpectedConditions.visibilityOfElementLocated(By.id("username"))));
        if (!driver.findElements(By.id("username")).isEmpty()) {
            fillLoginForm(person);
        }
        new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.urlContains(next));
        waitFor(By.cssSelector("form.signout"));
    }

    /**
     * On Keycloak's page (a device verification link): signs in, grants access when the realm asks for consent, and
     * waits for Keycloak's answer that the device is signed in.
     */
    /**
     * {@code meshguard login} as {@code person}: the CLI's device grant (with PKCE) started by {@code cli}, approved by
     * signing in at Keycloak in this browser; the token the CLI then holds.
     */
    io.meshguard.access.SignedInToken meshguardLogin(
            io.meshguard.access.OidcClient cli, BankIdentityProvider.Person person) throws Exception {
        io.meshguard.access.OidcClient.DeviceCode code = cli.startDeviceLogin();
        java.util.concurrent.CompletableFuture<io.meshguard.access.SignedInToken> login =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return cli.awaitDeviceLogin(code);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
        driver.get(code.verificationUriComplete());
        signInAtKeycloak(person);
        return login.get(120, java.util.concurrent.TimeUnit.SECONDS);
    }

    void signInAtKeycloak(BankIdentityProvider.Person person) {
        fillLoginForm(person);
        new WebDriverWait(driver, Duration.ofSeconds(60))
                .until(d -> !d.findElements(By.name("accept")).isEmpty()
                        || d.findElement(By.tagName("body"))
                                .getText()
                                .toLowerCase(java.util.Locale.ROOT)
                                .contains("success"));
        if (!driver.findElements(By.name("accept")).isEmpty()) {
            driver.findElement(By.name("accept")).click();
        }
    }

    private void fillLoginForm(BankIdentityProvider.Person person) {
        waitFor(By.id("username")).sendKeys(person.username());
        driver.findElement(By.id("password")).sendKeys(person.password());
        driver.findElement(By.id("kc-login")).click();
    }

    WebElement waitFor(By by) {
        return acrossPageSwaps().until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    void waitForText(By by, String text) {
        acrossPageSwaps().until(ExpectedConditions.textToBePresentInElementLocated(by, text));
    }

    /**
     * A wait that outlasts the page it started on: an element found on the page a submit replaces answers "Node with
     * given id does not belong to the document" (chromedriver 150), an unknown error Selenium's conditions do not catch.
     */
    private WebDriverWait acrossPageSwaps() {
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
        wait.ignoring(org.openqa.selenium.WebDriverException.class);
        return wait;
    }

    /** What the page shows, for failure messages. */
    String page() {
        return driver.getCurrentUrl() + "\n"
                + driver.findElement(By.tagName("body")).getText();
    }

    @Override
    public void close() {
        driver.quit();
        io.meshguard.testing.TemporaryDirectories.deleteQuietly(profile);
    }
}
