package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.server.mail.VerificationResender;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /api/verify/resend}: 202 whatever the account, a link only for an unverified one, limits. */
class HttpResendTest {
    private static final String RESENT_SUFFIX = "-verification-resent.eml";

    @TempDir
    Path temp;

    @Test
    void anUnverifiedAccountGetsItsLinkAgainAndTheResentLinkVerifiesIt() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            String number = server.open("Ada@Example.com");
            String firstLink = server.verificationQuery(number);

            HttpApi.Response resent = server.http.post("/api/verify/resend", Map.of("email", "ada@EXAMPLE.com"),
                    null, null);
            assertThat(resent.status()).as(resent.toString()).isEqualTo(202);
            assertThat(resent.body()).isEqualTo("{}");
            Path file = awaitResentFile(server);
            MimeMessage message = read(file);
            Path original = only(server.dataDirectory.resolve("outbox"), "-verification.eml");
            assertThat(message.getMessageID()).as("a Message-ID of its own").isNotEqualTo(read(original).getMessageID())
                    .contains(".verification-resent." + number + ".");
            assertThat(message.getAllRecipients()[0].toString()).isEqualTo("Ada@Example.com");
            String console = server.consoleText();
            assertThat(console.split("verification link for Ada@Example.com", -1))
                    .as("the file transport prints the link again: " + console).hasSize(3);
            assertThat(console.substring(console.lastIndexOf("verification link"))).contains(firstLink);
            String text = (String) ((MimeMultipart) message.getContent()).getBodyPart(0).getContent();
            assertThat(text).as("the same link as the first mail").contains(firstLink);
            HttpApi.Response verified = server.http.get("/api/verify?" + firstLink, null);
            assertThat(verified.status()).as("the resent link is the first one, and it works").isEqualTo(200);

            String metrics = server.http.get("/metrics", null).body();
            assertThat(metrics).containsPattern("(?m)^eventbank_mail_sent_total\\{by=\"outbox\"\\} 1\\.0$")
                    .containsPattern("(?m)^eventbank_mail_sent_total\\{by=\"resender\"\\} 1\\.0$")
                    .containsPattern("(?m)^eventbank_mail_set_aside_total 0\\.0$")
                    .containsPattern("(?m)^eventbank_mail_resends_dropped_total 0\\.0$");
        }
    }

    @Test
    void theAnswerIsTheSameForUnknownVerifiedAndUnverifiedAccountsButOnlyTheUnverifiedOneIsMailed()
            throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            TestServer.Holder verified = server.openVerifiedHolder("verified@example.com");
            String unverified = server.open("unverified@example.com");
            server.verificationQuery(unverified);
            VerificationResender resender = server.service.resender();

            for (Map<String, String> body : new Map[] {
                    Map.of("email", "nobody@example.com"),
                    Map.of("account_number", "9999999999999999"),
                    Map.of("email", "verified@example.com"),
                    Map.of("account_number", verified.number()),
                    Map.of("account_number", unverified)}) {
                HttpApi.Response response = server.http.post("/api/verify/resend", body, null, null);
                assertThat(response.status()).as(body.toString()).isEqualTo(202);
                assertThat(response.body()).as(body.toString()).isEqualTo("{}");
            }
            // The resends are queued in order: once the last one is out, the others made no mail.
            awaitCount(resender::sent, 1);
            assertThat(resender.failed()).isZero();
            assertThat(only(server.dataDirectory.resolve("outbox"), RESENT_SUFFIX).getFileName().toString())
                    .isEqualTo(String.format("%020d", openedSeq(server, unverified)) + RESENT_SUFFIX);
        }
    }

    @Test
    void oneAccountIsSentItsLinkAtMostOnceAMinuteHoweverOftenItIsAskedFor() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("http.open_rate_per_minute", "0"))) {
            String flooded = server.open("flooded@example.com");
            String other = server.open("other@example.com");
            VerificationResender resender = server.service.resender();
            for (int i = 0; i < 5; i++) {
                HttpApi.Response response = server.http.post("/api/verify/resend",
                        Map.of("account_number", flooded), null, null);
                assertThat(response.status()).as("no sign of the limit in the answer").isEqualTo(202);
            }
            server.http.post("/api/verify/resend", Map.of("account_number", other), null, null);
            // Resends go out in the order asked for: once the other account's is out, the flood's are too.
            Path otherFile = server.dataDirectory.resolve("outbox")
                    .resolve(String.format("%020d", openedSeq(server, other)) + RESENT_SUFFIX);
            Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
            while (!Files.exists(otherFile) && Instant.now().isBefore(deadline)) {
                Thread.sleep(10);
            }
            assertThat(otherFile).exists();
            awaitCount(resender::sent, 2);
            assertThat(resender.dropped()).isZero();
        }
    }

    @Test
    void aClientAddressIsLimitedLikeOpeningsButCountedApart() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("http.open_rate_per_minute", "2"))) {
            server.open("first@example.com");
            server.open("second@example.com");
            for (int i = 0; i < 2; i++) {
                HttpApi.Response accepted = server.http.post("/api/verify/resend",
                        Map.of("email", "someone-" + i + "@example.com"), null, null);
                assertThat(accepted.status()).as("openings do not use up resends").isEqualTo(202);
            }
            HttpApi.Response refused = server.http.post("/api/verify/resend", Map.of("email", "first@example.com"),
                    null, null);
            assertThat(refused.status()).as(refused.toString()).isEqualTo(429);
            assertThat(refused.error()).isEqualTo("too_many_attempts");
            assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, 30L);
            assertThat(server.service.resender().sent() + server.service.resender().dropped()).isZero();
        }
    }

    @Test
    void malformedRequestsAreRefusedForWhatTheyAre() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            String number = server.open("ada@example.com");
            Object[][] cases = {
                    {Map.of("email", "ada@example.com", "account_number", number), 400, "invalid_field"},
                    {Map.of(), 400, "invalid_field"},
                    {Map.of("account_number", "123"), 400, "invalid_field"},
                    {Map.of("account_number", Long.parseLong(number)), 400, "invalid_field"},
                    {Map.of("email", 42), 400, "invalid_field"},
                    {Map.of("email", "ada@example.com", "password", "x"), 400, "unknown_field"}};
            for (Object[] row : cases) {
                HttpApi.Response response = server.http.post("/api/verify/resend", row[0], null, null);
                assertThat(response.status()).as(row[0] + " → " + response).isEqualTo(row[1]);
                assertThat(response.error()).as(row[0].toString()).isEqualTo(row[2]);
            }
            assertThat(server.http.postRaw("/api/verify/resend", "{\"email\":", "application/json", null, null)
                    .error()).isEqualTo("malformed_json");
            assertThat(server.http.postRaw("/api/verify/resend", "{\"email\":\"ada@example.com\"}", "text/plain",
                    null, null).status()).isEqualTo(415);
            assertThat(server.service.resender().sent() + server.service.resender().dropped()).isZero();
        }
    }

    private static long openedSeq(TestServer server, String number) {
        return server.service.readModels().accounts().account(Long.parseLong(number)).orElseThrow().openedSeq();
    }

    private static void awaitCount(LongSupplier count, long expected) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (count.getAsLong() < expected && Instant.now().isBefore(deadline)) {
            Thread.sleep(10);
        }
        assertThat(count.getAsLong()).isEqualTo(expected);
    }

    private static Path awaitResentFile(TestServer server) throws Exception {
        awaitCount(server.service.resender()::sent, 1);
        return only(server.dataDirectory.resolve("outbox"), RESENT_SUFFIX);
    }

    private static Path only(Path directory, String suffix) throws Exception {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).reduce((a, b) -> {
                throw new AssertionError("more than one " + suffix + ": " + a + ", " + b);
            }).orElseThrow(() -> new AssertionError("no " + suffix + " in " + directory));
        }
    }

    private static MimeMessage read(Path file) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("mail.mime.allowutf8", "true");
        try (InputStream in = Files.newInputStream(file)) {
            return new MimeMessage(Session.getInstance(properties), in);
        }
    }
}
