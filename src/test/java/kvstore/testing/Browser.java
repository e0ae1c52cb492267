package kvstore.testing;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.UnexpectedAlertBehaviour;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A real headless Chromium (Debian's {@code /usr/bin/chromium}, driven through
 * {@code /usr/bin/chromedriver} by Selenium) for the browser tests. Nothing is downloaded:
 * the driver's path is given, so Selenium Manager is skipped, and it is told to stay offline
 * anyway. Every page it opens starts with a probe (installed before the page's own scripts)
 * that records dialogs (alert, confirm, prompt) and any {@code img}, {@code iframe},
 * {@code object}, {@code embed} or inline {@code script} element that appears, so a test can
 * tell whether data was ever parsed as markup.
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private static final String PROBE = """
            window.__dialogs = [];
            for (const name of ['alert', 'confirm', 'prompt']) {
              window[name] = function (message) { window.__dialogs.push(name + ': ' + message); return null; };
            }
            window.__markup = [];
            new MutationObserver((records) => {
              const note = (n) => {
                if (n.nodeType !== 1) return;
                const bad = 'img,iframe,object,embed,script:not([src])';
                if (n.matches(bad)) window.__markup.push(n.outerHTML);
                for (const d of n.querySelectorAll(bad)) window.__markup.push(d.outerHTML);
              };
              for (const r of records) for (const n of r.addedNodes) note(n);
            }).observe(document, { childList: true, subtree: true });
            """;

    // No selenium-devtools bindings are on the classpath (executeCdpCommand goes through
    // chromedriver itself), so Selenium's "Unable to find CDP implementation" warning is noise.
    private static final Logger CDP_LOG = Logger.getLogger("org.openqa.selenium.devtools");

    static {
        CDP_LOG.setLevel(Level.SEVERE);
    }

    public final ChromeDriver driver;

    private Browser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** Whether this machine can run the browser tests (test.sh installs both). */
    public static boolean available() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    public static Browser start(Path profileDir) throws IOException {
        Files.createDirectories(profileDir);
        System.setProperty("SE_AVOID_STATS", "true");
        System.setProperty("SE_OFFLINE", "true");
        ChromeOptions opts = new ChromeOptions();
        opts.setBinary(CHROMIUM.toFile());
        opts.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US",
                "--user-data-dir=" + profileDir.toAbsolutePath());
        opts.setUnhandledPromptBehaviour(UnexpectedAlertBehaviour.IGNORE);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withEnvironment(Map.of("SE_AVOID_STATS", "true", "SE_OFFLINE", "true"))
                .withLogOutput(java.io.OutputStream.nullOutputStream())
                .build();
        ChromeDriver d = new ChromeDriver(service, opts);
        d.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", PROBE));
        return new Browser(d);
    }

    public void open(String url) {
        driver.get(url);
    }

    public WebElement byId(String id) {
        return driver.findElement(By.id(id));
    }

    public WebElement css(String selector) {
        return driver.findElement(By.cssSelector(selector));
    }

    public List<WebElement> all(String selector) {
        return driver.findElements(By.cssSelector(selector));
    }

    public Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Polls (every 50 ms) until the condition gives something other than null or false. */
    public <T> T await(String what, Duration timeout, Function<ChromeDriver, T> condition) {
        WebDriverWait w = new WebDriverWait(driver, timeout, Duration.ofMillis(50));
        w.withMessage(what);
        // A list the page re-renders between finding an element and reading it: read it again.
        w.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        return w.until(d -> condition.apply((ChromeDriver) d));
    }

    public void size(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** A screenshot of the whole page (not only the viewport), as PNG. */
    public void screenshot(Path png) throws IOException {
        Files.createDirectories(png.getParent());
        try {
            Map<?, ?> size = (Map<?, ?>) js("return {w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight};");
            long w = ((Number) size.get("w")).longValue();
            long h = Math.min(8000, ((Number) size.get("h")).longValue());
            Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of(
                    "format", "png", "captureBeyondViewport", true,
                    "clip", Map.of("x", 0, "y", 0, "width", w, "height", h, "scale", 1)));
            Files.write(png, Base64.getDecoder().decode((String) shot.get("data")));
        } catch (RuntimeException e) {
            File f = driver.getScreenshotAs(OutputType.FILE);
            Files.copy(f.toPath(), png, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
