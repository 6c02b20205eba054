package eventbank.bench;

import eventbank.server.http.TestServer;
import eventbank.server.web.Browser;
import eventbank.server.web.WebServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web app's weight and speed in Debian's headless Chromium (issue 14), against a real
 * server over a journal of {@code --events} events ({@code --accounts} accounts opened and
 * verified, then random transfers; the snapshots a server keeps of that history). For each page, {@code --runs} times:
 *
 * <ul>
 *   <li>the bytes it transfers on a first visit (browser cache emptied) and on a return visit
 *       (cache primed: each file is revalidated, 304 without a body), split into the page's own
 *       files and the API's replies it asks for, from the Resource Timing API;</li>
 *   <li>the time from the start of navigation to {@code performance.mark("eventbank-ready")},
 *       which a page sets once it has shown its first data (for the landing page, which runs no
 *       script, to the load event);</li>
 *   <li>the longest task that blocked the page's main thread (Long Tasks API; none means none
 *       over 50 ms).</li>
 * </ul>
 *
 * Then the console at work on that log ({@link #explore}): the explorer, time travel and the
 * what-if sandbox, each step timed from the click to its reply shown.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.PageSpeed [--events 10000000]
 *      [--accounts 100000] [--runs 5]
 * </pre>
 *
 * Needs {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} (Debian's chromium and
 * chromium-driver). Disk: about 40 bytes per event plus the snapshots; deleted at the end.
 */
public final class PageSpeed {
    private static final Duration READY_WAIT = Duration.ofSeconds(120);
    /** Where the pages keep what a tab remembers (app.js, console-common.js). */
    private static final String HOLDER_TOKEN_KEY = "eventbank.token";
    private static final String HOLDER_NUMBER_KEY = "eventbank.account";
    private static final String CONSOLE_KEY_KEY = "eventbank.operator_key";

    private PageSpeed() {}

    /** One load of a page: bytes of its files and of the API's replies, ms to ready, longest task ms. */
    record Load(long fileBytes, long apiBytes, double readyMillis, double longestTaskMillis) {}

    public static void main(String[] args) throws Exception {
        long events = 10_000_000;
        int accounts = 100_000;
        int runs = 5;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--events" -> events = Long.parseLong(args[i + 1]);
                case "--accounts" -> accounts = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path root = Fixtures.tempDirectory("eventbank-pages-");
        try {
            Path data = root.resolve("data");
            JournalBuilder.Built built = JournalBuilder.buildServerData(data, accounts, events);
            long start = System.nanoTime();
            try (WebServer server = WebServer.start(root); Browser browser = Browser.start()) {
                System.out.printf(Locale.ROOT, "server started in %.1f s%n", (System.nanoTime() - start) / 1e9);
                if (!server.awaitReadModels(Duration.ofMinutes(10))) {
                    throw new IllegalStateException("the read models did not catch up in 10 minutes");
                }
                System.out.printf(Locale.ROOT, "read models current %.1f s after the start (issue 15)%n",
                        (System.nanoTime() - start) / 1e9);
                measure(server, browser, runs);
                explore(server, browser, built.lastSeq(), accounts, runs);
            }
            System.out.printf(Locale.ROOT, "disk used: %,.0f MB (deleted)%n", Fixtures.bytesUnder(root) / 1e6);
        } finally {
            Fixtures.deleteRecursively(root);
        }
    }

    private static void measure(WebServer server, Browser browser, int runs) throws Exception {
        TestServer.Holder holder = server.openVerifiedHolder("page-speed@example.com");
        String landing = server.verificationLink(server.open("page-speed-landing@example.com"));
        List<Page> pages = List.of(
                new Page("holder app, logged out (/)", server.url("/#login"), Map.of(), true),
                new Page("holder app, account (/ logged in)", server.url("/"),
                        Map.of(HOLDER_TOKEN_KEY, holder.token(), HOLDER_NUMBER_KEY, holder.number()), true),
                new Page("verification landing page", landing, Map.of(), false),
                new Page("operator console, explorer (/console)", server.url("/console"),
                        Map.of(CONSOLE_KEY_KEY, WebServer.OPERATOR_KEY), true));
        for (Page page : pages) {
            List<Load> first = new ArrayList<>();
            List<Load> again = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                first.add(load(browser, page, true));
                again.add(load(browser, page, false));
            }
            report(page.name() + ", first visit", first);
            report(page.name() + ", return visit", again);
        }
    }

    /**
     * The console at work on the big log: each step clicks a button and times until its
     * request's reply is shown (the button stops being busy), and the longest task on the page's
     * main thread over all of them (is the page ever frozen?).
     */
    private static void explore(WebServer server, Browser browser, long lastSeq, int accounts, int runs) {
        ChromeDriver driver = (ChromeDriver) browser.driver();
        driver.manage().timeouts().scriptTimeout(READY_WAIT);
        JavascriptExecutor js = driver;
        SplittableRandom random = new SplittableRandom(17);
        Map<String, List<Double>> steps = new LinkedHashMap<>();
        List<Double> longest = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            String account = Long.toString(Fixtures.accountNumber(random.nextInt(accounts)));
            long seq = 1 + random.nextLong(lastSeq);
            load(browser, new Page("console", server.url("/console#explorer"),
                    Map.of(CONSOLE_KEY_KEY, WebServer.OPERATOR_KEY), true), false);
            fill(js, "explorer-account", account);
            time(steps, "explorer: one account's events from the start (Show events)", js, "explorer-show");
            time(steps, "explorer: that account's next page", js, "explorer-next");
            fill(js, "explorer-account", "");
            time(steps, "explorer: the latest 50 events", js, "explorer-latest");
            js.executeScript("location.hash = '#time-travel'");
            fill(js, "travel-seq", Long.toString(seq));
            time(steps, "time travel: state at a random seq (50 accounts listed)", js, "travel-go-seq");
            fill(js, "history-account", account);
            time(steps, "time travel: an account's balance over time (chart)", js, "history-show");
            js.executeScript("location.hash = '#what-if'");
            time(steps, "what-if: the latest events to tick", js, "whatif-latest");
            js.executeScript("document.querySelector('#whatif-events input[type=checkbox]').click()");
            time(steps, "what-if: leave the first of them out, run to the end", js, "whatif-run");
            longest.add(longestTask(js));
        }
        for (Map.Entry<String, List<Double>> step : steps.entrySet()) {
            double[] millis = step.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            System.out.printf(Locale.ROOT, "%-60s median %6.0f ms (%s)%n", step.getKey(), Fixtures.median(millis),
                    list(millis));
        }
        double[] tasks = longest.stream().mapToDouble(Double::doubleValue).toArray();
        System.out.printf(Locale.ROOT, "longest task on the console's main thread per run: %s ms%n", list(tasks));
    }

    private static void fill(JavascriptExecutor js, String id, String value) {
        js.executeScript("""
                const field = document.getElementById(arguments[0]);
                field.value = arguments[1];
                field.dispatchEvent(new Event('input', { bubbles: true }));
                """, id, value);
    }

    /** Clicks the button and answers the ms until it is no longer busy (its reply is shown). */
    private static void time(Map<String, List<Double>> steps, String step, JavascriptExecutor js, String buttonId) {
        Number millis = (Number) js.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const button = document.getElementById(arguments[0]);
                const start = performance.now();
                let seenBusy = false;
                button.click();
                // Busy from when its request goes out (perhaps after a first one) until the reply is shown.
                const check = () => {
                  const busy = button.getAttribute('aria-busy') === 'true';
                  seenBusy ||= busy;
                  if (seenBusy && !busy) done(performance.now() - start);
                  else if (!seenBusy && performance.now() - start > 5000) done(-1);
                  else setTimeout(check, 2);
                };
                check();
                """, buttonId);
        if (millis.doubleValue() < 0) {
            throw new IllegalStateException(step + ": the button " + buttonId + " never became busy");
        }
        steps.computeIfAbsent(step, s -> new ArrayList<>()).add(millis.doubleValue());
    }

    /** A page and what its tab's sessionStorage holds before it loads (a token, the operator key). */
    record Page(String name, String url, Map<String, String> session, boolean marksReady) {}

    private static Load load(Browser browser, Page page, boolean emptyCache) {
        ChromeDriver driver = (ChromeDriver) browser.driver();
        browser.go(page.url().replaceFirst("(https?://[^/]+).*", "$1/web/api.js"));
        JavascriptExecutor js = driver;
        js.executeScript("sessionStorage.clear(); for (const [k, v] of Object.entries(arguments[0])) sessionStorage.setItem(k, v);",
                page.session());
        if (emptyCache) {
            driver.executeCdpCommand("Network.clearBrowserCache", Map.of());
        }
        browser.go(page.url());
        String ready = page.marksReady()
                ? "const m = performance.getEntriesByName('eventbank-ready'); return m.length ? m[0].startTime : null;"
                : "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd > 0 ? n.loadEventEnd : null;";
        Number readyMillis = new WebDriverWait(driver, READY_WAIT).until(d -> (Number) js.executeScript(ready));
        @SuppressWarnings("unchecked")
        Map<String, Number> sizes = (Map<String, Number>) js.executeScript("""
                const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
                let files = 0, api = 0;
                for (const e of entries) {
                  const path = new URL(e.name).pathname;
                  if (path.startsWith('/api/') && e.initiatorType !== 'navigation') api += e.transferSize; else files += e.transferSize;
                }
                return { files, api };
                """);
        return new Load(sizes.get("files").longValue(), sizes.get("api").longValue(), readyMillis.doubleValue(),
                longestTask(js));
    }

    /** The longest task on the main thread so far (0 when none took over 50 ms). */
    private static double longestTask(JavascriptExecutor js) {
        Number longest = (Number) js.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                let longest = 0;
                new PerformanceObserver(list => {
                  for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
                }).observe({ type: 'longtask', buffered: true });
                setTimeout(() => done(longest), 0);
                """);
        return longest.doubleValue();
    }

    private static void report(String name, List<Load> loads) {
        double[] ready = loads.stream().mapToDouble(Load::readyMillis).toArray();
        double[] tasks = loads.stream().mapToDouble(Load::longestTaskMillis).toArray();
        long[] files = loads.stream().mapToLong(Load::fileBytes).toArray();
        long[] api = loads.stream().mapToLong(Load::apiBytes).toArray();
        System.out.printf(Locale.ROOT, "%-55s files %,7d B, API %,7d B; ready: median %6.0f ms (%s); "
                        + "longest task: median %.0f ms, max %.0f ms%n",
                name, Fixtures.median(files), Fixtures.median(api), Fixtures.median(ready), list(ready),
                Fixtures.median(tasks), Arrays.stream(tasks).max().orElse(0));
    }

    private static String list(double[] values) {
        StringBuilder text = new StringBuilder();
        for (double value : values) {
            text.append(text.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", value));
        }
        return text.toString();
    }
}
