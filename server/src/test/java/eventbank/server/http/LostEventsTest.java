package eventbank.server.http;

import static eventbank.server.http.TestNodes.await;
import static org.assertj.core.api.Assertions.assertThat;

import eventbank.postgres.PostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader that showed events which PostgreSQL then lost in a failover (it promoted a replica
 * without the last rows, as an asynchronous replica may be): once the journal's history differs
 * at what the reader showed, it says so, rebuilds its state and its read models from the journal
 * as it is now, and never serves the lost events again. The failover is played on one database:
 * the rows after the last one the promoted replica held are deleted and the head set back there,
 * which is all a client of the new primary can tell. The same with real replicas, promoted and
 * re-cloned, is {@code PostgresPrimaryFailoverTest}'s to show.
 */
class LostEventsTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final String OPERATOR_KEY = "operator-key-of-the-lost-events-test";

    @TempDir
    Path temp;

    private Map<String, String> node(String name, String mode) {
        Map<String, String> settings = TestNodes.node(postgres.url(), OPERATOR_KEY, name, mode, temp.resolve("kek"));
        settings.put("snapshot.every_events", "3");
        return settings;
    }

    @Test
    void aReaderThatShowedLostEventsRebuildsAndNeverServesThemAgain() throws Exception {
        TestServer a = TestServer.start(temp.resolve("a"), node("a", "writer"));
        TestServer b = null;
        try (TestServer reader = TestServer.start(temp.resolve("c"), node("c", "reader"))) {
            await(a, "/health/leader", response -> response.status() == 200);
            TestServer.Holder alice = a.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = a.openVerifiedHolder("bob@example.com");
            long kept = transfer(a, alice, bob, 2_500, "kept");
            assertThat(balance(reader, alice, kept)).isEqualTo(97_500);
            byte[] keptHash = headHashAt(kept);

            long lost = transfer(a, alice, bob, 10_000, "lost");
            assertThat(balance(reader, alice, lost)).as("the reader shows the transfer").isEqualTo(87_500);
            assertThat(reader.http.get("/api/account/transactions?min_seq=" + lost, alice.token()).body())
                    .contains("10000");
            a.close();
            a = null;

            // PostgreSQL fails over to a replica that holds the journal up to `kept` only.
            failOverTo(kept, keptHash);
            HttpApi.Response behind = await(reader, "/health", response -> response.body().contains("behind"));
            assertThat(behind.json().get("status").asText()).isEqualTo("degraded");

            b = TestServer.start(temp.resolve("b"), node("b", "writer"));
            await(b, "/health/leader", response -> response.status() == 200);
            long after = transfer(b, bob, alice, 1_234, "after");
            assertThat(after).as("the new leader writes the lost seq again, with another event").isEqualTo(lost);
            await(reader, "/metrics", response -> response.body().contains("eventbank_node_divergences_total 1.0"));

            assertThat(balance(reader, alice, after)).as("the lost transfer is gone").isEqualTo(98_734);
            String statement = reader.http.get("/api/account/transactions?min_seq=" + after, alice.token()).body();
            assertThat(statement).contains("1234").doesNotContain("10000");
            assertThat(await(reader, "/health", response -> response.json().get("status").asText().equals("ok"))
                    .json().get("lag_events").asLong()).isZero();
        } finally {
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
        }
    }

    /** A transfer of {@code cents} on {@code node}; its seq. */
    private static long transfer(TestServer node, TestServer.Holder from, TestServer.Holder to, long cents,
                                 String key) throws Exception {
        HttpApi.Response transfer = node.http.post("/api/money_transfer",
                Map.of("to_account_number", to.number(), "amount", cents), from.token(), key);
        assertThat(transfer.status()).as(transfer.toString()).isEqualTo(200);
        return transfer.json().get("seq").asLong();
    }

    private static long balance(TestServer node, TestServer.Holder holder, long minSeq) throws Exception {
        HttpApi.Response account = node.http.get("/api/account?min_seq=" + minSeq, holder.token());
        assertThat(account.status()).as(account.toString()).isEqualTo(200);
        return account.json().get("balance").asLong();
    }

    /** The head's chain hash, which must be at {@code seq}: the leader wrote nothing after it. */
    private static byte[] headHashAt(long seq) throws Exception {
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet head = statement.executeQuery("SELECT last_seq, chain_hash FROM eventbank_head")) {
            assertThat(head.next()).isTrue();
            assertThat(head.getLong(1)).as("nothing written after the transfer").isEqualTo(seq);
            return head.getBytes(2);
        }
    }

    /** The journal as a promoted replica that held it up to {@code seq} shows it: the later rows never were. */
    private static void failOverTo(long seq, byte[] hash) throws Exception {
        try (Connection connection = postgres.connect()) {
            connection.setAutoCommit(false);
            try (PreparedStatement rows = connection.prepareStatement(
                         "DELETE FROM eventbank_batches WHERE first_seq > ?");
                 PreparedStatement head = connection.prepareStatement("UPDATE eventbank_head SET last_seq = ?,"
                         + " chain_hash = ?, durable_seq = ?,"
                         + " lease_expires_at = clock_timestamp() - interval '1 second'");
                 PreparedStatement outbox = connection.prepareStatement(
                         "UPDATE eventbank_outbox SET checkpoint_seq = least(checkpoint_seq, ?)")) {
                rows.setLong(1, seq);
                assertThat(rows.executeUpdate()).as("rows lost").isPositive();
                head.setLong(1, seq);
                head.setBytes(2, hash);
                head.setLong(3, seq);
                assertThat(head.executeUpdate()).isEqualTo(1);
                outbox.setLong(1, seq);
                outbox.executeUpdate();
            }
            connection.commit();
        }
    }
}
