package eventbank.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/** The verification link, opened in a real browser: a page of the app that leads on to log in. */
class LandingPageBrowserTest {
    @TempDir
    Path temp;

    @Test
    void theMailedLinkVerifiesTheAccountAndLeadsToLogIn() throws Exception {
        try (WebServer server = WebServer.start(temp); Browser browser = Browser.start()) {
            String number = server.open("landing@example.com");
            String link = server.verificationLink(number);

            browser.go(link);
            assertThat(browser.waitFor(By.tagName("h1")).getText()).isEqualTo("Email address confirmed");
            assertThat(browser.driver().findElement(By.cssSelector(".account-number")).getText()).isEqualTo(number);
            assertThat(browser.driver().findElement(By.linkText("Log in")).getAttribute("href"))
                    .endsWith("/#login?account=" + number);
            browser.checkAtBothWidths("landing-verified");

            String other = server.open("landing-forged@example.com");
            browser.go(server.verificationLink(other).replaceFirst("code=[^&]+", "code=forged"));
            assertThat(browser.waitFor(By.cssSelector("[role=alert]")).getText()).isNotBlank();
            assertThat(browser.driver().findElement(By.linkText("Send a new link")).isDisplayed()).isTrue();
            browser.checkAtBothWidths("landing-refused", "/api/verify");
        }
    }
}
