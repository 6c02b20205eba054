package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.money_commands_per_minute} (finding 9 of docs/RELIABILITY.md): two accounts
 * can no longer send each other a cent back and forth without end. The limiter reads the
 * server's clock, which these tests hold still or move by hand, so that the outcome does not
 * depend on how fast the machine sends the requests.
 */
class HttpMoneyCommandLimitTest {
    @TempDir
    Path temp;

    @Test
    void theSixtyFirstMoneyCommandOfAMinuteIsRefusedWithRetryAfterAndRecordsNothing() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of(), new MovableClock())) {
            assertThat(server.config.limits().moneyCommandsPerMinute()).isEqualTo(60);
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            for (int i = 0; i < 30; i++) {
                assertThat(transfer(server, alice, bob, 1).status()).isEqualTo(200);
                assertThat(transfer(server, bob, alice, 1).status()).isEqualTo(200);
            }
            for (int i = 0; i < 30; i++) {
                assertThat(server.http.post("/api/withdraw", Map.of("amount", 1), alice.token(), null).status())
                        .isEqualTo(200);
            }
            long committed = server.service.engine().committedSeq();
            long balance = balance(server, alice);

            HttpApi.Response transfer = transfer(server, alice, bob, 1);
            tooManyRequests(transfer, 1);
            tooManyRequests(server.http.post("/api/withdraw", Map.of("amount", 1), alice.token(), "key-1"), 1);
            tooManyRequests(batch(server, alice, bob, 1, true), 1);

            assertThat(server.service.engine().committedSeq()).as("nothing recorded").isEqualTo(committed);
            assertThat(balance(server, alice)).isEqualTo(balance);
            assertThat(server.http.get("/api/account", alice.token()).status())
                    .as("reading the account is no money command").isEqualTo(200);
            assertThat(server.http.post("/api/withdraw", Map.of("amount", 1), bob.token(), null).status())
                    .as("the limit is per account: bob has used 30").isEqualTo(200);
        }
    }

    @Test
    void aBatchCountsEachTransferAndIsTakenWholeOrRefusedWhole() throws Exception {
        MovableClock clock = new MovableClock();
        try (TestServer server = TestServer.start(temp.resolve("data"),
                Map.of("limits.money_commands_per_minute", "10"), clock)) {
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            HttpApi.Response badKey = batch(server, alice, bob, 10, true, "k".repeat(256));
            assertThat(badKey.status()).as("a malformed request, not counted").isEqualTo(400);
            assertThat(batch(server, alice, bob, 8, true).status()).isEqualTo(200);
            long committed = server.service.engine().committedSeq();

            // 2 of the minute's 10 are left, one more every 6 seconds: 3 fit in 6 seconds.
            tooManyRequests(batch(server, alice, bob, 3, false), 6);
            tooManyRequests(batch(server, alice, bob, 3, true), 6);
            assertThat(server.service.engine().committedSeq()).as("nothing of either batch recorded")
                    .isEqualTo(committed);

            HttpApi.Response neverFits = batch(server, alice, bob, 11, true);
            assertThat(neverFits.status()).as(neverFits.toString()).isEqualTo(400);
            assertThat(neverFits.error()).isEqualTo("invalid_field");
            assertThat(neverFits.json().get("message").asText()).contains("limits.money_commands_per_minute");

            HttpApi.Response lastTwo = batch(server, alice, bob, 2, false);
            assertThat(lastTwo.status()).as(lastTwo.toString()).isEqualTo(200);
            assertThat(lastTwo.json().get("results").findValues("seq")).hasSize(2);
            tooManyRequests(transfer(server, alice, bob, 1), 6);

            clock.advance(Duration.ofSeconds(6));
            assertThat(transfer(server, alice, bob, 1).status()).as("a token back after 6 seconds").isEqualTo(200);
            tooManyRequests(transfer(server, alice, bob, 1), 6);
            clock.advance(Duration.ofMinutes(1));
            assertThat(batch(server, alice, bob, 10, false).status()).as("a full minute later, all 10")
                    .isEqualTo(200);
        }
    }

    @Test
    void aLimitOfZeroNeverLimits() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"),
                Map.of("limits.money_commands_per_minute", "0"), new MovableClock())) {
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            assertThat(batch(server, alice, bob, 1_000, true).status()).isEqualTo(200);
            for (int i = 0; i < 100; i++) {
                assertThat(transfer(server, alice, bob, 1).status()).isEqualTo(200);
            }
        }
    }

    private static void tooManyRequests(HttpApi.Response response, long retryAfterSeconds) {
        assertThat(response.status()).as(response.toString()).isEqualTo(429);
        assertThat(response.error()).isEqualTo("too_many_requests");
        assertThat(response.json().get("message").asText()).contains("a minute");
        assertThat(response.header("Retry-After")).isEqualTo(Long.toString(retryAfterSeconds));
    }

    private static HttpApi.Response transfer(TestServer server, TestServer.Holder from, TestServer.Holder to,
                                             long amount) throws Exception {
        return server.http.post("/api/money_transfer", Map.of("to_account_number", to.number(), "amount", amount),
                from.token(), null);
    }

    private static HttpApi.Response batch(TestServer server, TestServer.Holder from, TestServer.Holder to,
                                          int transfers, boolean atomic) throws Exception {
        return batch(server, from, to, transfers, atomic, null);
    }

    private static HttpApi.Response batch(TestServer server, TestServer.Holder from, TestServer.Holder to,
                                          int transfers, boolean atomic, String idempotencyKey) throws Exception {
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < transfers; i++) {
            items.add(Map.of("to_account_number", to.number(), "amount", 1));
        }
        return server.http.post("/api/money_transfers", Map.of("transfers", items, "atomic", atomic), from.token(),
                idempotencyKey);
    }

    private static long balance(TestServer server, TestServer.Holder holder) throws Exception {
        return server.http.get("/api/account?min_seq=" + server.service.engine().committedSeq(), holder.token())
                .json().get("balance").asLong();
    }
}
