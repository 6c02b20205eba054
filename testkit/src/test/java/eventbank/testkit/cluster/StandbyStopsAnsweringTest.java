package eventbank.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synchronous standby stops answering (SIGSTOP) while a leader's commit waits for it: the
 * commit waits, and nothing of its batch is acknowledged. When the wait is cancelled, COMMIT
 * returns with a warning (committed on the primary, perhaps nowhere else); the leader reads the
 * batch back and confirms it with a later commit, which waits for the standby too, so still
 * nothing is acknowledged. Then the primary's machine is lost and the standby promoted: the
 * leader finds the new primary on its multi-host URL and resolves the batch there (acknowledged
 * if the standby held it, answered not recorded if not), and after the clients' retries no
 * acknowledged command is missing and none is there twice (DESIGN.md, "Unknown outcomes").
 */
class StandbyStopsAnsweringTest {
    private static final String RUN = "standby-stops";
    private static final String DATABASE = "eventbank";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    private static final int ACKS_BEFORE = 20;

    @TempDir
    Path temp;

    @Test
    void nothingIsAcknowledgedThatTheStandbyDoesNotHoldAndNothingAcknowledgedIsLostOnItsPromotion()
            throws Exception {
        try (ReplicatedPostgres postgres = ReplicatedPostgres.start(ReplicatedPostgres.Replication.SYNCHRONOUS)) {
            postgres.createDatabase(DATABASE);
            ReplicatedPostgres.Instance primary = postgres.primary();
            ReplicatedPostgres.Instance standby = postgres.synchronousStandby();
            try (LocalCluster cluster = new LocalCluster(LocalCluster.Settings.forTests(postgres.url(DATABASE),
                    temp))) {
                NodeProcess node = cluster.add("a", true);
                cluster.start(node);
                Ledger ledger = new Ledger();
                RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(60)), cluster.urls(),
                        ledger);
                List<MoneyClients.Account> accounts = MoneyClients.open(client, 6, cluster.serverKey(), RUN,
                        STEP_TIMEOUT);
                MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
                clients.start(4, 20261207);
                try {
                    awaitAcks(ledger, ACKS_BEFORE);

                    postgres.stopStandby(standby);
                    int batchCommit = awaitSynchronousReplicationWait(primary, "a", 0);
                    // The waiting batch is not visible yet: the last one the standby holds.
                    long held = JournalAudit.lastSeqAt(primary.url(DATABASE));
                    cancel(primary, batchCommit);
                    int confirmation = awaitSynchronousReplicationWait(primary, "a", batchCommit);
                    assertThat(confirmation).as("read back in a new session").isNotEqualTo(batchCommit);
                    assertThat(JournalAudit.lastSeqAt(primary.url(DATABASE)))
                            .as("the batch is committed on the primary").isGreaterThan(held);
                    assertThat(ledger.acked()).as("nothing acknowledged that the standby does not hold")
                            .allMatch(ack -> ack.seq() <= held);

                    postgres.killPrimary();
                    postgres.continueStandby(standby);
                    postgres.promote(standby);
                    awaitAcks(ledger, ledger.ackedCount() + ACKS_BEFORE);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "\nunsettled: " + ledger.unsettled().stream().skip(
                            Math.max(0, ledger.unsettled().size() - 10)).toList() + cluster.consoleTails(), e);
                } finally {
                    clients.stop(STEP_TIMEOUT);
                }

                FailoverCheck.Verdict verdict = FailoverCheck.check(cluster, ledger, accounts, RUN, STEP_TIMEOUT,
                        standby.url(DATABASE));
                assertThat(verdict.problems()).withFailMessage(() -> "the cluster disagrees with what its clients"
                        + " were told:\n" + String.join("\n", verdict.problems()) + cluster.consoleTails()).isEmpty();
                assertThat(verdict.lost()).isZero();
                String console = node.consoleText();
                assertThat(console).contains("their outcome is unknown; reading them back");
                console.lines().filter(line -> line.contains("are recorded: read back")
                        || line.contains("are not in the journal")).forEach(System.out::println);
            }
        }
    }

    private static void awaitAcks(Ledger ledger, int count) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (ledger.ackedCount() < count) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("only " + ledger.ackedCount() + " of " + count + " commands acknowledged");
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    /**
     * Waits until a session named {@code applicationName}, other than the server process {@code
     * notPid}, waits for the synchronous standby; answers its process id. The node's heartbeat
     * (its control session) writes the head's row too, and may be the first to wait, holding the
     * row's lock, so that the writer waits for the lock instead: such a wait is cancelled, as an
     * operator would, until the writer's own commit is the one that waits.
     */
    private static int awaitSynchronousReplicationWait(ReplicatedPostgres.Instance primary, String applicationName,
                                                       int notPid) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        try (Connection connection = DriverManager.getConnection(primary.url(DATABASE));
             Statement statement = connection.createStatement()) {
            while (true) {
                try (ResultSet waiting = statement.executeQuery("SELECT pid FROM pg_stat_activity WHERE"
                        + " application_name = '" + applicationName + "' AND wait_event = 'SyncRep' AND pid <> "
                        + notPid)) {
                    if (waiting.next()) {
                        return waiting.getInt(1);
                    }
                }
                statement.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '"
                        + applicationName + " control' AND wait_event = 'SyncRep'");
                if (System.nanoTime() - deadline > 0) {
                    StringBuilder sessions = new StringBuilder();
                    try (ResultSet all = statement.executeQuery("SELECT pid, application_name, state, wait_event,"
                            + " left(query, 60) FROM pg_stat_activity WHERE datname = current_database()")) {
                        while (all.next()) {
                            sessions.append('\n').append(all.getInt(1)).append(' ').append(all.getString(2))
                                    .append(' ').append(all.getString(3)).append(' ').append(all.getString(4))
                                    .append(' ').append(all.getString(5));
                        }
                    }
                    throw new AssertionError("no commit of " + applicationName + " waits for the standby; the"
                            + " sessions:" + sessions);
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }
    }

    /** Cancels the wait of server process {@code pid}, as an operator or a statement timeout would. */
    private static void cancel(ReplicatedPostgres.Instance primary, int pid) throws SQLException {
        try (Connection connection = DriverManager.getConnection(primary.url(DATABASE));
             Statement statement = connection.createStatement();
             ResultSet cancelled = statement.executeQuery("SELECT pg_cancel_backend(" + pid + ")")) {
            cancelled.next();
            assertThat(cancelled.getBoolean(1)).isTrue();
        }
    }
}
