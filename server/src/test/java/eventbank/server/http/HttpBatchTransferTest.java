package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /api/money_transfers}: one by one, all or none, and the bodies it refuses. */
class HttpBatchTransferTest {
    /** Batches of up to 1,000 transfers from one account: no limit of money commands a minute. */
    private static final Map<String, String> UNLIMITED = Map.of("limits.money_commands_per_minute", "0");

    private static final String ROUTE = "/api/money_transfers";

    @TempDir
    Path temp;

    private static Map<String, Object> transfer(String to, long amount) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("to_account_number", to);
        item.put("amount", amount);
        return item;
    }

    private static Map<String, Object> batch(boolean atomic, List<Map<String, Object>> transfers) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("transfers", transfers);
        body.put("atomic", atomic);
        return body;
    }

    private static long balance(HttpApi http, TestServer.Holder holder, long minSeq) throws Exception {
        HttpApi.Response account = http.get("/api/account?min_seq=" + minSeq, holder.token());
        assertThat(account.status()).as(account.toString()).isEqualTo(200);
        return account.json().get("balance").asLong();
    }

    private static long lastSeq(HttpApi http) throws Exception {
        return http.get("/health", null).json().get("last_seq").asLong();
    }

    @Test
    void oneByOneEachTransferIsDecidedOnItsOwn() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), UNLIMITED)) {
            HttpApi http = server.http;
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            String carol = server.open("carol@example.com"); // not verified
            String nobody = "9999999999999999";

            HttpApi.Response reply = http.post(ROUTE, batch(false, List.of(
                    transfer(bob.number(), 10_000),
                    transfer(carol, 100),
                    transfer(nobody, 100),
                    transfer(alice.number(), 100),
                    transfer(bob.number(), 95_000),
                    transfer(bob.number(), 20_000))), alice.token(), null);
            assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
            JsonNode results = reply.json().get("results");
            assertThat(results).hasSize(6);
            assertThat(results.get(0).get("seq").asLong()).isPositive();
            assertThat(results.get(0).size()).isEqualTo(1);
            assertThat(results.get(1).get("error").asText()).isEqualTo("recipient_not_verified");
            assertThat(results.get(1).get("message").asText()).isNotBlank();
            assertThat(results.get(2).get("error").asText()).isEqualTo("account_not_found");
            assertThat(results.get(3).get("error").asText()).isEqualTo("same_account");
            assertThat(results.get(4).get("error").asText()).isEqualTo("insufficient_funds");
            assertThat(results.get(5).get("seq").asLong()).isGreaterThan(results.get(0).get("seq").asLong());
            assertThat(reply.json().get("balance").asLong()).isEqualTo(100_000 - 10_000 - 20_000);
            assertThat(reply.json().size()).isEqualTo(2);

            long seq = results.get(5).get("seq").asLong();
            assertThat(balance(http, alice, seq)).isEqualTo(70_000);
            assertThat(balance(http, bob, seq)).isEqualTo(130_000);

            // Nothing accepted: the balance is still given.
            HttpApi.Response none = http.post(ROUTE, Map.of("transfers", List.of(transfer(carol, 1))), alice.token(),
                    null);
            assertThat(none.status()).as(none.toString()).isEqualTo(200);
            assertThat(none.json().get("results").get(0).get("error").asText()).isEqualTo("recipient_not_verified");
            assertThat(none.json().get("balance").asLong()).isEqualTo(70_000);
        }
    }

    @Test
    void allOrNoneRecordsNothingWhenOneIsRefusedAndEverythingOtherwise() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), UNLIMITED)) {
            HttpApi http = server.http;
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            TestServer.Holder carol = server.openVerifiedHolder("carol@example.com");
            long before = lastSeq(http);

            HttpApi.Response refused = http.post(ROUTE, batch(true, List.of(
                    transfer(bob.number(), 50_000),
                    transfer(carol.number(), 30_000),
                    transfer(bob.number(), 30_000))), alice.token(), null);
            assertThat(refused.status()).as(refused.toString()).isEqualTo(422);
            assertThat(refused.error()).isEqualTo("insufficient_funds");
            assertThat(refused.json().get("message").asText()).startsWith("transfers[2]: ");
            assertThat(lastSeq(http)).isEqualTo(before);
            assertThat(balance(http, alice, before)).isEqualTo(100_000);
            assertThat(balance(http, bob, before)).isEqualTo(100_000);
            assertThat(balance(http, carol, before)).isEqualTo(100_000);

            HttpApi.Response unknown = http.post(ROUTE, batch(true, List.of(
                    transfer(bob.number(), 1), transfer("9999999999999999", 1))), alice.token(), null);
            assertThat(unknown.status()).as(unknown.toString()).isEqualTo(404);
            assertThat(unknown.json().get("message").asText()).startsWith("transfers[1]: ");
            assertThat(lastSeq(http)).isEqualTo(before);

            HttpApi.Response accepted = http.post(ROUTE, batch(true, List.of(
                    transfer(bob.number(), 50_000),
                    transfer(carol.number(), 30_000),
                    transfer(bob.number(), 20_000))), alice.token(), null);
            assertThat(accepted.status()).as(accepted.toString()).isEqualTo(200);
            JsonNode results = accepted.json().get("results");
            assertThat(results).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(results.get(i).get("seq").asLong()).isEqualTo(before + 1 + i);
            }
            assertThat(accepted.json().get("balance").asLong()).isZero();
            assertThat(lastSeq(http)).isEqualTo(before + 3);
            assertThat(balance(http, bob, before + 3)).isEqualTo(170_000);
            assertThat(balance(http, carol, before + 3)).isEqualTo(130_000);

            HttpApi.Response statement = http.get("/api/account/transactions?min_seq=" + (before + 3), alice.token());
            assertThat(statement.json().get("transactions")).hasSize(3);
        }
    }

    @Test
    void anAtomicBatchRetriedWithItsKeyIsAnsweredWithTheFirstReply() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), UNLIMITED)) {
            HttpApi http = server.http;
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            TestServer.Holder carol = server.openVerifiedHolder("carol@example.com");
            Map<String, Object> body = batch(true, List.of(transfer(bob.number(), 1_000), transfer(carol.number(), 2_000),
                    transfer(bob.number(), 3_000)));

            HttpApi.Response first = http.post(ROUTE, body, alice.token(), "batch-1");
            assertThat(first.status()).as(first.toString()).isEqualTo(200);
            assertThat(first.header("Idempotent-Replayed")).isNull();
            long seq = lastSeq(http);
            // Money coming in between does not change the replayed reply.
            assertThat(http.post("/api/money_transfer", Map.of("to_account_number", alice.number(), "amount", 500),
                    bob.token(), null).status()).isEqualTo(200);
            HttpApi.Response again = http.post(ROUTE, body, alice.token(), "batch-1");
            assertThat(again.status()).as(again.toString()).isEqualTo(200);
            assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
            assertThat(again.json()).isEqualTo(first.json());
            assertThat(first.json().get("balance").asLong()).isEqualTo(94_000);

            HttpApi.Response other = http.post(ROUTE, batch(true, List.of(transfer(bob.number(), 1))), alice.token(),
                    "batch-1");
            assertThat(other.status()).as(other.toString()).isEqualTo(409);
            assertThat(other.error()).isEqualTo("idempotency_key_reused");
            HttpApi.Response single = http.post("/api/money_transfer", Map.of("to_account_number", bob.number(),
                    "amount", 1_000), alice.token(), "batch-1");
            assertThat(single.status()).as(single.toString()).isEqualTo(409);
            assertThat(lastSeq(http)).isEqualTo(seq + 1);
            assertThat(balance(http, alice, seq + 1)).isEqualTo(94_500);
        }
    }

    @Test
    void badBatchesAreRefusedWhole() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), UNLIMITED)) {
            HttpApi http = server.http;
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            long before = lastSeq(http);

            List<Map<String, Object>> tooMany = new ArrayList<>();
            for (int i = 0; i < 1_001; i++) {
                tooMany.add(transfer(bob.number(), 1));
            }
            for (boolean atomic : new boolean[] {false, true}) {
                HttpApi.Response reply = http.post(ROUTE, batch(atomic, tooMany), alice.token(), null);
                assertThat(reply.status()).as(reply.toString()).isEqualTo(400);
                assertThat(reply.error()).isEqualTo("invalid_field");
                HttpApi.Response empty = http.post(ROUTE, batch(atomic, List.of()), alice.token(), null);
                assertThat(empty.status()).as(empty.toString()).isEqualTo(400);
                assertThat(empty.error()).isEqualTo("invalid_field");
            }
            HttpApi.Response thousand = http.post(ROUTE, batch(true, tooMany.subList(0, 1_000)), alice.token(), null);
            assertThat(thousand.status()).as(thousand.toString()).isEqualTo(200);
            assertThat(thousand.json().get("results")).hasSize(1_000);
            assertThat(thousand.json().get("balance").asLong()).isEqualTo(99_000);
            before += 1_000;

            Map<String, Object> unknownField = batch(false, List.of(transfer(bob.number(), 1)));
            unknownField.put("from_account_number", bob.number());
            assertThat(http.post(ROUTE, unknownField, alice.token(), null).error()).isEqualTo("unknown_field");
            Map<String, Object> item = transfer(bob.number(), 1);
            item.put("from_account_number", bob.number());
            HttpApi.Response unknownInItem = http.post(ROUTE, batch(false, List.of(transfer(bob.number(), 1), item)),
                    alice.token(), null);
            assertThat(unknownInItem.status()).isEqualTo(400);
            assertThat(unknownInItem.error()).isEqualTo("unknown_field");
            assertThat(unknownInItem.json().get("message").asText()).startsWith("transfers[1]");
            HttpApi.Response badAmount = http.post(ROUTE, batch(false, List.of(transfer(bob.number(), 1),
                    transfer(bob.number(), 0))), alice.token(), null);
            assertThat(badAmount.status()).isEqualTo(400);
            assertThat(badAmount.json().get("message").asText()).startsWith("transfers[1]: ");
            assertThat(http.postRaw(ROUTE, "{\"transfers\": [], \"atomic\": \"yes\"}", "application/json",
                    alice.token(), null).status()).isEqualTo(400);
            assertThat(http.postRaw(ROUTE, "{\"transfers\": {}}", "application/json", alice.token(), null).error())
                    .isEqualTo("invalid_field");
            assertThat(http.postRaw(ROUTE, "{\"transfers\": [1]}", "application/json", alice.token(), null).error())
                    .isEqualTo("invalid_field");
            assertThat(http.postRaw(ROUTE, "{\"atomic\": true}", "application/json", alice.token(), null).error())
                    .isEqualTo("invalid_field");
            HttpApi.Response keyed = http.post(ROUTE, batch(false, List.of(transfer(bob.number(), 1))), alice.token(),
                    "batch-key");
            assertThat(keyed.status()).as(keyed.toString()).isEqualTo(400);
            assertThat(keyed.error()).isEqualTo("invalid_field");
            HttpApi.Response noToken = http.post(ROUTE, batch(true, List.of(transfer(bob.number(), 1))), null, null);
            assertThat(noToken.status()).isEqualTo(401);
            assertThat(lastSeq(http)).isEqualTo(before);
        }
    }
}
