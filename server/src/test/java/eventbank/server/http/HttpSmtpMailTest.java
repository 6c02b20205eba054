package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import eventbank.server.mail.ScriptedSmtpServer;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bank with {@code mail.transport=smtp} in front of a real SMTP server (GreenMail): the story
 * told by mail, SMTP outages that delay mail without delaying the bank, restarts that send
 * nothing twice, and a mail refused for good that operators list and send again.
 */
class HttpSmtpMailTest {
    private static final String OPERATOR_KEY = "operator-key-0123456789";
    private static final Pattern LINK = Pattern.compile("/api/verify\\?(account_number=\\d{16}&code=[A-Za-z0-9_-]+)");

    @TempDir
    Path temp;

    private int smtpPort;
    private GreenMail smtp;

    @BeforeEach
    void pickPort() throws Exception {
        // A fixed port, so that the SMTP server can be stopped and started again where the bank expects it.
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

    private void startSmtp() {
        smtp = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP))
                .withConfiguration(GreenMailConfiguration.aConfig());
        smtp.start();
    }

    private TestServer startBank() throws Exception {
        return startBank(smtpPort);
    }

    private TestServer startBank(int port) throws Exception {
        return startBank(port, Map.of());
    }

    private TestServer startBank(int port, Map<String, String> more) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "mail.transport", "smtp",
                "mail.from", "Bank <noreply@bank.example>",
                "mail.smtp.host", "127.0.0.1",
                "mail.smtp.port", Integer.toString(port),
                "mail.smtp.security", "none",
                "public.url", "https://bank.example"));
        settings.putAll(more);
        return TestServer.start(temp.resolve("data"), settings);
    }

    @Test
    void theWholeStoryByMail() throws Exception {
        startSmtp();
        try (TestServer bank = startBank()) {
            String alice = bank.open("alice@example.com");
            String bob = bank.open("bob@example.com");
            MimeMessage aliceMail = awaitMail("alice@example.com", "Confirm your eventbank account");
            String query = linkIn(aliceMail);
            assertThat(query).startsWith("account_number=" + alice + "&");
            assertThat(text(aliceMail)).contains("https://bank.example/api/verify?" + query);
            assertThat(bank.consoleText()).as("only the file transport prints links").doesNotContain("code=");
            assertThat(bank.http.get("/api/verify?" + query, null).status()).isEqualTo(200);
            assertThat(bank.http.get("/api/verify?" + linkIn(awaitMail("bob@example.com",
                    "Confirm your eventbank account")), null).status()).isEqualTo(200);

            String token = bank.login(alice, "password-alice@example.com");
            assertThat(bank.http.post("/api/money_transfer", Map.of("to_account_number", bob, "amount", 250_00),
                    token, null).status()).isEqualTo(200);
            assertThat(bank.http.post("/api/withdraw", Map.of("amount", 123_45), token, null).status())
                    .isEqualTo(200);
            MimeMessage notice = awaitMail("alice@example.com", "Withdrawal of $123.45 from your eventbank account");
            assertThat(text(notice)).contains("Balance after the withdrawal: $626.55");

            // A verified account asks for its link again: nothing is sent. An unverified one gets it.
            String carol = bank.open("carol@example.com");
            String carolLink = linkIn(awaitMail("carol@example.com", "Confirm your eventbank account"));
            assertThat(bank.http.post("/api/verify/resend", Map.of("email", "alice@example.com"), null, null)
                    .status()).isEqualTo(202);
            assertThat(bank.http.post("/api/verify/resend", Map.of("account_number", carol), null, null)
                    .status()).isEqualTo(202);
            assertThat(smtp.waitForIncomingEmail(10_000, 5)).isTrue();
            List<MimeMessage> toCarol = mailsTo("carol@example.com");
            assertThat(toCarol).hasSize(2);
            assertThat(linkIn(toCarol.get(1))).isEqualTo(carolLink);
            assertThat(mailsTo("alice@example.com")).hasSize(2);
        }
        assertThat(smtp.getReceivedMessages()).hasSize(5);
    }

    @Test
    void anSmtpOutageDelaysTheMailNotTheBankAndARestartSendsNothingTwice() throws Exception {
        try (TestServer bank = startBank()) {
            Instant before = Instant.now();
            String alice = bank.open("alice@example.com");
            assertThat(Duration.between(before, Instant.now())).as("the reply does not wait for mail")
                    .isLessThan(Duration.ofSeconds(5));
            // The outbox fails, and retries (0.25 s, doubling) while there is no server; then one comes up.
            Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
            while (bank.service.outbox().sendFailures() == 0 && Instant.now().isBefore(deadline)) {
                Thread.sleep(10);
            }
            assertThat(bank.service.outbox().sendFailures()).as("it did fail first").isPositive();
            startSmtp();
            String query = linkIn(awaitMail("alice@example.com", "Confirm your eventbank account"));
            assertThat(query).startsWith("account_number=" + alice + "&");
            // Stopping between the send and its checkpoint would send the mail again, by design: not this test's.
            awaitOutboxCaughtUp(bank);
        }
        try (TestServer bank = startBank()) {
            String bob = bank.open("bob@example.com");
            assertThat(linkIn(awaitMail("bob@example.com", "Confirm your eventbank account")))
                    .startsWith("account_number=" + bob + "&");
        }
        assertThat(mailsTo("alice@example.com")).as("the restart replayed the log and sent nothing again").hasSize(1);
        assertThat(smtp.getReceivedMessages()).hasSize(2);
    }

    /**
     * The outbox used to stop after ten failed attempts at one mail and wait for a restart; now
     * it retries as long as the outage lasts, the pause capped by mail.retry_backoff_max.
     */
    @Test
    void aLongOutageDelaysEveryMailUntilTheServerIsBackThenEachArrivesOnceAndTransfersGoOnMeanwhile()
            throws Exception {
        int oldAttemptsMax = 10;
        startSmtp();
        // Transfers go on for the whole outage, many more than a minute's limit for one account.
        try (TestServer bank = startBank(smtpPort, Map.of("mail.retry_backoff_max", "PT1S",
                "limits.money_commands_per_minute", "0"))) {
            String alice = bank.open("alice@example.com");
            String bob = bank.open("bob@example.com");
            assertThat(bank.http.get("/api/verify?" + linkIn(awaitMail("alice@example.com",
                    "Confirm your eventbank account")), null).status()).isEqualTo(200);
            assertThat(bank.http.get("/api/verify?" + linkIn(awaitMail("bob@example.com",
                    "Confirm your eventbank account")), null).status()).isEqualTo(200);
            String token = bank.login(alice, "password-alice@example.com");
            awaitOutboxHandledAll(bank);
            smtp.stop();
            smtp = null;

            // The outage: withdrawals whose notices wait, and transfers, all answered at once.
            for (int cents = 1; cents <= 3; cents++) {
                assertThat(bank.http.post("/api/withdraw", Map.of("amount", cents * 100), token, null).status())
                        .isEqualTo(200);
            }
            int transfers = 0;
            Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
            while (bank.service.outbox().sendFailures() <= oldAttemptsMax && Instant.now().isBefore(deadline)) {
                Instant before = Instant.now();
                HttpApi.Response transfer = bank.http.post("/api/money_transfer",
                        Map.of("to_account_number", bob, "amount", 1), token, null);
                assertThat(transfer.status()).as(transfer.toString()).isEqualTo(200);
                assertThat(Duration.between(before, Instant.now())).as("the reply does not wait for mail")
                        .isLessThan(Duration.ofSeconds(5));
                transfers++;
            }
            assertThat(bank.service.outbox().sendFailures()).as("more failed attempts than the old limit allowed")
                    .isGreaterThan(oldAttemptsMax);
            assertThat(transfers).isPositive();
            HttpApi.Response health = bank.http.get("/health", null);
            assertThat(health.json().path("status").asText()).as(health.toString()).isEqualTo("ok");
            assertThat(bank.service.outbox().checkpointSeq()).isLessThan(bank.service.engine().committedSeq());

            startSmtp();
            for (int cents = 1; cents <= 3; cents++) {
                awaitMail("alice@example.com", "Withdrawal of $" + cents + ".00 from your eventbank account");
            }
            awaitOutboxHandledAll(bank);
            HttpApi.Response account = bank.http.get("/api/account", token);
            assertThat(account.json().path("balance").asLong()).isEqualTo(1_000_00 - 6_00 - transfers);
        }
        MimeMessage[] received = smtp.getReceivedMessages();
        assertThat(received).as("the three notices, each once, and nothing sent before the outage again")
                .hasSize(3);
        assertThat(Arrays.stream(received).map(m -> {
            try {
                return m.getMessageID();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        })).doesNotHaveDuplicates();
    }

    @Test
    void aMailboxThatDoesNotExistIsSetAsideAndEverybodyElseStillGetsMail() throws Exception {
        try (ScriptedSmtpServer server = new ScriptedSmtpServer("250 ok", "550 5.1.1 no such mailbox", "250 ok",
                "nobody@example.com");
             TestServer bank = startBank(server.port())) {
            String nobody = bank.open("nobody@example.com");
            bank.open("alice@example.com");
            awaitOutboxCaughtUp(bank);
            List<String> commands = server.commands();
            int alice = commands.indexOf("RCPT TO:<alice@example.com>");
            assertThat(alice).as(commands.toString()).isPositive();
            assertThat(commands.subList(alice, commands.size())).contains("DATA");

            long seq = bank.service.readModels().accounts().account(Long.parseLong(nobody)).orElseThrow().openedSeq();
            Path deadLetter = temp.resolve("data").resolve("outbox").resolve("dead-letters")
                    .resolve(String.format("%020d-verification.txt", seq));
            assertThat(java.nio.file.Files.readString(deadLetter)).contains("to: nobody@example.com\n")
                    .contains("no such mailbox").doesNotContain("code=");
            HttpApi.Response health = bank.http.get("/health", null);
            assertThat(health.json().path("status").asText()).as(health.toString()).isEqualTo("ok");
            assertThat(bank.http.get("/metrics", null).body())
                    .containsPattern("(?m)^eventbank_mail_set_aside_total 1\\.0$")
                    .containsPattern("(?m)^eventbank_mail_sent_total\\{by=\"outbox\"\\} 1\\.0$");
        }
    }

    /**
     * A mailbox the SMTP server refuses for good (550) is set aside; an operator lists it and,
     * once a server that accepts the mailbox answers on the same port (GreenMail), sends it
     * again: it arrives once, with its Message-ID, and the list is empty.
     */
    @Test
    void aRefusedMailIsListedForOperatorsAndARetryDeliversItOnceWhenTheMailboxIsAccepted() throws Exception {
        TestServer bank;
        String nobody;
        long seq;
        String code;
        try (ScriptedSmtpServer refusing = new ScriptedSmtpServer(smtpPort, "250 ok", "550 5.1.1 no such mailbox",
                "250 ok", "nobody@example.com")) {
            bank = startBank(smtpPort, Map.of("operator.key", OPERATOR_KEY));
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
            Matcher link = LINK.matcher(text(mail));
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

    /** Waits until the outbox has sent (or set aside) the mail of every committed event. */
    private static void awaitOutboxCaughtUp(TestServer bank) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (bank.service.outbox().checkpointSeq() < bank.service.engine().committedSeq()
                && Instant.now().isBefore(deadline)) {
            Thread.sleep(10);
        }
        assertThat(bank.service.outbox().checkpointSeq()).isEqualTo(bank.service.engine().committedSeq());
    }

    /** Waits until the outbox has been handed every committed event (its checkpoint stops at the last mail). */
    private static void awaitOutboxHandledAll(TestServer bank) throws InterruptedException {
        long head = bank.service.engine().committedSeq();
        eventbank.engine.subscription.Subscription outbox = bank.service.engine().subscriptions().stream()
                .filter(s -> s.name().equals("outbox")).findFirst().orElseThrow();
        assertThat(outbox.awaitDelivered(head, 30_000)).isTrue();
    }

    private MimeMessage awaitMail(String to, String subject) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (Instant.now().isBefore(deadline)) {
            for (MimeMessage message : smtp == null ? new MimeMessage[0] : smtp.getReceivedMessages()) {
                if (message.getAllRecipients()[0].toString().equals(to) && message.getSubject().equals(subject)) {
                    return message;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no mail '" + subject + "' to " + to);
    }

    private List<MimeMessage> mailsTo(String to) {
        return Arrays.stream(smtp.getReceivedMessages()).filter(m -> {
            try {
                return m.getAllRecipients()[0].toString().equals(to);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    private static String text(MimeMessage message) throws Exception {
        return (String) ((MimeMultipart) message.getContent()).getBodyPart(0).getContent();
    }

    private static String linkIn(MimeMessage message) throws Exception {
        Matcher matcher = LINK.matcher(text(message));
        assertThat(matcher.find()).as("a link in the mail").isTrue();
        return matcher.group(1);
    }
}
