package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.engine.ServerKey;
import eventbank.server.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 10, finding 5: an opening's Idempotency-Key fingerprint was an HMAC over the email and
 * the password, kept for good in the journal and the snapshots and shown by the event explorer;
 * with {@code server.key} beside it, password guesses cost an HMAC instead of a bcrypt. Now an
 * opening records no fingerprint and its retry is compared with the recorded values.
 */
class HttpOpeningRetryTest {
    private static final String OPERATOR_KEY = "operator-key-for-tests-0123456789";

    @TempDir
    Path temp;

    @Test
    void aRetryIsTheSameOpeningOnlyWithTheRecordedEmailAndPassword() throws Exception {
        Path data = temp.resolve("data");
        Map<String, Object> first = Map.of("email", "Ada@Example.com", "password", "correct horse 1");
        HttpApi.Response opened;
        try (TestServer server = TestServer.start(data)) {
            opened = server.http.post("/api/account", first, null, "open-ada");
            assertThat(opened.status()).as(opened.toString()).isEqualTo(201);
            assertThat(opened.header(Replies.REPLAYED_HEADER)).isNull();
            long lastSeq = server.service.engine().committedSeq();

            for (Map<String, Object> same : List.<Map<String, Object>>of(first,
                    Map.of("email", "ada@example.COM", "password", "correct horse 1"))) {
                HttpApi.Response again = server.http.post("/api/account", same, null, "open-ada");
                assertThat(again.status()).as("%s: %s", same, again).isEqualTo(201);
                assertThat(again.header(Replies.REPLAYED_HEADER)).isEqualTo("true");
                assertThat(again.body()).isEqualTo(opened.body());
            }
            for (Map<String, Object> other : List.<Map<String, Object>>of(
                    Map.of("email", "Ada@Example.com", "password", "correct horse 2"),
                    Map.of("email", "eve@example.com", "password", "correct horse 1"),
                    Map.of("email", "ada@example.org", "password", "correct horse 1"))) {
                HttpApi.Response reused = server.http.post("/api/account", other, null, "open-ada");
                assertThat(reused.status()).as("%s: %s", other, reused).isEqualTo(409);
                assertThat(reused.error()).isEqualTo("idempotency_key_reused");
                assertThat(reused.header(Replies.REPLAYED_HEADER)).isNull();
            }
            assertThat(server.service.engine().committedSeq()).as("the retries recorded nothing").isEqualTo(lastSeq);
        }
        // After a restart the key is known again from the journal, and compared the same way.
        try (TestServer server = TestServer.start(data)) {
            HttpApi.Response again = server.http.post("/api/account", first, null, "open-ada");
            assertThat(again.status()).as(again.toString()).isEqualTo(201);
            assertThat(again.header(Replies.REPLAYED_HEADER)).isEqualTo("true");
            assertThat(again.body()).isEqualTo(opened.body());
            HttpApi.Response reused = server.http.post("/api/account",
                    Map.of("email", "Ada@Example.com", "password", "correct horse 2"), null, "open-ada");
            assertThat(reused.error()).isEqualTo("idempotency_key_reused");
        }
    }

    /**
     * The value the old build recorded for an opening (base64url of HMAC-SHA256 under the key
     * derived from {@code server.key}, over route, email and password) and its raw and hex forms
     * appear nowhere: not in the journal, not in a snapshot, not in the event explorer, not in the
     * CLI's event lines; and no AccountOpened line has a request fingerprint.
     */
    @Test
    void nothingStoredOrShownIsAnHmacOfTheOpeningRequest() throws Exception {
        Path data = temp.resolve("data");
        String email = "grace@example.com";
        String password = "correct horse battery";
        String explorer;
        try (TestServer server = TestServer.start(data, Map.of("snapshot.every_events", "1",
                "operator.key", OPERATOR_KEY))) {
            HttpApi.Response opened = server.http.post("/api/account", Map.of("email", email, "password", password),
                    null, "open-grace");
            assertThat(opened.status()).as(opened.toString()).isEqualTo(201);
            awaitSnapshotOf(server, data);
            explorer = server.http.operatorGet("/api/admin/events", OPERATOR_KEY).body();
        }
        StringWriter cliOut = new StringWriter();
        CommandLine cli = Main.commandLine(Map.of()).setOut(new PrintWriter(cliOut)).setErr(new PrintWriter(
                new StringWriter()));
        assertThat(cli.execute("events", "--data-dir", data.toString())).isZero();
        cli.getOut().flush();
        String lines = cliOut.toString();

        byte[] fingerprintKey = Keys.derive(ServerKey.loadOrCreate(data), "eventbank idempotency fingerprint v1");
        String oldFingerprint = Keys.fingerprint(fingerprintKey, "POST /api/account",
                email + "\n" + password);
        byte[] raw = Base64.getUrlDecoder().decode(oldFingerprint);
        List<String> forms = List.of(oldFingerprint, HexFormat.of().formatHex(raw),
                new String(raw, StandardCharsets.ISO_8859_1), Base64.getEncoder().encodeToString(raw));
        Map<String, String> places = Map.of("journal", bytesUnder(data.resolve("journal")),
                "snapshots", bytesUnder(data.resolve("snapshots")), "GET /api/admin/events", explorer,
                "eventbank events", lines);
        // The email is sealed (DESIGN.md, "Personal data"); the key is not personal data.
        assertThat(places.get("journal")).doesNotContain(email).contains("open-grace");
        assertThat(places.get("snapshots")).contains("open-grace");
        for (Map.Entry<String, String> place : places.entrySet()) {
            for (String form : forms) {
                assertThat(place.getValue()).as(place.getKey()).doesNotContain(form);
            }
        }
        JsonNode event = HttpApi.MAPPER.readTree(explorer).get("events").get(0);
        assertThat(event.get("type").asText()).isEqualTo("AccountOpened");
        assertThat(event.get("data").has("request_fingerprint")).isFalse();
        assertThat(event.get("data").get("idempotency_key").asText()).isEqualTo("open-grace");
        assertThat(lines).contains("\"idempotency_key\":\"open-grace\"").doesNotContain("request_fingerprint");
    }

    /** Waits for the snapshotter, on its own thread, to write the snapshot of the last event. */
    private static void awaitSnapshotOf(TestServer server, Path data) throws InterruptedException {
        Path last = data.resolve("snapshots")
                .resolve(String.format("%020d.snap", server.service.engine().committedSeq()));
        Instant deadline = Instant.now().plusSeconds(10);
        while (!Files.exists(last) && Instant.now().isBefore(deadline)) {
            Thread.sleep(10);
        }
        assertThat(last).exists();
    }

    /** Every file under a directory, as ISO-8859-1 text (each byte one character). */
    private static String bytesUnder(Path directory) throws java.io.IOException {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                text.append(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
            }
        }
        return text.toString();
    }
}
