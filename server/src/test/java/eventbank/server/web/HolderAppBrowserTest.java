package eventbank.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import eventbank.server.http.HttpApi;
import eventbank.server.http.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The account holder's app ({@code GET /}) in a real browser against a real server: the whole
 * story through the pages, a double click that moves money once, a refusal shown where it
 * belongs, and a session that ends. One server and one browser for the class, to keep it quick.
 */
class HolderAppBrowserTest {
    @TempDir
    static Path temp;
    static WebServer server;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        browser = Browser.start();
        server = WebServer.start(temp);
    }

    @AfterAll
    static void stop() throws Exception {
        try (Browser closing = browser; WebServer stopping = server) {
            // both closed, the browser first
        }
    }

    @BeforeEach
    void freshTab() {
        browser.desktop();
        browser.go(server.url("/"));
        js().executeScript("sessionStorage.clear()");
    }

    @Test
    void theHolderOpensTwoAccountsInTheBrowserTransfersWithdrawsAndSeesTheStatement() throws Exception {
        String payer = openInTheBrowser("story-payer@example.com", true);
        String payee = openInTheBrowser("story-payee@example.com", false);

        browser.driver().findElement(By.linkText("Didn't get the mail?")).click();
        type("resend-email", "story-payee@example.com");
        browser.driver().findElement(By.id("resend-submit")).click();
        assertThat(browser.waitFor(By.id("resend-done")).getText()).contains("we have mailed its link again");
        checkPage("resend");

        for (String number : List.of(payer, payee)) {
            browser.go(server.verificationLink(number));
            assertThat(browser.waitFor(By.tagName("h1")).getText()).isEqualTo("Email address confirmed");
        }
        // On from the landing page, as the holder would: the login form with the number filled in.
        browser.driver().findElement(By.linkText("Log in")).click();
        assertThat(browser.waitFor(By.id("login-account")).getAttribute("value").replace(" ", "")).isEqualTo(payee);
        checkPage("login");
        logIn(payer, "password-story-payer@example.com");
        assertThat(browser.waitForText(By.id("account-balance"), "$1,000.00").getText()).isEqualTo("$1,000.00");
        assertThat(browser.waitFor(By.id("statement-empty")).getText()).contains("No transfers");

        browser.driver().findElement(By.linkText("Transfer money")).click();
        browser.waitForText(By.cssSelector("#view-transfer .form-balance"), "$1,000.00");
        type("transfer-to", payee);
        type("transfer-amount", "125.50");
        browser.driver().findElement(By.id("transfer-submit")).click();
        assertThat(browser.waitFor(By.id("transfer-done")).getText())
                .contains("Sent $125.50 to account " + grouped(payee), "Your balance is now $874.50");

        browser.driver().findElement(By.cssSelector("#nav-in a[href='#withdraw']")).click();
        browser.waitForText(By.cssSelector("#view-withdraw .form-balance"), "$874.50");
        assertThat(browser.accessibilityViolations()).isEmpty();
        type("withdraw-amount", "$20");
        browser.driver().findElement(By.id("withdraw-submit")).click();
        assertThat(browser.waitFor(By.id("withdraw-done")).getText())
                .contains("Withdrew $20.00", "Your balance is now $854.50");

        browser.driver().findElement(By.linkText("See it in your statement")).click();
        browser.waitForText(By.id("account-balance"), "$854.50");
        List<List<String>> lines = statementLines();
        assertThat(lines).containsExactly(
                List.of("Withdrawal", "−$20.00", "$854.50"),
                List.of("To " + grouped(payee), "−$125.50", "$874.50"));
        checkPage("account");

        HttpApi.Response account = server.api().get("/api/account", logInThroughApi(payer, "story-payer@example.com"));
        assertThat(account.json().path("balance").asLong()).isEqualTo(85_450);
        HttpApi.Response other = server.api().get("/api/account", logInThroughApi(payee, "story-payee@example.com"));
        assertThat(other.json().path("balance").asLong()).isEqualTo(112_550);

        browser.driver().findElement(By.id("logout")).click();
        assertThat(browser.waitFor(By.id("page-notice")).getText()).isEqualTo("You have logged out.");
        assertThat(js().executeScript("return sessionStorage.getItem('eventbank.token')")).isNull();
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void aDoubleClickOnTransferMovesTheMoneyOnceARefusalShowsUnderItsFieldAndTheStatementPages() throws Exception {
        TestServer.Holder payer = server.openVerifiedHolder("double-payer@example.com");
        TestServer.Holder payee = server.openVerifiedHolder("double-payee@example.com");
        // Twenty withdrawals first, so that the statement has a second page.
        long lastSeq = 0;
        for (int withdrawal = 0; withdrawal < 20; withdrawal++) {
            HttpApi.Response withdrawn = server.api().post("/api/withdraw", Map.of("amount", 100), payer.token(), null);
            assertThat(withdrawn.status()).as("withdraw: %s", withdrawn).isEqualTo(200);
            lastSeq = withdrawn.json().path("seq").asLong();
        }
        assertThat(balance(payer, lastSeq)).isEqualTo(98_000);
        logIn(payer.number(), "password-double-payer@example.com");
        browser.waitForText(By.id("account-balance"), "$980.00");

        browser.go(server.url("/#transfer"));
        browser.waitForText(By.cssSelector("#view-transfer .form-balance"), "$980.00");
        type("transfer-to", payee.number());
        type("transfer-amount", "300");
        new Actions(browser.driver()).doubleClick(browser.driver().findElement(By.id("transfer-submit"))).perform();
        browser.waitForText(By.id("transfer-done"), "Your balance is now $680.00");

        JsonNode statement = server.api().get("/api/account/transactions?limit=100", payer.token()).json();
        assertThat(statement.path("transactions").findValuesAsText("type")).containsOnlyOnce("transfer_out");
        long transferSeq = statement.path("transactions").get(0).path("seq").asLong();
        assertThat(balance(payer, transferSeq)).isEqualTo(68_000);
        assertThat(balance(payee, transferSeq)).isEqualTo(130_000);

        // More than the balance: the bank's refusal, under the amount it concerns.
        type("transfer-to", payee.number());
        type("transfer-amount", "680.01");
        browser.driver().findElement(By.id("transfer-submit")).click();
        assertThat(browser.waitFor(By.id("transfer-amount-error")).getText())
                .isEqualTo("The balance is lower than the amount.");
        assertThat(browser.driver().findElement(By.id("transfer-amount")).getAttribute("aria-invalid")).isEqualTo("true");
        assertThat(browser.driver().findElement(By.id("transfer-form-error")).isDisplayed()).isFalse();
        checkPage("transfer-error", "/api/money_transfer");
        assertThat(balance(payer, transferSeq)).isEqualTo(68_000);

        // An account that does not exist: under the account number.
        type("transfer-to", "9999999999999999");
        type("transfer-amount", "1");
        browser.driver().findElement(By.id("transfer-submit")).click();
        assertThat(browser.waitFor(By.id("transfer-to-error")).getText())
                .isEqualTo("The recipient account does not exist.");
        assertThat(browser.consoleErrors("/api/money_transfer")).isEmpty();

        // The statement, newest first, 20 lines a page: the transfer and 19 withdrawals, then the oldest.
        browser.driver().findElement(By.cssSelector("#nav-in a[href='#account']")).click();
        browser.waitForText(By.id("account-balance"), "$680.00");
        List<List<String>> firstPage = statementLines();
        assertThat(firstPage).hasSize(20);
        assertThat(firstPage.getFirst()).isEqualTo(List.of("To " + grouped(payee.number()), "−$300.00", "$680.00"));
        browser.driver().findElement(By.id("statement-older")).click();
        new WebDriverWait(browser.driver(), Duration.ofSeconds(10))
                .until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#statement-lines tr"), 21));
        assertThat(statementLines().getLast()).isEqualTo(List.of("Withdrawal", "−$1.00", "$999.00"));
        assertThat(browser.driver().findElement(By.id("statement-older")).isDisplayed()).isFalse();
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void anEndedSessionAsksToLogInAgainAndReturnsToTheView() throws Exception {
        TestServer.Holder holder = server.openVerifiedHolder("session@example.com");
        logIn(holder.number(), "password-session@example.com");
        browser.waitForText(By.id("account-balance"), "$1,000.00");
        browser.driver().findElement(By.linkText("Withdraw money")).click();
        browser.waitForText(By.cssSelector("#view-withdraw .form-balance"), "$1,000.00");

        js().executeScript("sessionStorage.setItem('eventbank.token', 'not-a-token')");
        type("withdraw-amount", "5");
        browser.driver().findElement(By.id("withdraw-submit")).click();
        assertThat(browser.waitFor(By.id("page-notice")).getText()).isEqualTo("Your session has ended; log in again.");
        assertThat(browser.waitFor(By.id("view-login")).isDisplayed()).isTrue();
        assertThat(js().executeScript("return sessionStorage.getItem('eventbank.token')")).isNull();
        assertThat(browser.accessibilityViolations()).isEmpty();
        assertThat(browser.consoleErrors("/api/withdraw")).isEmpty();

        logIn(holder.number(), "password-session@example.com");
        assertThat(browser.waitFor(By.id("view-withdraw")).isDisplayed()).isTrue();
        assertThat(browser.driver().getCurrentUrl()).endsWith("#withdraw");
        assertThat(server.api().get("/api/account", holder.token()).json().path("balance").asLong()).isEqualTo(100_000);
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void theHolderIsToldWhyTheAccountCannotCloseClosesItAtZeroAndDownloadsTheData() throws Exception {
        TestServer.Holder holder = server.openVerifiedHolder("closing@example.com");
        Path downloads = Files.createDirectories(temp.resolve("downloads"));
        browser.downloadTo(downloads);
        logIn(holder.number(), "password-closing@example.com");
        browser.waitForText(By.id("account-balance"), "$1,000.00");

        // Money left: the bank's refusal, with what to do, and the account stays open.
        browser.driver().findElement(By.id("close-start")).click();
        assertThat(browser.waitFor(By.id("close-question")).getText())
                .contains("Close account " + grouped(holder.number()));
        browser.driver().findElement(By.id("close-confirm-yes")).click();
        assertThat(browser.waitFor(By.id("close-error")).getText()).isEqualTo(
                "A verified account closes only at a balance of zero: transfer or withdraw what it holds first.");
        assertThat(browser.driver().findElement(By.id("close-confirm")).isDisplayed()).isFalse();
        checkPage("close-refused", "/api/account/close");

        // Cancelled, nothing happens; at zero, it closes.
        HttpApi.Response withdrawn = server.api().post("/api/withdraw", Map.of("amount", 100_000), holder.token(), null);
        assertThat(withdrawn.status()).as("withdraw: %s", withdrawn).isEqualTo(200);
        browser.driver().findElement(By.id("close-start")).click();
        browser.waitFor(By.id("close-cancel")).click();
        assertThat(browser.waitFor(By.id("close-start")).isDisplayed()).isTrue();
        assertThat(balance(holder, withdrawn.json().path("seq").asLong())).isZero();
        assertThat(server.api().get("/api/account", holder.token()).json().path("closed").asBoolean()).isFalse();
        browser.driver().findElement(By.id("close-start")).click();
        browser.waitFor(By.id("close-confirm-yes")).click();
        assertThat(browser.waitFor(By.id("account-closed")).getText()).contains("This account is closed");
        browser.waitForText(By.id("account-balance"), "$0.00");
        assertThat(browser.driver().findElement(By.id("close-card")).isDisplayed()).isFalse();
        assertThat(browser.driver().findElement(By.id("account-actions")).isDisplayed()).isFalse();
        assertThat(statementLines()).containsExactly(List.of("Withdrawal", "−$1,000.00", "$0.00"));
        assertThat(server.api().get("/api/account", holder.token()).json().path("closed").asBoolean()).isTrue();

        // The data, saved as a file: what GET /api/account/export answers, closed and all.
        assertThat(server.awaitOutbox(withdrawn.json().path("seq").asLong(), Duration.ofSeconds(30))).isTrue();
        browser.driver().findElement(By.id("export-download")).click();
        String saved = browser.waitForText(By.id("export-done"), "Saved eventbank-" + holder.number()).getText();
        assertThat(saved).contains("1 movement and 2 mails");
        String name = saved.substring("Saved ".length(), saved.indexOf(':'));
        Path file = downloads.resolve(name);
        new WebDriverWait(browser.driver(), Duration.ofSeconds(10)).until(driver -> Files.exists(file));
        JsonNode exported = new ObjectMapper().readTree(Files.readString(file));
        JsonNode fromApi = server.api().get("/api/account/export", holder.token()).json();
        ((ObjectNode) exported).remove("exported_at");
        ((ObjectNode) fromApi).remove("exported_at");
        assertThat(exported).isEqualTo(fromApi);
        assertThat(exported.at("/profile/closed").asBoolean()).isTrue();
        assertThat(exported.path("movements").findValuesAsText("type")).containsExactly("withdrawal");
        assertThat(exported.path("mails").findValuesAsText("kind")).containsExactly("verification", "withdrawal");
        checkPage("closed");
    }

    /** Opens an account through the #open form; its number, read from the "check your mail" view. */
    private String openInTheBrowser(String email, boolean screenshots) throws Exception {
        browser.go(server.url("/#open"));
        browser.waitFor(By.id("open-email"));
        if (screenshots) {
            checkPage("open");
        }
        type("open-email", email);
        type("open-password", "password-" + email);
        browser.driver().findElement(By.id("open-submit")).click();
        String number = browser.waitFor(By.id("check-mail-number")).getText().replace(" ", "");
        assertThat(number).matches("[1-9]\\d{15}");
        assertThat(browser.driver().findElement(By.id("check-mail-email")).getText()).isEqualTo(email);
        assertThat(browser.driver().findElement(By.id("check-mail-outbox")).getText()).contains("outbox/");
        if (screenshots) {
            checkPage("check-mail");
        }
        assertThat(browser.consoleErrors()).isEmpty();
        return number;
    }

    /** Logs in through the #login form. */
    private void logIn(String number, String password) {
        if (!browser.driver().getCurrentUrl().contains("#login")) {
            browser.go(server.url("/#login"));
        }
        browser.waitFor(By.id("login-account"));
        type("login-account", number);
        type("login-password", password);
        // From the keyboard, as the form must allow: Enter in the last field submits it.
        browser.driver().findElement(By.id("login-password")).sendKeys(Keys.ENTER);
        new WebDriverWait(browser.driver(), Duration.ofSeconds(10))
                .until(ExpectedConditions.invisibilityOfElementLocated(By.id("view-login")));
    }

    /** The holder's balance once the API's reads hold {@code minSeq}. */
    private static long balance(TestServer.Holder holder, long minSeq) throws Exception {
        return server.api().get("/api/account?min_seq=" + minSeq, holder.token()).json().path("balance").asLong();
    }

    private String logInThroughApi(String number, String email) throws Exception {
        HttpApi.Response login = server.api().post("/api/login",
                Map.of("account_number", number, "password", "password-" + email), null, null);
        return login.json().path("token").asText();
    }

    /** {@link Browser#checkAtBothWidths}, its screenshots named {@code holder-<name>}. */
    private void checkPage(String name, String... expectedRefusals) throws Exception {
        browser.checkAtBothWidths("holder-" + name, expectedRefusals);
    }

    private void type(String id, String text) {
        WebElement field = browser.driver().findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    /** The statement's lines as shown: what, amount, balance after (the time left out). */
    private List<List<String>> statementLines() {
        List<List<String>> lines = new ArrayList<>();
        for (WebElement row : browser.driver().findElements(By.cssSelector("#statement-lines tr"))) {
            List<String> cells = row.findElements(By.tagName("td")).stream().map(WebElement::getText).toList();
            lines.add(cells.subList(1, cells.size()));
        }
        return lines;
    }

    private static String grouped(String number) {
        return number.replaceAll("(\\d{4})(?=\\d)", "$1 ");
    }

    private static JavascriptExecutor js() {
        return (JavascriptExecutor) browser.driver();
    }
}
