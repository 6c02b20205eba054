package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.engine.subscription.Subscription;
import eventbank.server.mail.ScriptedSmtpServer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /api/account/export} through a real server: the holder's profile, every movement
 * oldest first as the statement lists them, and the mails the outbox made from the account's
 * events, sent once its checkpoint passed them or set aside when the mail server refused them;
 * never the password hash, the verification link or its code.
 */
class HttpExportTest {
    private static final String OPERATOR_KEY = "operator-key-of-the-export-test-1";

    @TempDir
    Path temp;

    @Test
    void theExportHoldsTheProfileEveryMovementAndTheMailsSent() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("operator.key", OPERATOR_KEY))) {
            HttpApi http = server.http;
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            long aliceNumber = Long.parseLong(alice.number());
            String code = server.verificationQuery(alice.number()).replaceFirst(".*code=", "");

            ok(http.post("/api/money_transfer", Map.of("to_account_number", bob.number(), "amount", 100_00),
                    alice.token(), null));
            ok(http.post("/api/money_transfer", Map.of("to_account_number", alice.number(), "amount", 25_00),
                    bob.token(), null));
            long firstWithdrawal = ok(http.post("/api/withdraw", Map.of("amount", 500_00), alice.token(), null));
            long lastWithdrawal = ok(http.post("/api/withdraw", Map.of("amount", 425_00), alice.token(), null));
            long closedSeq = ok(http.post("/api/account/close", Map.of(), alice.token(), null));
            awaitOutboxDelivered(server, lastWithdrawal);
            assertThat(server.service.outbox().checkpointSeq()).isGreaterThanOrEqualTo(lastWithdrawal);

            Instant before = Instant.now();
            HttpApi.Response reply = http.get("/api/account/export?min_seq=" + closedSeq, alice.token());
            assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
            assertThat(reply.header("Cache-Control")).isEqualTo("no-store");
            JsonNode export = reply.json();
            assertThat(fieldNames(export)).containsExactly("exported_at", "as_of_seq", "profile", "movements", "mails");
            assertThat(Instant.parse(export.path("exported_at").asText())).isBetween(before.minusSeconds(1),
                    Instant.now().plusSeconds(1));
            assertThat(export.path("as_of_seq").asLong()).isGreaterThanOrEqualTo(closedSeq);

            JsonNode account = http.get("/api/account?min_seq=" + closedSeq, alice.token()).json();
            JsonNode profile = export.path("profile");
            assertThat(profile).isEqualTo(account);
            assertThat(profile.path("account_number").asText()).isEqualTo(alice.number());
            assertThat(profile.path("email").asText()).isEqualTo("alice@example.com");
            assertThat(profile.path("verified").asBoolean()).isTrue();
            assertThat(profile.path("closed").asBoolean()).isTrue();
            assertThat(profile.path("balance").asLong()).isZero();

            // Every movement, oldest first: the statement's lines, which are newest first, reversed.
            JsonNode statement = http.get("/api/account/transactions?limit=100&min_seq=" + closedSeq, alice.token())
                    .json().path("transactions");
            List<JsonNode> oldestFirst = new ArrayList<>();
            statement.forEach(line -> oldestFirst.addFirst(line));
            assertThat(export.path("movements")).containsExactlyElementsOf(oldestFirst);
            assertThat(export.path("movements").findValuesAsText("type"))
                    .containsExactly("transfer_out", "transfer_in", "withdrawal", "withdrawal");
            assertThat(export.path("movements").findValuesAsText("balance_after"))
                    .containsExactly("90000", "92500", "42500", "0");

            long openedSeq = server.service.readModels().accounts().account(aliceNumber).orElseThrow().openedSeq();
            JsonNode mails = export.path("mails");
            assertThat(mails).hasSize(3);
            assertMail(mails.get(0), openedSeq, "verification", "Confirm your eventbank account");
            assertThat(mails.get(0).path("time").asText()).isEqualTo(profile.path("opened_at").asText());
            assertMail(mails.get(1), firstWithdrawal, "withdrawal",
                    "Withdrawal of $500.00 from your eventbank account");
            assertMail(mails.get(2), lastWithdrawal, "withdrawal",
                    "Withdrawal of $425.00 from your eventbank account");
            assertThat(mails.get(2).path("time").asText()).isEqualTo(export.at("/movements/3/time").asText());

            String hash = server.service.readModels().accounts().account(aliceNumber).orElseThrow().passwordHash();
            assertThat(hash).startsWith("$2");
            assertThat(reply.body()).doesNotContain(hash).doesNotContain(code).doesNotContain("code=")
                    .doesNotContain("/api/verify").doesNotContain("password");

            // Bob's holds only his own: his movements and his opening's mail, and he is not closed.
            JsonNode bobs = http.get("/api/account/export?min_seq=" + closedSeq, bob.token()).json();
            assertThat(bobs.path("profile").path("closed").asBoolean()).isFalse();
            assertThat(bobs.path("profile").path("balance").asLong()).isEqualTo(1_075_00);
            assertThat(bobs.path("movements").findValuesAsText("type")).containsExactly("transfer_in", "transfer_out");
            assertThat(bobs.path("mails").findValuesAsText("kind")).containsExactly("verification");
            assertThat(bobs.toString()).doesNotContain("alice@example.com");

            HttpApi.Response anonymous = http.get("/api/account/export", null);
            assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(401);
            assertThat(anonymous.error()).isEqualTo("missing_token");
            assertThat(http.get("/api/account/export", "not.a.token").status()).isEqualTo(401);
            HttpApi.Response beyond = http.get("/api/account/export?min_seq=" + (closedSeq + 1_000), alice.token());
            assertThat(beyond.status()).as(beyond.toString()).isEqualTo(400);
            assertThat(beyond.error()).isEqualTo("invalid_query");
        }
    }

    @Test
    void aMailTheServerRefusedForGoodIsNotSentAndSaysWhy() throws Exception {
        try (ScriptedSmtpServer smtp = new ScriptedSmtpServer("250 ok", "550 5.1.1 no such mailbox", "250 ok",
                "nobody@example.com");
             TestServer server = TestServer.start(temp.resolve("data"), Map.of("mail.transport", "smtp",
                     "mail.smtp.host", "127.0.0.1", "mail.smtp.port", Integer.toString(smtp.port()),
                     "mail.smtp.security", "none", "mail.from", "bank@bank.example"))) {
            String nobody = server.open("nobody@example.com");
            long openedSeq = server.service.engine().committedSeq();
            awaitOutboxDelivered(server, openedSeq);
            assertThat(server.service.outbox().mailsSetAside()).isEqualTo(1);
            assertThat(server.service.outbox().checkpointSeq()).as("a mail set aside is done with")
                    .isGreaterThanOrEqualTo(openedSeq);

            String token = server.login(nobody, "password-nobody@example.com");
            HttpApi.Response reply = server.http.get("/api/account/export", token);
            assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
            JsonNode mails = reply.json().path("mails");
            assertThat(mails).hasSize(1);
            JsonNode mail = mails.get(0);
            assertThat(mail.path("seq").asLong()).isEqualTo(openedSeq);
            assertThat(mail.path("kind").asText()).isEqualTo("verification");
            assertThat(mail.path("to").asText()).isEqualTo("nobody@example.com");
            assertThat(mail.path("sent").asBoolean()).isFalse();
            assertThat(mail.path("set_aside_reason").asText()).contains("550").contains("no such mailbox");
            assertThat(reply.json().path("profile").path("verified").asBoolean()).isFalse();
            assertThat(reply.json().path("movements")).isEmpty();
        }
    }

    private static void assertMail(JsonNode mail, long seq, String kind, String subject) {
        assertThat(mail.path("seq").asLong()).as(mail.toString()).isEqualTo(seq);
        assertThat(mail.path("kind").asText()).as(mail.toString()).isEqualTo(kind);
        assertThat(mail.path("to").asText()).as(mail.toString()).isEqualTo("alice@example.com");
        assertThat(mail.path("subject").asText()).as(mail.toString()).isEqualTo(subject);
        assertThat(mail.path("sent").asBoolean()).as(mail.toString()).isTrue();
        assertThat(mail.path("set_aside_reason").isNull()).as(mail.toString()).isTrue();
    }

    /** The reply's seq, once it is a 200. */
    private static long ok(HttpApi.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json().path("seq").asLong();
    }

    /** Waits until the outbox has been handed, and has handled, every event up to {@code seq}. */
    private static void awaitOutboxDelivered(TestServer server, long seq) throws InterruptedException {
        Subscription outbox = server.service.engine().subscriptions().stream()
                .filter(s -> s.name().equals("outbox")).findFirst().orElseThrow();
        assertThat(outbox.awaitDelivered(seq, 30_000)).as("the outbox reached seq " + seq).isTrue();
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
