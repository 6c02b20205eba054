package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.ServerKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens and logins: whose money a token moves, forged tokens, throttling. */
class HttpSecurityTest {
    private static final int PARALLEL_ROUNDS = 8;
    private static final int PARALLEL_GUESSES = 50;

    @TempDir
    Path temp;

    @Test
    void aTokenMovesOnlyItsOwnAccountsMoneyAndForgedTokensAreRefused() throws Exception {
        Path data = temp.resolve("data");
        // A snapshot after every event, so that the snapshots can be searched for secrets too.
        try (TestServer server = TestServer.start(data, Map.of("snapshot.every_events", "1"))) {
            HttpApi http = server.http;
            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            TestServer.Holder b = server.openVerifiedHolder("b@example.com");

            // A's token with B as recipient moves A's money; the body cannot name a sender.
            HttpApi.Response sent = http.post("/api/money_transfer", Map.of("to_account_number", b.number(),
                    "amount", 100), a.token(), null);
            assertThat(sent.json().get("from_account_number").asText()).isEqualTo(a.number());
            HttpApi.Response forged = http.post("/api/money_transfer", Map.of("from_account_number", b.number(),
                    "to_account_number", a.number(), "amount", 100), a.token(), null);
            assertThat(forged.error()).isEqualTo("unknown_field");

            String[] parts = a.token().split("\\.");
            Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
            String payloadB = encoder.encodeToString(new String(Base64.getUrlDecoder().decode(parts[1]),
                    StandardCharsets.UTF_8).replace(a.number(), b.number()).getBytes(StandardCharsets.UTF_8));
            String tampered = parts[0] + "." + payloadB + "." + parts[2];
            String none = encoder.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
                    + payloadB + ".";
            Tokens past = new Tokens(ServerKey.loadOrCreate(data), Duration.ofMinutes(15),
                    Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC));
            String expired = past.issue(b.number().isEmpty() ? 0 : Long.parseLong(b.number())).token();
            Tokens otherKey = new Tokens(new byte[32], Duration.ofMinutes(15), Clock.systemUTC());
            String wrongKey = otherKey.issue(Long.parseLong(b.number())).token();
            for (String token : new String[] {tampered, none, expired, wrongKey}) {
                HttpApi.Response refused = http.post("/api/withdraw", Map.of("amount", 1), token, null);
                assertThat(refused.status()).as(token).isEqualTo(401);
                assertThat(refused.error()).isEqualTo("invalid_token");
            }
            HttpApi.Response accountB = http.get("/api/account", b.token());
            assertThat(accountB.json().get("balance").asLong()).isEqualTo(100_100);

            // No password, verification code or token in the journal's or the snapshots' bytes.
            String code = server.verificationQuery(a.number()).replaceAll(".*code=", "");
            Path lastSnapshot = data.resolve("snapshots")
                    .resolve(String.format("%020d.snap", server.service.engine().committedSeq()));
            Instant deadline = Instant.now().plusSeconds(10);
            while (!java.nio.file.Files.exists(lastSnapshot) && Instant.now().isBefore(deadline)) {
                Thread.sleep(10); // the snapshotter writes it on its own thread
            }
            assertThat(lastSnapshot).exists();
            String journal = bytesUnder(data.resolve("journal"));
            String snapshots = bytesUnder(data.resolve("snapshots"));
            // Sealed under the account's own key (DESIGN.md, "Personal data"): not in the clear either.
            assertThat(journal).contains("EVBKSEG1").doesNotContain("a@example.com");
            assertThat(snapshots).as("the snapshot of the last event").isNotEmpty();
            for (String stored : new String[] {journal, snapshots}) {
                assertThat(stored).doesNotContain("password-a@example.com").doesNotContain("password-b@example.com")
                        .doesNotContain(code).doesNotContain(a.token()).doesNotContain(b.token());
            }
        }
    }

    /** Every file under a directory, as ISO-8859-1 text (each byte one character). */
    private static String bytesUnder(Path directory) throws java.io.IOException {
        StringBuilder text = new StringBuilder();
        try (var files = java.nio.file.Files.walk(directory)) {
            for (Path file : files.filter(java.nio.file.Files::isRegularFile).toList()) {
                text.append(new String(java.nio.file.Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
            }
        }
        return text.toString();
    }

    @Test
    void operatorRoutesTakeTheOperatorKeyAndNothingElse() throws Exception {
        String operatorKey = "operator-key-for-tests-0123456789";
        String hash;
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("operator.key", operatorKey))) {
            TestServer.Holder holder = server.openVerifiedHolder("h@example.com");
            HttpApi.Response withToken = server.http.get("/api/admin/audit/head", holder.token());
            assertThat(withToken.status()).isEqualTo(401);
            assertThat(withToken.error()).isEqualTo("operator_key_invalid");
            for (String wrong : new String[] {null, "", operatorKey + "x", operatorKey.substring(1), holder.token()}) {
                HttpApi.Response refused = server.http.operatorGet("/api/admin/audit/head", wrong);
                assertThat(refused.status()).as(wrong).isEqualTo(401);
                assertThat(refused.error()).isEqualTo("operator_key_invalid");
            }
            HttpApi.Response head = server.http.operatorGet("/api/admin/audit/head", operatorKey);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.json().get("seq").asLong()).isEqualTo(server.service.engine().committedSeq());
            hash = head.json().get("hash").asText();
        }
        // The head is the one verify computes from the journal's bytes.
        assertThat(eventbank.engine.history.Verifier.verify(new eventbank.engine.storage.FileStorage(), temp.resolve("data"),
                eventbank.core.Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT).headHash()).isEqualTo(hash);
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            HttpApi.Response off = server.http.operatorGet("/api/admin/audit/head", operatorKey);
            assertThat(off.status()).isEqualTo(403);
            assertThat(off.error()).isEqualTo("operator_key_not_configured");
            assertThat(off.json().get("message").asText()).contains("operator.key");
        }
    }

    @Test
    void theSixthWrongPasswordIsThrottled() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            String number = server.open("t@example.com");
            for (int i = 0; i < LoginThrottle.FAILURES_MAX; i++) {
                HttpApi.Response wrong = server.http.post("/api/login",
                        Map.of("account_number", number, "password", "wrong password"), null, null);
                assertThat(wrong.status()).isEqualTo(401);
                assertThat(wrong.error()).isEqualTo("invalid_credentials");
            }
            for (String password : new String[] {"wrong password", "password-t@example.com"}) {
                HttpApi.Response throttled = server.http.post("/api/login",
                        Map.of("account_number", number, "password", password), null, null);
                assertThat(throttled.status()).isEqualTo(429);
                assertThat(throttled.error()).isEqualTo("too_many_attempts");
                assertThat(Long.parseLong(throttled.header("Retry-After"))).isBetween(1L, 15 * 60L + 1);
            }
        }
    }

    /**
     * Fifty wrong guesses sent at once get five tries, not one per guess that arrived while the
     * others were still hashing: the old throttle checked the count, hashed, then counted. On two
     * cores one round lets the old throttle through only now and then (at most one guess more
     * per round), so the test plays several rounds, each against an account of its own.
     */
    @Test
    void parallelWrongPasswordsGetFiveTriesInAll() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            for (int round = 0; round < PARALLEL_ROUNDS; round++) {
                String email = "parallel" + round + "@example.com";
                String number = server.open(email);
                Map<String, Integer> replies = guessInParallel(server, number, PARALLEL_GUESSES);
                assertThat(replies).as("round %d", round).isEqualTo(Map.of(
                        "401 invalid_credentials", LoginThrottle.FAILURES_MAX,
                        "429 too_many_attempts", PARALLEL_GUESSES - LoginThrottle.FAILURES_MAX));
                // The holder waits too until the window ends: the right password is not even checked.
                HttpApi.Response holder = server.http.post("/api/login",
                        Map.of("account_number", number, "password", "password-" + email), null, null);
                assertThat(holder.status()).isEqualTo(429);
            }
        }
    }

    /** Sends wrong passwords all at once, each on a connection opened beforehand: replies counted by status and error. */
    private static Map<String, Integer> guessInParallel(TestServer server, String number, int guesses)
            throws Exception {
        CountDownLatch ready = new CountDownLatch(guesses);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpApi.Response>> replies = new ArrayList<>();
        try (ExecutorService clients = Executors.newFixedThreadPool(guesses)) {
            for (int i = 0; i < guesses; i++) {
                String guess = "wrong password " + i;
                replies.add(clients.submit(() -> {
                    server.http.get("/health", null); // leaves an open connection in the client's pool
                    ready.countDown();
                    go.await();
                    return server.http.post("/api/login", Map.of("account_number", number, "password", guess),
                            null, null);
                }));
            }
            ready.await();
            go.countDown();
            Map<String, Integer> counts = new TreeMap<>();
            for (Future<HttpApi.Response> reply : replies) {
                HttpApi.Response response = reply.get();
                counts.merge(response.status() + " " + response.error(), 1, Integer::sum);
                if (response.status() == 429) {
                    assertThat(Long.parseLong(response.header("Retry-After"))).isBetween(1L, 15 * 60L + 1);
                }
            }
            return counts;
        }
    }

    @Test
    void aRightPasswordClearsTheCountAndTheWindowEnds() {
        Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        LoginThrottle throttle = new LoginThrottle(clock);
        for (int i = 0; i < 4; i++) {
            assertThat(throttle.attempt(7)).isZero();
        }
        assertThat(throttle.attempt(7)).as("the fifth attempt, which turns out right").isZero();
        throttle.succeeded(7);
        for (int i = 0; i < 5; i++) {
            assertThat(throttle.attempt(7)).as("attempt %d after the success", i + 1).isZero();
            now[0] = now[0].plusSeconds(60);
        }
        assertThat(throttle.attempt(7)).as("the sixth failure in 15 minutes").isEqualTo(10 * 60 + 1);
        assertThat(throttle.attempt(8)).as("another account").isZero();
        now[0] = now[0].plus(Duration.ofMinutes(10));
        assertThat(throttle.attempt(7)).as("the first failure has left the window").isZero();
        assertThat(throttle.attempt(7)).as("the next slot frees a minute later").isEqualTo(61);
    }

    @Test
    void requestLogsHoldNoCodeAndNoToken() throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger("eventbank.http");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            TestServer.Holder holder = server.openVerifiedHolder("log@example.com");
            String code = server.verificationQuery(holder.number()).replaceAll(".*code=", "");
            server.http.get("/api/account", holder.token());
            String logs = String.join("\n", appender.list.stream().map(e -> e.getFormattedMessage()).toList());
            assertThat(logs).contains("GET /api/verify 200").contains("GET /api/account 200")
                    .doesNotContain(code).doesNotContain(holder.token()).doesNotContain("password");
        } finally {
            logger.detachAppender(appender);
        }
    }
}
