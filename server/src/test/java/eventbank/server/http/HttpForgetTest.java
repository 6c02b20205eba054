package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.core.Limits;
import eventbank.engine.history.Verifier;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.storage.FileStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forgetting a holder (DESIGN.md, "Personal data"), through a real server on real files: after
 * the forget, no file of the data directory holds the holder's email or password hash, nor a
 * digest of the email, in any encoding the code uses; the other holders' data still reads; the
 * journal still verifies, and its chain is unchanged up to the forget.
 */
class HttpForgetTest {
    private static final String OPERATOR_KEY = "operator-key-of-the-forget-test-1";
    private static final String EMAIL = "Alice.Forgotten@Example.com";

    @TempDir
    Path temp;

    @Test
    void aForgottenHoldersPersonalDataIsNowhereInTheDataDirectory() throws Exception {
        Path data = temp.resolve("data");
        String alice;
        String aliceHash;
        String bobEmail = "bob@example.com";
        long headSeq;
        String headHash;
        try (TestServer server = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY))) {
            HttpApi http = server.http;
            TestServer.Holder holder = server.openVerifiedHolder(EMAIL);
            alice = holder.number();
            TestServer.Holder bob = server.openVerifiedHolder(bobEmail);
            server.open("carol@example.com");
            assertThat(http.post("/api/money_transfer", Map.of("to_account_number", bob.number(), "amount", 40_000),
                    holder.token(), null).status()).isEqualTo(200);
            HttpApi.Response withdrawn = http.post("/api/withdraw", Map.of("amount", 60_000), holder.token(), null);
            assertThat(withdrawn.status()).isEqualTo(200);
            // The withdrawal notice is mailed (a file here) before the account goes.
            long withdrawalSeq = withdrawn.json().get("seq").asLong();
            for (var subscription : server.service.engine().subscriptions()) {
                assertThat(subscription.awaitDelivered(withdrawalSeq, 10_000)).isTrue();
            }
            assertThat(Files.list(data.resolve("outbox")).map(Path::toString)).anyMatch(name -> name.endsWith("withdrawal.eml"));
            aliceHash = server.service.readModels().accounts().account(Long.parseLong(alice)).orElseThrow().passwordHash();

            HttpApi.Response notClosed = http.operatorPost("/api/admin/accounts/" + alice + "/forget", "", OPERATOR_KEY);
            assertThat(notClosed.status()).as(notClosed.toString()).isEqualTo(409);
            assertThat(notClosed.error()).isEqualTo("account_not_closed");
            assertThat(http.post("/api/account/close", Map.of(), holder.token(), null).status()).isEqualTo(200);
            JsonNode head = http.operatorGet("/api/admin/audit/head", OPERATOR_KEY).json();
            headSeq = head.get("seq").asLong();
            headHash = head.get("hash").asText();
            assertThat(filesHolding(data, secretsOf(data, EMAIL, aliceHash))).as("before the forget").isNotEmpty();

            HttpApi.Response forgotten = http.operatorPost("/api/admin/accounts/" + alice + "/forget", "",
                    OPERATOR_KEY);
            assertThat(forgotten.status()).as(forgotten.toString()).isEqualTo(200);
            assertThat(forgotten.json().get("forgotten").asBoolean()).isTrue();
            long forgetSeq = forgotten.json().get("seq").asLong();

            // Nothing in the data directory holds the email, the hash or a digest of the email.
            assertThat(filesHolding(data, secretsOf(data, EMAIL, aliceHash))).as("after the forget").isEmpty();
            // Login fails as for anyone; the email may open a new account.
            HttpApi.Response login = http.post("/api/login", Map.of("account_number", alice,
                    "password", "password-" + EMAIL), null, null);
            assertThat(login.status()).isEqualTo(401);
            assertThat(login.error()).isEqualTo("invalid_credentials");
            // The money movements stay, the personal fields read as forgotten.
            String events = http.operatorGet("/api/admin/events?account=" + alice, OPERATOR_KEY).body();
            assertThat(events).contains("\"email\":null,\"forgotten\":true").contains("AccountForgotten")
                    .contains("\"amount\":60000").doesNotContain(EMAIL.toLowerCase(Locale.ROOT));
            JsonNode history = http.operatorGet("/api/admin/accounts/" + alice + "/history?min_seq=" + forgetSeq,
                    OPERATOR_KEY).json().get("items");
            assertThat(history.toString()).contains("withdrawal").contains("transfer_out");
            // Bob is untouched.
            assertThat(http.get("/api/account", bob.token()).json().get("email").asText()).isEqualTo(bobEmail);
            // Forgetting again records nothing and answers the same.
            assertThat(http.operatorPost("/api/admin/accounts/" + alice + "/forget", "", OPERATOR_KEY).status())
                    .isEqualTo(200);
        }
        // The journal verifies, and its chain up to the forget is the one before it.
        Verifier.Report report = Verifier.verify(new FileStorage(), data, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
        assertThat(report.ok()).as(report.toString()).isTrue();
        assertThat(chainHashAt(data, headSeq)).isEqualTo(headHash);
        // Stopped cleanly, every model wrote its checkpoint again: still nothing.
        assertThat(filesHolding(data, secretsOf(data, EMAIL, aliceHash))).as("after the stop").isEmpty();
        try (TestServer restarted = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY))) {
            HttpApi.Response login = restarted.http.post("/api/login", Map.of("account_number", alice,
                    "password", "password-" + EMAIL), null, null);
            assertThat(login.status()).isEqualTo(401);
            assertThat(restarted.login(restarted.service.readModels().accounts().accountByEmail(bobEmail).orElseThrow()
                    .accountNumber() + "", "password-" + bobEmail)).isNotBlank();
            // The email is free: a new account may take it.
            assertThat(restarted.http.post("/api/account", Map.of("email", EMAIL, "password", "a new one"), null, null)
                    .status()).isEqualTo(201);
        }
    }

    /**
     * Every byte string that would give the email or hash away, in every encoding the code uses,
     * with the keyed digest of the email under the data directory's key store.
     */
    static List<byte[]> secretsOf(Path data, String email, String passwordHash) throws Exception {
        List<byte[]> all = new ArrayList<>(secretsOf(email, passwordHash));
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            long[] keyed = keys.emailDigest(email);
            all.addAll(encodings(ByteBuffer.allocate(16).putLong(keyed[0]).putLong(keyed[1]).array()));
        }
        return all;
    }

    /** The email as typed and lower-cased, the hash, and the email's SHA-256, in every encoding the code uses. */
    static List<byte[]> secretsOf(String email, String passwordHash) throws Exception {
        List<byte[]> all = new ArrayList<>();
        for (String text : List.of(email, email.toLowerCase(Locale.ROOT), passwordHash)) {
            all.addAll(encodings(text.getBytes(StandardCharsets.UTF_8)));
        }
        all.addAll(encodings(MessageDigest.getInstance("SHA-256")
                .digest(email.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8))));
        return all;
    }

    /** {@code bytes} as they are, in hex and in base64. */
    static List<byte[]> encodings(byte[] bytes) {
        return List.of(bytes, HexFormat.of().formatHex(bytes).getBytes(StandardCharsets.US_ASCII),
                Base64.getEncoder().encodeToString(bytes).getBytes(StandardCharsets.US_ASCII));
    }

    /** The files under {@code data} that hold any of {@code secrets}, with what they hold. */
    static List<String> filesHolding(Path data, List<byte[]> secrets) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(data)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                found.addAll(holding(data.relativize(file).toString(), Files.readAllBytes(file), secrets));
            }
        }
        return found;
    }

    /** Which of {@code secrets} {@code bytes} (named {@code name}) hold. */
    static List<String> holding(String name, byte[] bytes, List<byte[]> secrets) {
        List<String> found = new ArrayList<>();
        for (int index = 0; index < secrets.size(); index++) {
            if (indexOf(bytes, secrets.get(index)) >= 0) {
                found.add(name + " (secret " + index + ")");
            }
        }
        return found;
    }

    private static int indexOf(byte[] bytes, byte[] sought) {
        outer:
        for (int at = 0; at + sought.length <= bytes.length; at++) {
            for (int i = 0; i < sought.length; i++) {
                if (bytes[at + i] != sought[i]) {
                    continue outer;
                }
            }
            return at;
        }
        return -1;
    }

    private static String chainHashAt(Path data, long seq) throws IOException {
        try (JournalReader reader = new JournalReader(new FileStorage(), data.resolve("journal"), true)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(seq)) != null) {
                if (batch.header().lastSeq() == seq) {
                    return HexFormat.of().formatHex(reader.chainHash());
                }
            }
        }
        throw new AssertionError("no batch ends at seq " + seq);
    }
}
