package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import eventbank.server.mail.ScriptedSmtpServer;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters over HTTP: a mailbox the SMTP server refuses for good (550) is set aside, an
 * operator lists it ({@code GET /api/admin/mail/dead}) and, once a server that accepts the
 * mailbox answers on the same port (GreenMail), sends it again
 * ({@code POST /api/admin/mail/dead/{seq}/retry}): it arrives once, with its Message-ID, and the
 * list is empty.
 */
class HttpMailDeadLettersTest {
    private static final String OPERATOR_KEY = "operator-key-0123456789";
    private static final Pattern LINK = Pattern.compile("/api/verify\\?(account_number=\\d{16}&code=[A-Za-z0-9_-]+)");

    @TempDir
    Path temp;

    private int smtpPort;
    private GreenMail smtp;

    @BeforeEach
    void pickPort() throws Exception {
        // A fixed port, so that one SMTP server can follow another where the bank expects it.
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            smtpPort = free.getLocalPort();
        }
    }

    @AfterEach
    void stopSmtp() {
        if (smtp != null) {
            smtp.stop();
        }
    }

    @Test
    void aRefusedMailIsListedForOperatorsAndARetryDeliversItOnceWhenTheMailboxIsAccepted() throws Exception {
        TestServer bank;
        String nobody;
        long seq;
        String code;
        try (ScriptedSmtpServer refusing = new ScriptedSmtpServer(smtpPort, "250 ok", "550 5.1.1 no such mailbox",
                "250 ok", "nobody@example.com")) {
            bank = TestServer.start(temp.resolve("data"), Map.of(
                    "mail.transport", "smtp",
                    "mail.from", "Bank <noreply@bank.example>",
                    "mail.smtp.host", "127.0.0.1",
                    "mail.smtp.port", Integer.toString(smtpPort),
                    "mail.smtp.security", "none",
                    "public.url", "https://bank.example",
                    "operator.key", OPERATOR_KEY));
            nobody = bank.open("nobody@example.com");
            awaitSetAside(bank, 1);
            seq = bank.service.readModels().accounts().account(Long.parseLong(nobody)).orElseThrow().openedSeq();

            HttpApi.Response list = bank.http.operatorGet("/api/admin/mail/dead", OPERATOR_KEY);
            assertThat(list.status()).as(list.toString()).isEqualTo(200);
            JsonNode letters = list.json().path("dead_letters");
            assertThat(letters).hasSize(1);
            JsonNode letter = letters.get(0);
            assertThat(letter.path("seq").asLong()).isEqualTo(seq);
            assertThat(letter.path("kind").asText()).isEqualTo("verification");
            assertThat(letter.path("recipient").asText()).isEqualTo("nobody@example.com");
            assertThat(letter.path("reason").asText()).contains("550").contains("no such mailbox");
            assertThat(Instant.parse(letter.path("set_aside_at").asText())).isBefore(Instant.now().plusSeconds(1));
            assertThat(list.json().path("next_after_seq").isNull()).isTrue();
            code = bank.service.engine().verificationCodes().codeFor(Long.parseLong(nobody), seq);
            assertThat(list.body()).doesNotContain(code).doesNotContain("code=");

            // Only an operator reads or retries them: a holder's token is no key.
            String token = bank.login(nobody, "password-nobody@example.com");
            for (HttpApi.Response refused : new HttpApi.Response[] {
                    bank.http.operatorSend("GET", "/api/admin/mail/dead", null, token),
                    bank.http.operatorSend("GET", "/api/admin/mail/dead", "wrong-key-0123456789", null),
                    bank.http.operatorSend("POST", "/api/admin/mail/dead/" + seq + "/retry", null, token),
                    bank.http.operatorSend("POST", "/api/admin/mail/dead/" + seq + "/retry", "wrong", null)}) {
                assertThat(refused.status()).as(refused.toString()).isEqualTo(401);
                assertThat(refused.error()).isEqualTo("operator_key_invalid");
            }

            // Retried while the server still refuses the mailbox: 422, and it stays listed.
            HttpApi.Response again = retry(bank, seq);
            assertThat(again.status()).as(again.toString()).isEqualTo(422);
            assertThat(again.error()).isEqualTo("mail_refused");
            assertThat(again.body()).contains("no such mailbox").doesNotContain(code);
        }
        try (bank) {
            // No mail server at all: 503 with Retry-After, and it stays listed.
            HttpApi.Response down = retry(bank, seq);
            assertThat(down.status()).as(down.toString()).isEqualTo(503);
            assertThat(down.error()).isEqualTo("mail_unavailable");
            assertThat(down.header("Retry-After")).isEqualTo("60");
            assertThat(bank.http.operatorGet("/api/admin/mail/dead", OPERATOR_KEY).json().path("dead_letters"))
                    .hasSize(1);
            String messageId = bank.http.operatorGet("/api/admin/mail/dead", OPERATOR_KEY).json()
                    .path("dead_letters").get(0).path("message_id").asText();

            // A server that accepts the mailbox takes the port: the retry delivers the mail, once.
            smtp = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP))
                    .withConfiguration(GreenMailConfiguration.aConfig());
            smtp.start();
            HttpApi.Response sent = retry(bank, seq);
            assertThat(sent.status()).as(sent.toString()).isEqualTo(200);
            assertThat(sent.json().path("seq").asLong()).isEqualTo(seq);
            assertThat(sent.json().path("message_id").asText()).isEqualTo(messageId);
            assertThat(bank.http.operatorGet("/api/admin/mail/dead", OPERATOR_KEY).json().path("dead_letters"))
                    .isEmpty();
            HttpApi.Response gone = retry(bank, seq);
            assertThat(gone.status()).as(gone.toString()).isEqualTo(404);
            assertThat(gone.error()).isEqualTo("not_found");
            assertThat(retry(bank, 999_999).status()).isEqualTo(404);
            assertThat(retry(bank, "abc").status()).isEqualTo(404);

            MimeMessage[] received = smtp.getReceivedMessages();
            assertThat(received).hasSize(1);
            MimeMessage mail = received[0];
            assertThat(mail.getAllRecipients()[0].toString()).isEqualTo("nobody@example.com");
            assertThat(mail.getMessageID()).isEqualTo(messageId)
                    .isEqualTo("<eventbank." + seq + ".verification." + nobody + "@bank.example>");
            // The mail made again is the first one: its link verifies the account.
            Matcher link = LINK.matcher(new String(mail.getInputStream().readAllBytes()));
            assertThat(link.find()).isTrue();
            assertThat(link.group(1)).isEqualTo("account_number=" + nobody + "&code=" + code);
            assertThat(bank.http.get("/api/verify?" + link.group(1), null).status()).isEqualTo(200);
            assertThat(bank.http.get("/metrics", null).body())
                    .containsPattern("(?m)^eventbank_mail_sent_total\\{by=\"outbox\"\\} 1\\.0$");
        }
        assertThat(smtp.getReceivedMessages()).as("nothing more after the retry").hasSize(1);
    }

    private static HttpApi.Response retry(TestServer bank, Object seq) throws Exception {
        return bank.http.operatorSend("POST", "/api/admin/mail/dead/" + seq + "/retry", OPERATOR_KEY, null);
    }

    private static void awaitSetAside(TestServer bank, long count) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while ((bank.service.outbox().mailsSetAside() < count
                || bank.service.outbox().checkpointSeq() < bank.service.engine().committedSeq())
                && Instant.now().isBefore(deadline)) {
            Thread.sleep(10);
        }
        assertThat(bank.service.outbox().mailsSetAside()).isEqualTo(count);
    }
}
