package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safe retries with Idempotency-Key, also across a restart. */
class HttpIdempotencyTest {
    @TempDir
    Path temp;

    @Test
    void tenConcurrentRetriesRecordOneEventAndGetTheSameReply() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            TestServer.Holder b = server.openVerifiedHolder("b@example.com");
            Map<String, Object> body = Map.of("to_account_number", b.number(), "amount", 1_234);
            List<HttpApi.Response> replies = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<HttpApi.Response>> futures = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    futures.add(pool.submit(() -> server.http.post("/api/money_transfer", body, a.token(), "key-1")));
                }
                for (Future<HttpApi.Response> future : futures) {
                    replies.add(future.get());
                }
            }
            for (HttpApi.Response reply : replies) {
                assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
                assertThat(reply.json()).isEqualTo(replies.get(0).json());
            }
            assertThat(replies.stream().filter(r -> r.header("Idempotent-Replayed") == null).count()).isEqualTo(1);
            long seq = replies.get(0).json().get("seq").asLong();
            HttpApi.Response account = server.http.get("/api/account?min_seq=" + seq, a.token());
            assertThat(account.json().get("balance").asLong()).isEqualTo(100_000 - 1_234);
            HttpApi.Response statement = server.http.get("/api/account/transactions?min_seq=" + seq, a.token());
            assertThat(statement.json().get("transactions")).hasSize(1);

            HttpApi.Response other = server.http.post("/api/money_transfer",
                    Map.of("to_account_number", b.number(), "amount", 999), a.token(), "key-1");
            assertThat(other.status()).isEqualTo(409);
            assertThat(other.error()).isEqualTo("idempotency_key_reused");

            HttpApi.Response operation = server.http.get("/api/operations/key-1", a.token());
            assertThat(operation.status()).as(operation.toString()).isEqualTo(200);
            assertThat(operation.json().get("response")).isEqualTo(replies.get(0).json());
            assertThat(operation.json().get("status").asInt()).isEqualTo(200);
            // Keys are scoped to the account: B does not see A's.
            assertThat(server.http.get("/api/operations/key-1", b.token()).status()).isEqualTo(404);
            // The same key for another account is its own.
            HttpApi.Response bUses = server.http.post("/api/withdraw", Map.of("amount", 5), b.token(), "key-1");
            assertThat(bUses.status()).isEqualTo(200);
            assertThat(bUses.header("Idempotent-Replayed")).isNull();
        }
    }

    /** One clock: the engine stamps events with the server's clock, and the lookup ages keys by it too. */
    @Test
    void theServerStampsAndExpiresKeysByItsOneClock() throws Exception {
        MovableClock clock = new MovableClock(Instant.parse("2031-05-04T12:00:00.123456Z"));
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of(), clock)) {
            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            HttpApi.Response withdrawn = server.http.post("/api/withdraw", Map.of("amount", 5), a.token(), "w-1");
            assertThat(withdrawn.status()).isEqualTo(200);
            // Read-your-writes as a client asks for it: the read models may not hold the seq yet.
            String minSeq = "?min_seq=" + withdrawn.json().get("seq").asLong();
            HttpApi.Response operation = server.http.get("/api/operations/w-1" + minSeq, a.token());
            assertThat(operation.status()).as(operation.toString()).isEqualTo(200);
            assertThat(operation.json().get("time").asText()).isEqualTo("2031-05-04T12:00:00.123456Z");
            assertThat(server.http.get("/api/account" + minSeq, a.token()).json().get("opened_at").asText())
                    .isEqualTo("2031-05-04T12:00:00.123456Z");

            clock.advance(Duration.ofHours(24).plusSeconds(1));
            String token = server.login(a.number(), "password-a@example.com");
            assertThat(server.http.get("/api/operations/w-1", token).status()).as("expired by the server's clock")
                    .isEqualTo(404);
        }
    }

    @Test
    void aRejectedCommandDoesNotConsumeItsKeyAndOpeningIsIdempotentToo() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            Map<String, Object> open = Map.of("email", "o@example.com", "password", "opening pw");
            HttpApi.Response first = server.http.post("/api/account", open, null, "open-1");
            HttpApi.Response again = server.http.post("/api/account", open, null, "open-1");
            assertThat(first.status()).isEqualTo(201);
            assertThat(again.status()).isEqualTo(201);
            assertThat(again.json()).isEqualTo(first.json());
            assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");

            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            HttpApi.Response tooMuch = server.http.post("/api/withdraw", Map.of("amount", 200_000), a.token(), "w");
            assertThat(tooMuch.error()).isEqualTo("insufficient_funds");
            HttpApi.Response fine = server.http.post("/api/withdraw", Map.of("amount", 200), a.token(), "w");
            assertThat(fine.status()).isEqualTo(200);
        }
    }

    @Test
    void aRestartKeepsBalancesStatementsAndFirstReplies() throws Exception {
        Path data = temp.resolve("data");
        TestServer.Holder a;
        TestServer.Holder b;
        HttpApi.Response first;
        HttpApi.Response statementBefore;
        try (TestServer server = TestServer.start(data)) {
            a = server.openVerifiedHolder("a@example.com");
            b = server.openVerifiedHolder("b@example.com");
            first = server.http.post("/api/money_transfer", Map.of("to_account_number", b.number(), "amount", 700),
                    a.token(), "before-restart");
            assertThat(first.status()).isEqualTo(200);
            server.http.post("/api/withdraw", Map.of("amount", 300), a.token(), null);
            statementBefore = server.http.get("/api/account/transactions?min_seq=" + server.service.engine()
                    .committedSeq(), a.token());
        }
        try (TestServer server = TestServer.start(data)) {
            // The server key survives, so tokens issued before the restart stay valid until they expire.
            HttpApi.Response retry = server.http.post("/api/money_transfer",
                    Map.of("to_account_number", b.number(), "amount", 700), a.token(), "before-restart");
            assertThat(retry.status()).as(retry.toString()).isEqualTo(200);
            assertThat(retry.json()).isEqualTo(first.json());
            assertThat(retry.header("Idempotent-Replayed")).isEqualTo("true");
            long head = server.service.engine().committedSeq();
            HttpApi.Response statement = server.http.get("/api/account/transactions?min_seq=" + head, a.token());
            assertThat(statement.json()).isEqualTo(statementBefore.json());
            assertThat(server.http.get("/api/account?min_seq=" + head, a.token()).json().get("balance").asLong())
                    .isEqualTo(99_000);
            String bToken = server.login(b.number(), "password-b@example.com");
            assertThat(server.http.get("/api/account?min_seq=" + head, bToken).json().get("balance").asLong())
                    .isEqualTo(100_700);
            assertThat(server.http.get("/api/operations/before-restart", a.token()).status()).isEqualTo(200);
        }
    }
}
