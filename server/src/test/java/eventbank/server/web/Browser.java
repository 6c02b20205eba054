package eventbank.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real browser for the web app's tests: Debian's headless {@code chromium}, driven through its
 * {@code chromium-driver} by Selenium, nothing downloaded. Without Chromium the tests are
 * skipped, saying how to install it, unless {@code EVENTBANK_BROWSER_TESTS=required} (set by
 * {@code .ci/run}, which installs both), when they fail instead.
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    public static final Dimension DESKTOP = new Dimension(1280, 900);
    public static final Dimension PHONE = new Dimension(390, 844);
    /** Where {@link #screenshot} writes (the module's build folder). */
    public static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Screenshots stop at this height: a page longer than this is cut rather than huge. */
    private static final int SCREENSHOT_HEIGHT_MAX = 3000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ChromeDriver driver;
    private final Path profile;
    private Dimension size = DESKTOP;

    private Browser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** A headless Chromium at desktop size, with a fresh profile. */
    public static Browser start() throws IOException {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        String missing = "the browser tests need Debian's chromium and chromium-driver"
                + " (apt-get install chromium chromium-driver): " + CHROMIUM + " or " + CHROMEDRIVER + " is missing";
        if (!installed) {
            if ("required".equals(System.getenv("EVENTBANK_BROWSER_TESTS"))) {
                throw new AssertionError(missing);
            }
            Assumptions.abort(missing);
        }
        Path profile = Files.createTempDirectory("eventbank-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile,
                "--window-size=" + DESKTOP.getWidth() + "," + DESKTOP.getHeight());
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        return new Browser(new ChromeDriver(service, options), profile);
    }

    public WebDriver driver() {
        return driver;
    }

    /** Files the pages download are saved into {@code directory}, without asking. */
    public void downloadTo(Path directory) {
        driver.executeCdpCommand("Browser.setDownloadBehavior",
                Map.of("behavior", "allow", "downloadPath", directory.toAbsolutePath().toString()));
    }

    /** The window at phone size (390×844 CSS pixels). */
    public Browser phone() {
        return resize(PHONE);
    }

    /** The window at desktop size (1280×900). */
    public Browser desktop() {
        return resize(DESKTOP);
    }

    private Browser resize(Dimension to) {
        size = to;
        driver.manage().window().setSize(to);
        return this;
    }

    public void go(String url) {
        driver.get(url);
    }

    /** The element once it is visible (up to 10 s). */
    public WebElement waitFor(By locator) {
        return new WebDriverWait(driver, WAIT).until(ExpectedConditions.visibilityOfElementLocated(locator));
    }

    /** Waits (up to 10 s) until the element's text contains {@code text}; the element. */
    public WebElement waitForText(By locator, String text) {
        new WebDriverWait(driver, WAIT).until(ExpectedConditions.textToBePresentInElementLocated(locator, text));
        return driver.findElement(locator);
    }

    /**
     * The browser's SEVERE log entries (uncaught errors, {@code console.error}, failed loads)
     * since the last call, leaving out those that contain one of {@code expected} (a reply of 422
     * that the test provoked on purpose, say).
     */
    public List<String> consoleErrors(String... expected) {
        List<String> errors = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            String message = entry.getMessage();
            if (entry.getLevel().intValue() >= Level.SEVERE.intValue()
                    && Arrays.stream(expected).noneMatch(message::contains)) {
                errors.add(message);
            }
        }
        return errors;
    }

    /**
     * axe-core's serious and critical violations on the page as it is now, one line each (rule,
     * impact, what it asks, the elements): the vendored axe-core (test resources) run in the page.
     */
    public List<String> accessibilityViolations() {
        JavascriptExecutor js = driver;
        js.executeScript(AxeCore.SOURCE);
        Object reply = js.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ["violations"] })
                  .then(results => done(JSON.stringify(results.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary) })))))
                  .catch(e => done("axe failed: " + e));
                """);
        String text = String.valueOf(reply);
        if (text.startsWith("axe failed")) {
            throw new AssertionError(text);
        }
        try {
            List<String> violations = new ArrayList<>();
            for (JsonNode violation : JSON.readTree(text)) {
                violations.add(violation.path("impact").asText() + " " + violation.path("id").asText() + " ("
                        + violation.path("help").asText() + ") at " + violation.path("nodes"));
            }
            return violations;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Checks the page as it is at desktop and at phone width, and screenshots it at both: no
     * browser error but those of {@code expectedErrors} (see {@link #consoleErrors}), no serious
     * or critical accessibility violation. Leaves the window at desktop size.
     */
    public void checkAtBothWidths(String name, String... expectedErrors) throws IOException {
        desktop();
        assertThat(consoleErrors(expectedErrors)).as("browser errors in %s", name).isEmpty();
        assertThat(accessibilityViolations()).as("accessibility of %s at desktop width", name).isEmpty();
        screenshot(name);
        phone();
        assertThat(accessibilityViolations()).as("accessibility of %s at phone width", name).isEmpty();
        screenshot(name);
        desktop();
    }

    /**
     * Writes the whole page (up to 3,000 pixels high) as {@code target/screenshots/<name>-<desktop
     * or phone>.png}, at the window's width; the window's size is kept.
     */
    public Path screenshot(String name) throws IOException {
        // The whole page, not the window: DevTools draws beyond the viewport (a window taller
        // than the headless screen is cut to it).
        Number width = (Number) driver.executeScript("return document.documentElement.clientWidth");
        Number height = (Number) driver.executeScript(
                "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)");
        Map<String, Object> clip = Map.of("x", 0, "y", 0, "width", width.intValue(),
                "height", Math.min(SCREENSHOT_HEIGHT_MAX, height.intValue()), "scale", 1);
        Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot",
                Map.of("format", "png", "captureBeyondViewport", true, "clip", clip));
        byte[] png = Base64.getDecoder().decode((String) shot.get("data"));
        Files.createDirectories(SCREENSHOTS);
        Path file = SCREENSHOTS.resolve(name + "-" + (size.equals(PHONE) ? "phone" : "desktop") + ".png");
        Files.write(file, png);
        return file;
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    /** axe-core's script, vendored with its licence under test resources {@code axe/}. */
    private static final class AxeCore {
        static final String SOURCE = read();

        private static String read() {
            try (InputStream in = Browser.class.getResourceAsStream("/axe/axe.min.js")) {
                if (in == null) {
                    throw new IllegalStateException("axe/axe.min.js is missing from the test resources");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
