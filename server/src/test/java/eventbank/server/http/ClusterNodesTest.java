package eventbank.server.http;

import static eventbank.server.http.TestNodes.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.postgres.PostgresExtension;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes of one bank on one PostgreSQL journal, in this JVM: two writers (one leads, one
 * stands by) and a reader. Commands go to the leader; the others answer them 503 {@code
 * not_leader} with the leader's URL and send a clicked verification link on to it; every node
 * reads, and when the leader stops, the standby leads with the whole history.
 */
class ClusterNodesTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final String OPERATOR_KEY = "operator-key-of-the-cluster-test";

    @TempDir
    Path temp;

    private Map<String, String> node(String name, String mode) {
        Map<String, String> settings = TestNodes.node(postgres.url(), OPERATOR_KEY, name, mode, temp.resolve("kek"));
        settings.put("snapshot.every_events", "5");
        return settings;
    }

    @Test
    void theLeaderTakesCommandsTheOthersReadAndTheStandbyLeadsWhenItStops() throws Exception {
        // The first writer keeps the server key in the database; the others read it from there.
        TestServer a = TestServer.start(temp.resolve("a"), node("a", "writer"));
        TestServer b = null;
        try (TestServer reader = TestServer.start(temp.resolve("c"), node("c", "reader"))) {
            HttpApi.Response leaderHealth = await(a, "/health/leader", response -> response.status() == 200);
            assertThat(leaderHealth.json().get("role").asText()).isEqualTo("leader");
            assertThat(leaderHealth.json().get("epoch").asLong()).isEqualTo(1);
            assertThat(leaderHealth.json().get("leader_url").asText()).isEqualTo("http://a.test");
            b = TestServer.start(temp.resolve("b"), node("b", "writer"));

            TestServer.Holder alice = a.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = a.openVerifiedHolder("bob@example.com");
            HttpApi.Response transfer = a.http.post("/api/money_transfer",
                    Map.of("to_account_number", bob.number(), "amount", 2_500), alice.token(), "first");
            assertThat(transfer.status()).as(transfer.toString()).isEqualTo(200);
            long seq = transfer.json().get("seq").asLong();

            // The standby: reads, and sends commands and clicked links to the leader.
            HttpApi.Response onStandby = b.http.get("/api/account?min_seq=" + seq, alice.token());
            assertThat(onStandby.status()).as(onStandby.toString()).isEqualTo(200);
            assertThat(onStandby.json().get("balance").asLong()).isEqualTo(97_500);
            HttpApi.Response refused = b.http.post("/api/withdraw", Map.of("amount", 100), alice.token(), "w1");
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.error()).isEqualTo("not_leader");
            assertThat(refused.json().get("leader_url").asText()).isEqualTo("http://a.test");
            String opened = a.open("carol@example.com");
            String link = a.verificationQuery(opened);
            HttpApi.Response redirected = b.http.get("/api/verify?" + link, null);
            assertThat(redirected.status()).isEqualTo(307);
            assertThat(redirected.header("Location")).isEqualTo("http://a.test/api/verify?" + link);
            JsonNode standbyHealth = await(b, "/health", response -> response.json().get("lag_events").asLong() == 0)
                    .json();
            assertThat(standbyHealth.get("role").asText()).isEqualTo("standby");
            assertThat(standbyHealth.get("status").asText()).isEqualTo("ok");
            assertThat(b.http.get("/health/leader", null).status()).isEqualTo(503);

            // The reader: reads at the leader's seq, never leads.
            HttpApi.Response onReader = reader.http.get("/api/account?min_seq=" + seq, bob.token());
            assertThat(onReader.status()).as(onReader.toString()).isEqualTo(200);
            assertThat(onReader.json().get("balance").asLong()).isEqualTo(102_500);
            assertThat(await(reader, "/health/replica", response -> response.status() == 200).json()
                    .get("role").asText()).isEqualTo("reader");
            // The operator's explorer and time travel read the journal in PostgreSQL on any node.
            HttpApi.Response events = reader.http.operatorGet("/api/admin/events?type=MoneyTransferred", OPERATOR_KEY);
            assertThat(events.status()).as(events.toString()).isEqualTo(200);
            assertThat(events.json().get("events")).hasSize(1);
            assertThat(events.json().get("events").get(0).get("seq").asLong()).isEqualTo(seq);
            HttpApi.Response before = reader.http.operatorGet("/api/admin/state?at_seq=" + (seq - 1), OPERATOR_KEY);
            assertThat(before.status()).as(before.toString()).isEqualTo(200);
            assertThat(before.body()).contains("100000").doesNotContain("97500");

            // The leader stops: the standby takes over at the next epoch, with the whole history.
            a.close();
            a = null;
            HttpApi.Response newLeader = await(b, "/health/leader", response -> response.status() == 200);
            assertThat(newLeader.json().get("epoch").asLong()).isEqualTo(2);
            HttpApi.Response retried = b.http.post("/api/money_transfer",
                    Map.of("to_account_number", bob.number(), "amount", 2_500), alice.token(), "first");
            assertThat(retried.status()).as("a retry with the same key is answered as before").isEqualTo(200);
            assertThat(retried.json().get("seq")).as(retried.toString()).isNotNull();
            assertThat(retried.json().get("seq").asLong()).isEqualTo(seq);
            HttpApi.Response withdrawn = b.http.post("/api/withdraw", Map.of("amount", 500), alice.token(), "w2");
            assertThat(withdrawn.status()).as(withdrawn.toString()).isEqualTo(200);
            assertThat(withdrawn.json().get("balance").asLong()).isEqualTo(97_000);
            long last = withdrawn.json().get("seq").asLong();
            HttpApi.Response readerAfter = reader.http.get("/api/account?min_seq=" + last, alice.token());
            assertThat(readerAfter.status()).as(readerAfter.toString()).isEqualTo(200);
            assertThat(readerAfter.json().get("balance").asLong()).isEqualTo(97_000);
            assertThat(reader.http.get("/health", null).json().get("leader_url").asText()).isEqualTo("http://b.test");
        } finally {
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
        }
    }
}
