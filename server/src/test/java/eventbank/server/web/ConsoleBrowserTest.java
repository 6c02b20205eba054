package eventbank.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.server.http.HttpApi;
import eventbank.server.http.TestServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The operator's story in a real browser against a real server: the console asks for the
 * operator key, finds a transfer in the explorer, travels to the seq before it, and runs a
 * what-if without it in which the withdrawal it paid for is refused.
 */
class ConsoleBrowserTest {
    /** The opening balance of every account (DESIGN.md): $1,000.00. */
    private static final String OPENING = "$1,000.00";

    @TempDir
    Path temp;

    @Test
    void operatorFindsATransferTravelsBeforeItAndSeesWhatWouldHappenWithoutIt() throws Exception {
        try (WebServer server = WebServer.start(temp); Browser browser = Browser.start()) {
            TestServer.Holder a = server.openVerifiedHolder("console-a@example.com");
            TestServer.Holder b = server.openVerifiedHolder("console-b@example.com");
            HttpApi.Response transfer = server.api().post("/api/money_transfer",
                    Map.of("to_account_number", b.number(), "amount", 10_000), a.token(), "console-transfer");
            assertThat(transfer.status()).as("%s", transfer).isEqualTo(200);
            long transferSeq = transfer.json().path("seq").asLong();
            HttpApi.Response withdrawal = server.api().post("/api/withdraw", Map.of("amount", 105_000), b.token(),
                    "console-withdrawal");
            assertThat(withdrawal.status()).as("%s", withdrawal).isEqualTo(200);
            long withdrawalSeq = withdrawal.json().path("seq").asLong();

            // The key: asked once; a wrong one shows the API's message at the field.
            browser.go(server.url("/console"));
            WebElement key = browser.waitFor(By.id("operator-key"));
            checkView(browser, "console-key");
            key.sendKeys("not-the-operator-key", Keys.ENTER);
            assertThat(browser.waitFor(By.id("operator-key-error")).getText()).contains("operator key");
            assertThat(key.getAttribute("aria-invalid")).isEqualTo("true");
            assertThat(browser.consoleErrors("/api/admin/audit/head")).isEmpty();
            key.clear();
            key.sendKeys(WebServer.OPERATOR_KEY, Keys.ENTER);

            // The explorer: the transfer, found by account, readable and with its JSON.
            browser.waitForText(By.id("explorer-rows"), "MoneyWithdrawn");
            browser.driver().findElement(By.id("explorer-account")).sendKeys(a.number(), Keys.ENTER);
            browser.waitForText(By.id("explorer-status"), "3 events");
            List<WebElement> rows = browser.driver().findElements(By.cssSelector("#explorer-rows tr"));
            assertThat(rows).extracting(row -> row.findElement(By.cssSelector("td:nth-child(3)")).getText())
                    .containsExactly("AccountOpened", "AccountVerified", "MoneyTransferred");
            WebElement transferRow = rows.get(2);
            assertThat(transferRow.getAttribute("data-seq")).isEqualTo(Long.toString(transferSeq));
            assertThat(transferRow.getText()).contains(a.number(), b.number(), "$100.00");
            transferRow.findElement(By.tagName("summary")).click();
            assertThat(transferRow.findElement(By.cssSelector("pre.json")).getText())
                    .contains("\"amount\": 10000", "\"seq\": " + transferSeq);
            checkView(browser, "console-explorer");

            // Time travel to just before the transfer: both accounts as opened, and A's chart.
            browser.driver().findElement(By.linkText("Time travel")).click();
            WebElement seq = browser.waitFor(By.id("travel-seq"));
            browser.waitForText(By.id("travel-reached"), "seq " + withdrawalSeq);
            seq.clear();
            seq.sendKeys(Long.toString(transferSeq - 1), Keys.ENTER);
            browser.waitForText(By.id("travel-reached"), "seq " + (transferSeq - 1));
            assertThat(balanceAt(browser, "#travel-account-rows", a.number())).isEqualTo(OPENING);
            assertThat(balanceAt(browser, "#travel-account-rows", b.number())).isEqualTo(OPENING);
            assertThat(browser.driver().findElement(By.id("total-balance")).getText()).isEqualTo("$2,000.00");
            browser.driver().findElement(By.cssSelector("#travel-account-rows tr[data-account='" + a.number()
                    + "'] button")).click();
            WebElement chart = browser.waitFor(By.cssSelector("#history-chart svg"));
            assertThat(chart.getAttribute("aria-label"))
                    .contains(a.number(), "from " + OPENING + " to $900.00");
            assertThat(browser.driver().findElements(By.cssSelector("#history-rows tr"))).hasSize(3);
            checkView(browser, "console-time-travel");

            // What-if without the transfer: B's withdrawal is refused, and both balances differ.
            browser.driver().findElement(By.linkText("What-if")).click();
            browser.waitFor(By.id("whatif-account")).sendKeys(a.number(), Keys.ENTER);
            WebElement leaveOut = browser.waitFor(By.id("leave-out-" + transferSeq));
            browser.waitForText(By.id("whatif-events"), "AccountVerified");
            leaveOut.click();
            browser.waitForText(By.id("whatif-changes"), "Leave out seq " + transferSeq);
            browser.driver().findElement(By.id("whatif-run")).click();
            WebElement refused = browser.waitFor(By.cssSelector("#whatif-rejected-rows tr"));
            assertThat(refused.getText()).contains(Long.toString(withdrawalSeq), "MoneyWithdrawn", "insufficient_funds");
            assertThat(browser.driver().findElements(By.cssSelector("#whatif-rejected-rows tr"))).hasSize(1);
            assertThat(differenceAt(browser, a.number())).containsExactly("$900.00", OPENING, "+$100.00");
            assertThat(differenceAt(browser, b.number())).containsExactly("$50.00", OPENING, "+$950.00");
            checkView(browser, "console-what-if");

            // Dead letters (none: the file transport delivers every mail), the audit head, health.
            browser.driver().findElement(By.linkText("Dead letters")).click();
            browser.waitFor(By.id("dead-none"));
            checkView(browser, "console-dead-letters");
            browser.driver().findElement(By.linkText("Audit head")).click();
            browser.waitForText(By.id("audit-seq"), Long.toString(withdrawalSeq));
            assertThat(browser.driver().findElement(By.id("audit-hash")).getText()).matches("[0-9a-f]{64}");
            checkView(browser, "console-audit");
            browser.driver().findElement(By.linkText("Health")).click();
            browser.waitForText(By.id("health-badge"), "OK");
            assertThat(browser.waitFor(By.id("figure-rows")).getText()).contains("Events committed since start");
            checkView(browser, "console-health");

            // Following the log: an event committed now shows up in the explorer by itself.
            browser.driver().findElement(By.linkText("Events")).click();
            browser.waitFor(By.id("explorer-follow")).click();
            HttpApi.Response later = server.api().post("/api/money_transfer",
                    Map.of("to_account_number", b.number(), "amount", 1_00), a.token(), "console-later");
            assertThat(later.status()).as("%s", later).isEqualTo(200);
            browser.waitFor(By.cssSelector("#explorer-rows tr[data-seq='" + later.json().path("seq").asLong() + "']"));
            browser.driver().findElement(By.id("explorer-follow")).click();
            assertThat(browser.consoleErrors()).isEmpty();

            // Every view at phone width, as left.
            browser.phone();
            for (String[] view : new String[][] {{"Events", "console-explorer"}, {"Time travel", "console-time-travel"},
                    {"What-if", "console-what-if"}, {"Dead letters", "console-dead-letters"},
                    {"Audit head", "console-audit"}, {"Health", "console-health"}}) {
                browser.driver().findElement(By.linkText(view[0])).click();
                browser.waitFor(By.cssSelector("#main > .view:not([hidden]) h2"));
                checkView(browser, view[1]);
            }
            browser.driver().findElement(By.id("forget-key")).click();
            browser.waitFor(By.id("operator-key"));
            checkView(browser, "console-key");
        }
    }

    /**
     * Forget, asked for twice: a number that is not one is refused at its field, a cancel does
     * nothing, the bank's refusal of an open account (409 account_not_closed) is shown with its
     * message, and a closed account's holder is forgotten.
     */
    @Test
    void operatorForgetsAClosedAccountsHolderAfterTheBankRefusedAnOpenOne() throws Exception {
        try (WebServer server = WebServer.start(temp); Browser browser = Browser.start()) {
            TestServer.Holder open = server.openVerifiedHolder("still-here@example.com");
            TestServer.Holder holder = server.openVerifiedHolder("forget-me@example.com");
            assertThat(server.api().post("/api/withdraw", Map.of("amount", 100_000), holder.token(), null).status())
                    .isEqualTo(200);
            HttpApi.Response closed = server.api().post("/api/account/close", Map.of(), holder.token(), null);
            assertThat(closed.status()).as("%s", closed).isEqualTo(200);

            browser.go(server.url("/console#forget"));
            browser.waitFor(By.id("operator-key")).sendKeys(WebServer.OPERATOR_KEY, Keys.ENTER);
            WebElement number = browser.waitFor(By.id("forget-number"));
            checkView(browser, "console-forget");

            number.sendKeys("12345", Keys.ENTER);
            assertThat(browser.waitFor(By.id("forget-number-error")).getText()).contains("16 digits");
            assertThat(browser.driver().findElement(By.id("forget-confirm")).isDisplayed()).isFalse();

            number.clear();
            number.sendKeys(holder.number(), Keys.ENTER);
            assertThat(browser.waitFor(By.id("forget-question")).getText()).contains(holder.number());
            browser.driver().findElement(By.id("forget-cancel")).click();
            assertThat(browser.waitFor(By.id("forget-submit")).isDisplayed()).isTrue();
            assertThat(browser.driver().findElement(By.id("forget-problem")).isDisplayed()).isFalse();

            number.clear();
            number.sendKeys(open.number(), Keys.ENTER);
            browser.waitFor(By.id("forget-confirm-yes")).click();
            assertThat(browser.waitFor(By.id("forget-problem")).getText())
                    .contains("Only a closed account can be forgotten");
            assertThat(browser.driver().findElement(By.id("forget-done")).isDisplayed()).isFalse();
            browser.screenshot("console-forget-refused");

            number.clear();
            number.sendKeys(holder.number(), Keys.ENTER);
            browser.waitFor(By.id("forget-confirm-yes")).click();
            assertThat(browser.waitFor(By.id("forget-done")).getText())
                    .contains("The holder of account " + holder.number() + " is forgotten");
            assertThat(browser.consoleErrors("/forget")).isEmpty();
            assertThat(browser.accessibilityViolations()).isEmpty();
            browser.phone();
            checkView(browser, "console-forget-done");

            JsonNode events = server.api().operatorGet("/api/admin/events?type=AccountForgotten", WebServer.OPERATOR_KEY)
                    .json().path("events");
            assertThat(events).hasSize(1);
            assertThat(events.get(0).at("/data/account_number").asText()).isEqualTo(holder.number());
        }
    }

    /** No browser errors and no serious accessibility violation in the view; its screenshot. */
    private static void checkView(Browser browser, String name) throws Exception {
        assertThat(browser.consoleErrors()).as("browser errors in %s", name).isEmpty();
        assertThat(browser.accessibilityViolations()).as("accessibility of %s", name).isEmpty();
        ((JavascriptExecutor) browser.driver()).executeScript("window.scrollTo(0, 0)");
        browser.screenshot(name);
    }

    private static String balanceAt(Browser browser, String rows, String account) {
        return browser.driver().findElement(By.cssSelector(rows + " tr[data-account='" + account + "'] td:nth-child(2)"))
                .getText();
    }

    /** The recorded balance, the what-if balance and the difference of an account in the what-if's result. */
    private static List<String> differenceAt(Browser browser, String account) {
        return browser.driver().findElements(By.cssSelector("#whatif-difference-rows tr[data-account='" + account
                        + "'] td.num")).stream().map(WebElement::getText).toList();
    }
}
