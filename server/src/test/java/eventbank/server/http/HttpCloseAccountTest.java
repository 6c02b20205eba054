package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.history.Verifier;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /api/account/close} and the refusals around it (DESIGN.md, "Personal data"),
 * through a real server: a verified account closes at zero, an unverified one forfeits its bonus
 * (and the invariant counts it), a closed account sends and receives nothing, and an account
 * opened before personal fields were sealed can be closed but not forgotten.
 */
class HttpCloseAccountTest {
    private static final String OPERATOR_KEY = "operator-key-of-the-close-test-01";
    private static final long BONUS = Limits.OPENING_BALANCE_DEFAULT;

    @TempDir
    Path temp;

    @Test
    void closeRefusalsForfeitAndForget() throws Exception {
        Path data = temp.resolve("data");
        try (TestServer server = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY))) {
            HttpApi http = server.http;
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            String carol = server.open("carol@example.com");
            String carolToken = server.login(carol, "password-carol@example.com");

            HttpApi.Response notZero = http.post("/api/account/close", Map.of(), alice.token(), null);
            assertThat(notZero.status()).as(notZero.toString()).isEqualTo(422);
            assertThat(notZero.error()).isEqualTo("balance_not_zero");
            assertThat(http.post("/api/account/close", Map.of(), null, null).status()).isEqualTo(401);

            assertThat(http.post("/api/money_transfer", Map.of("to_account_number", bob.number(), "amount", BONUS),
                    alice.token(), null).status()).isEqualTo(200);
            HttpApi.Response closed = http.post("/api/account/close", Map.of(), alice.token(), null);
            assertThat(closed.status()).as(closed.toString()).isEqualTo(200);
            assertThat(closed.json().get("account_number").asText()).isEqualTo(alice.number());
            assertThat(closed.json().get("closed").asBoolean()).isTrue();
            assertThat(closed.json().get("forfeited").asLong()).isZero();
            long closedSeq = closed.json().get("seq").asLong();

            // The holder still logs in and reads; the account sends and receives nothing.
            String again = server.login(alice.number(), "password-alice@example.com");
            HttpApi.Response account = http.get("/api/account?min_seq=" + closedSeq, again);
            assertThat(account.json().get("closed").asBoolean()).isTrue();
            assertThat(account.json().get("balance").asLong()).isZero();
            List<HttpApi.Response> refused = new ArrayList<>();
            refused.add(http.post("/api/money_transfer", Map.of("to_account_number", alice.number(), "amount", 1),
                    bob.token(), null));
            refused.add(http.post("/api/money_transfers", Map.of("atomic", true, "transfers",
                    List.of(Map.of("to_account_number", alice.number(), "amount", 1))), bob.token(), null));
            refused.add(http.post("/api/withdraw", Map.of("amount", 1), alice.token(), null));
            refused.add(http.post("/api/money_transfer", Map.of("to_account_number", bob.number(), "amount", 1),
                    alice.token(), null));
            refused.add(http.post("/api/account/close", Map.of(), alice.token(), null));
            for (HttpApi.Response response : refused) {
                assertThat(response.status()).as(response.toString()).isEqualTo(422);
                assertThat(response.error()).as(response.toString()).isEqualTo("account_closed");
            }
            // Transfers of a batch each on its own: that one is refused in its result.
            HttpApi.Response each = http.post("/api/money_transfers", Map.of("transfers",
                    List.of(Map.of("to_account_number", alice.number(), "amount", 1))), bob.token(), null);
            assertThat(each.status()).as(each.toString()).isEqualTo(200);
            assertThat(each.json().at("/results/0/error").asText()).isEqualTo("account_closed");

            // An unverified account closes holding its bonus, and forfeits it.
            HttpApi.Response forfeit = http.post("/api/account/close", Map.of(), carolToken, null);
            assertThat(forfeit.status()).as(forfeit.toString()).isEqualTo(200);
            assertThat(forfeit.json().get("forfeited").asLong()).isEqualTo(BONUS);
            long lastSeq = forfeit.json().get("seq").asLong();
            JsonNode lines = http.get("/api/account/transactions?min_seq=" + lastSeq, carolToken).json()
                    .get("transactions");
            assertThat(lines).hasSize(1);
            assertThat(lines.get(0).get("type").asText()).isEqualTo("forfeit");
            assertThat(lines.get(0).get("amount").asLong()).isEqualTo(BONUS);
            assertThat(lines.get(0).get("balance_after").asLong()).isZero();
            // Its link no longer verifies it.
            HttpApi.Response link = http.get("/api/verify?" + server.verificationQuery(carol), null);
            assertThat(link.status()).as(link.toString()).isEqualTo(422);
            assertThat(link.error()).isEqualTo("account_closed");

            JsonNode totals = http.operatorGet("/api/admin/state", OPERATOR_KEY).json().get("totals");
            assertThat(totals.get("forfeited").asLong()).isEqualTo(BONUS);
            assertThat(totals.get("balance").asLong()).isEqualTo(totals.get("opened").asLong()
                    - totals.get("withdrawn").asLong() - totals.get("forfeited").asLong());
            HttpApi.Response historyReply = http.operatorGet("/api/admin/accounts/" + carol + "/history", OPERATOR_KEY);
            assertThat(historyReply.status()).as(historyReply.toString()).isEqualTo(200);
            JsonNode history = historyReply.json().get("items");
            assertThat(history.get(history.size() - 1).get("type").asText()).isEqualTo("forfeit");
            assertThat(history.get(history.size() - 1).get("delta").asLong()).isEqualTo(-BONUS);
            String events = http.operatorGet("/api/admin/events?type=AccountClosed", OPERATOR_KEY).body();
            assertThat(events).contains("\"forfeited\":" + BONUS).contains("\"forfeited\":0");

            // Only a closed account is forgotten (HttpForgetTest looks at what that erases).
            HttpApi.Response open = http.operatorPost("/api/admin/accounts/" + bob.number() + "/forget", "",
                    OPERATOR_KEY);
            assertThat(open.status()).as(open.toString()).isEqualTo(409);
            assertThat(open.error()).isEqualTo("account_not_closed");
            HttpApi.Response forgotten = http.operatorPost("/api/admin/accounts/" + alice.number() + "/forget", "",
                    OPERATOR_KEY);
            assertThat(forgotten.status()).as(forgotten.toString()).isEqualTo(200);
            assertThat(forgotten.json().get("forgotten").asBoolean()).isTrue();
            HttpApi.Response unknown = http.operatorPost("/api/admin/accounts/1234567890123456/forget", "",
                    OPERATOR_KEY);
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(http.operatorPost("/api/admin/accounts/" + carol + "/forget", "", "wrong-operator-key")
                    .status()).isEqualTo(401);
        }
        // The closings and forfeit replay to the same state; snapshots and read models agree.
        Verifier.Report report = Verifier.verify(new FileStorage(), data, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
        assertThat(report.ok()).as(report.toString()).isTrue();
        try (TestServer restarted = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY))) {
            JsonNode totals = restarted.http.operatorGet("/api/admin/state", OPERATOR_KEY).json().get("totals");
            assertThat(totals.get("forfeited").asLong()).isEqualTo(BONUS);
        }
    }

    /** A journal written before openings were sealed: its accounts close, and are not forgettable. */
    @Test
    void anAccountOpenedBeforeSealingClosesButIsNotForgotten() throws Exception {
        Path data = temp.resolve("before");
        long account;
        try (Engine engine = Engine.start(EngineConfig.builder(data).sealPersonalData(false).build())) {
            Outcome opened = engine.submit(new Command.OpenAccount(0, "dora@example.com", "not-a-real-hash", BONUS,
                    null)).join();
            account = ((Event.AccountOpened) ((Outcome.Committed) opened).events().get(0).event()).accountNumber();
            assertThat(engine.submit(new Command.CloseAccount(account)).join()).isInstanceOf(Outcome.Committed.class);
        }
        try (TestServer server = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY))) {
            HttpApi.Response forget = server.http.operatorPost("/api/admin/accounts/" + account + "/forget", "",
                    OPERATOR_KEY);
            assertThat(forget.status()).as(forget.toString()).isEqualTo(409);
            assertThat(forget.error()).isEqualTo("account_not_forgettable");
            assertThat(forget.json().get("message").asText()).contains("plain text").contains("closed, not forgotten");
            // Its email stays in the log, readable as before.
            assertThat(server.http.operatorGet("/api/admin/events?account=" + account, OPERATOR_KEY).body())
                    .contains("dora@example.com");
        }
    }
}
