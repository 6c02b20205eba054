package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank serve} with {@code mail.transport=smtp}, killed with SIGKILL while its mail
 * server is down: every account it acknowledged gets its verification mail after the restart,
 * exactly once, with the Message-ID the outbox derives from the event.
 */
class MailCrashProcessTest {
    private static final int ACCOUNTS = 5;

    @TempDir
    Path temp;

    @Test
    void mailOfEventsCommittedBeforeASigkillIsSentAfterTheRestartExactlyOnce() throws Exception {
        int smtpPort;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            smtpPort = free.getLocalPort();
        }
        Map<String, String> environment = Map.of(
                "EVENTBANK_MAIL_TRANSPORT", "smtp",
                "EVENTBANK_MAIL_SMTP_HOST", "127.0.0.1",
                "EVENTBANK_MAIL_SMTP_PORT", Integer.toString(smtpPort),
                "EVENTBANK_MAIL_SMTP_SECURITY", "none",
                "EVENTBANK_MAIL_FROM", "Bank <noreply@bank.example>");
        Path data = temp.resolve("data");

        // No SMTP server yet: the accounts are opened and acknowledged, their mails cannot leave.
        ServeChild first = ServeChild.start(temp, data, null, environment);
        List<String> numbers = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            HttpApi.Response opened = first.http().post("/api/account",
                    Map.of("email", "crash-" + i + "@example.com", "password", "password-" + i), null, null);
            assertThat(opened.status()).as(opened.toString()).isEqualTo(201);
            numbers.add(opened.json().get("account_number").asText());
        }
        first.process().destroyForcibly();
        assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();

        GreenMail smtp = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP))
                .withConfiguration(GreenMailConfiguration.aConfig());
        smtp.start();
        ServeChild second = ServeChild.start(temp, data, null, environment);
        try {
            assertThat(smtp.waitForIncomingEmail(120_000, ACCOUNTS)).as("every acknowledged account is mailed")
                    .isTrue();
            // One more account after the restart: once its mail is in, nothing else is on its way.
            HttpApi.Response after = second.http().post("/api/account",
                    Map.of("email", "after@example.com", "password", "password-after"), null, null);
            assertThat(after.status()).isEqualTo(201);
            assertThat(smtp.waitForIncomingEmail(120_000, ACCOUNTS + 1)).isTrue();
            MimeMessage[] received = smtp.getReceivedMessages();
            assertThat(received).hasSize(ACCOUNTS + 1);
            List<String> recipients = new ArrayList<>();
            List<String> accountsInMessageIds = new ArrayList<>();
            Pattern messageId = Pattern.compile("<eventbank\\.\\d+\\.verification\\.(\\d{16})@bank\\.example>");
            for (MimeMessage message : received) {
                recipients.add(message.getAllRecipients()[0].toString());
                Matcher matcher = messageId.matcher(message.getMessageID());
                assertThat(matcher.matches()).as(message.getMessageID()).isTrue();
                accountsInMessageIds.add(matcher.group(1));
            }
            List<String> expectedRecipients = new ArrayList<>(List.of("after@example.com"));
            for (int i = 0; i < ACCOUNTS; i++) {
                expectedRecipients.add("crash-" + i + "@example.com");
            }
            assertThat(recipients).containsExactlyInAnyOrderElementsOf(expectedRecipients);
            numbers.add(after.json().get("account_number").asText());
            assertThat(accountsInMessageIds).containsExactlyInAnyOrderElementsOf(numbers);
        } finally {
            second.process().destroy();
            second.process().waitFor(30, TimeUnit.SECONDS);
            smtp.stop();
        }
    }
}
