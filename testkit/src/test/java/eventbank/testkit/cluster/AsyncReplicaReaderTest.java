package eventbank.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader follows an asynchronous replica, and PostgreSQL fails over to another replica that
 * had not received the last rows: the reader's replica is then made again from the new primary
 * (as Patroni's pg_rewind or a re-clone does), and has lost them. Without a synchronous standby
 * an acknowledged transfer can be lost so (this is why production runs with one,
 * {@code journal.require_sync_standby=true}); what this shows is that the reader notices: it
 * rebuilds its state and read models from the journal as it now is, counts it in {@code
 * eventbank_node_divergences_total}, and never serves the lost transfer again.
 */
class AsyncReplicaReaderTest {
    private static final String RUN = "async-reader";
    private static final String DATABASE = "eventbank";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path temp;

    @Test
    void aReaderWhoseReplicaLostRowsInAFailoverRebuildsAndNeverServesThemAgain() throws Exception {
        try (ReplicatedPostgres postgres = ReplicatedPostgres.start(ReplicatedPostgres.Replication.ASYNCHRONOUS,
                ReplicatedPostgres.Replication.ASYNCHRONOUS)) {
            postgres.createDatabase(DATABASE);
            ReplicatedPostgres.Instance primary = postgres.primary();
            ReplicatedPostgres.Instance followed = postgres.standbys().get(0);
            ReplicatedPostgres.Instance promoted = postgres.standbys().get(1);
            // The reader reads the replica, and after it whatever comes on the primary's port.
            String readerUrl = "jdbc:postgresql://127.0.0.1:" + followed.port() + ",127.0.0.1:" + primary.port()
                    + "/" + DATABASE + "?user=" + ReplicatedPostgres.USER;
            try (LocalCluster cluster = new LocalCluster(LocalCluster.Settings.forTests(postgres.url(DATABASE),
                    temp))) {
                NodeProcess writer = cluster.add("w", true);
                NodeProcess reader = cluster.add("r", false, readerUrl);
                cluster.start(writer);
                cluster.start(reader);
                Ledger ledger = new Ledger();
                JsonHttp http = new JsonHttp(Duration.ofSeconds(30));
                RetryingClient client = new RetryingClient(http, cluster.urls(), ledger);
                List<MoneyClients.Account> accounts = MoneyClients.open(client, 2, cluster.serverKey(), RUN,
                        STEP_TIMEOUT);
                MoneyClients.Account alice = accounts.get(0);
                MoneyClients.Account bob = accounts.get(1);

                // The replica to be promoted stops receiving; the reader's goes on.
                awaitSameHead(primary, promoted);
                disconnect(promoted);
                long lost = transfer(client, alice, bob, 10_000, RUN + "-lost");
                assertThat(balance(http, reader, alice, lost)).as("the reader shows the transfer").isEqualTo(90_000);

                // The primary's machine is lost; the stopped replica is promoted without the
                // transfer, and the reader's replica is made again from it.
                postgres.killPrimary();
                postgres.promote(promoted);
                postgres.killStandby(followed);
                postgres.addStandby(ReplicatedPostgres.Replication.ASYNCHRONOUS);

                long after = transfer(client, bob, alice, 1_234, RUN + "-after");
                awaitUntil(() -> metric(reader, "eventbank_node_divergences_total"), count -> count >= 1,
                        "the reader noticed the lost events", cluster);
                assertThat(balance(http, reader, alice, after)).as("the lost transfer is gone").isEqualTo(101_234);
                JsonHttp.Reply statement = http.get(reader.url(), "/api/account/transactions?min_seq=" + after,
                        alice.token());
                assertThat(statement.status()).as(statement.toString()).isEqualTo(200);
                assertThat(statement.body().toString()).contains("1234").doesNotContain("10000");
                JournalAudit journal = JournalAudit.read(promoted.url(DATABASE));
                assertThat(journal.withKey(RUN + "-lost")).as("lost with the old primary").isEmpty();
                assertThat(journal.withKey(RUN + "-after")).hasSize(1);
            }
        }
    }

    /** Waits until {@code standby} shows the journal's head as the primary has it. */
    private static void awaitSameHead(ReplicatedPostgres.Instance primary, ReplicatedPostgres.Instance standby)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (JournalAudit.lastSeqAt(standby.url(DATABASE))
                != JournalAudit.lastSeqAt(primary.url(DATABASE))) {
            assertThat(System.nanoTime() - deadline).as(standby + " caught up").isNegative();
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    /**
     * Ends {@code standby}'s streaming ({@code primary_conninfo} emptied and reloaded): it
     * receives nothing more, as a replica cut off from its primary, yet answers and can be
     * promoted. A SIGSTOP would not do: the WAL sent meanwhile waits in its socket, and is
     * written once it goes on.
     */
    private static void disconnect(ReplicatedPostgres.Instance standby) throws SQLException, InterruptedException {
        try (Connection connection = DriverManager.getConnection(standby.url(DATABASE));
             Statement statement = connection.createStatement()) {
            statement.execute("ALTER SYSTEM SET primary_conninfo = ''");
            statement.execute("SELECT pg_reload_conf()");
            long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
            while (true) {
                try (ResultSet receivers = statement.executeQuery("SELECT count(*) FROM pg_stat_wal_receiver")) {
                    receivers.next();
                    if (receivers.getLong(1) == 0) {
                        return;
                    }
                }
                assertThat(System.nanoTime() - deadline).as(standby + " stopped streaming").isNegative();
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }
    }

    /** A transfer through whichever node leads, retried with its key until it is answered: its seq. */
    private static long transfer(RetryingClient client, MoneyClients.Account from, MoneyClients.Account to,
                                 long cents, String key) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        LongSupplier until = () -> deadline;
        JsonHttp.Reply reply = client.post("/api/money_transfer", Map.of("to_account_number", to.number(),
                "amount", cents), from.token(), key, until);
        assertThat(reply).as("the transfer %s was answered", key).isNotNull();
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.body().get("seq").asLong();
    }

    /** The balance {@code node} shows once it holds {@code minSeq}. */
    private static long balance(JsonHttp http, NodeProcess node, MoneyClients.Account account, long minSeq)
            throws Exception {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (true) {
            JsonHttp.Reply reply = http.get(node.url(), "/api/account?min_seq=" + minSeq, account.token());
            if (reply.status() == 200) {
                return reply.body().get("balance").asLong();
            }
            assertThat(reply.status()).as(reply.toString()).isEqualTo(503);
            assertThat(System.nanoTime() - deadline).as(node + " reached seq " + minSeq).isNegative();
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private static long metric(NodeProcess node, String name) throws Exception {
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(node.url() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        return metrics.body().lines().filter(line -> line.startsWith(name + " ")).findFirst()
                .map(line -> (long) Double.parseDouble(line.substring(name.length() + 1))).orElse(-1L);
    }

    private interface Probe {
        long read() throws Exception;
    }

    private static void awaitUntil(Probe probe, Predicate<Long> done, String what, LocalCluster cluster)
            throws Exception {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        long value;
        while (!done.test(value = probe.read())) {
            if (System.nanoTime() - deadline > 0) {
                StringBuilder consoles = new StringBuilder();
                for (NodeProcess node : cluster.nodes()) {
                    consoles.append("\n--- ").append(node.name()).append(" ---\n");
                    node.consoleText().lines().filter(line -> !line.contains("GET /metrics"))
                            .forEach(line -> consoles.append(line).append('\n'));
                }
                throw new AssertionError(what + ": not within " + STEP_TIMEOUT + " (last " + value + ")"
                        + cluster.healthOfAll() + consoles);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
