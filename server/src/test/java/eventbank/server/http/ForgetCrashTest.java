package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.engine.history.Verifier;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.keys.SealedPersonal;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.write.Sequencer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash between a forget's event and its erasure: the real server as a child process halts
 * ({@link Sequencer#HALT_BEFORE_ERASURE}) once the AccountForgotten is durable and before the
 * key is erased; the next start finishes the erasure, and nothing of the holder is left.
 */
class ForgetCrashTest {
    private static final String OPERATOR_KEY = "operator-key-of-the-crash-test-01";
    private static final String EMAIL = "dora.crash@example.com";

    @TempDir
    Path temp;

    @Test
    void aStartFinishesTheErasureACrashInterrupted() throws Exception {
        Path data = temp.resolve("data");
        ServeChild child = ServeChild.start(temp, data, null, Map.of("EVENTBANK_OPERATOR_KEY", OPERATOR_KEY,
                "JAVA_TOOL_OPTIONS", "-D" + Sequencer.HALT_BEFORE_ERASURE + "=true"));
        long account;
        String hash;
        try {
            HttpApi.Response opened = child.http().post("/api/account", Map.of("email", EMAIL, "password",
                    "a password"), null, null);
            assertThat(opened.status()).as(opened.toString()).isEqualTo(201);
            account = Long.parseLong(opened.json().get("account_number").asText());
            String token = child.http().post("/api/login", Map.of("account_number", Long.toString(account),
                    "password", "a password"), null, null).json().get("token").asText();
            // Unverified: it closes holding its bonus, and forfeits it.
            assertThat(child.http().post("/api/account/close", Map.of(), token, null).status()).isEqualTo(200);
            // The forget's event is committed; the process halts before the key is erased.
            assertThatThrownBy(() -> child.http().operatorPost("/api/admin/accounts/" + account + "/forget", "",
                    OPERATOR_KEY)).isInstanceOf(IOException.class);
            assertThat(child.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(child.process().exitValue()).isEqualTo(Sequencer.HALT_BEFORE_ERASURE_STATUS);
        } finally {
            child.process().destroyForcibly().waitFor();
        }
        // The crash left the key in its slot (slot 0: the first account opened), and the email with it.
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThat(keys.isErased(0, account)).isFalse();
            hash = keys.open(0, account, sealedOf(data, account)).passwordHash();
        }
        assertThat(HttpForgetTest.filesHolding(data, HttpForgetTest.secretsOf(data, EMAIL, hash))).isNotEmpty();

        try (TestServer server = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY))) {
            assertThat(server.service.engine().startWarnings()).anySatisfy(warning ->
                    assertThat(warning).contains("forgotten account " + account).contains("erased now"));
            for (Subscription subscription : server.service.engine().subscriptions()) {
                assertThat(subscription.awaitDelivered(server.service.engine().committedSeq(), 10_000)).isTrue();
            }
            assertThat(HttpForgetTest.filesHolding(data, HttpForgetTest.secretsOf(data, EMAIL, hash))).isEmpty();
            assertThat(server.http.post("/api/login", Map.of("account_number", Long.toString(account),
                    "password", "a password"), null, null).status()).isEqualTo(401);
            assertThat(server.http.operatorGet("/api/admin/events?account=" + account, OPERATOR_KEY).body())
                    .contains("\"email\":null,\"forgotten\":true").contains("AccountForgotten");
        }
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThat(keys.isErased(0, account)).isTrue();
        }
        Verifier.Report report = Verifier.verify(new FileStorage(), data, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
        assertThat(report.ok()).as(report.toString()).isTrue();
    }

    /** The sealed fields of the account's opening, as the journal holds them. */
    private static byte[] sealedOf(Path data, long account) throws IOException {
        try (JournalReader reader = new JournalReader(new FileStorage(), data.resolve("journal"), false)) {
            reader.seek(0);
            byte[][] found = new byte[1][];
            JournalReader.Batch batch;
            while (found[0] == null && (batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(recorded -> {
                    if (recorded.event() instanceof Event.AccountOpened opened
                            && opened.accountNumber() == account
                            && opened.personal() instanceof SealedPersonal sealed) {
                        found[0] = sealed.sealedBytes();
                    }
                });
            }
            return found[0];
        }
    }
}
