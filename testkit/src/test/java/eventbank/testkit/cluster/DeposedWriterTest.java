package eventbank.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.postgres.PostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's deposed-writer test: the leader's process is paused (SIGSTOP) past its lease, the
 * standby takes over and commits, then the old leader goes on (SIGCONT) as if no time had
 * passed. It must acknowledge nothing that the new leader's history lacks (every 200 it gives
 * after the pause is in the journal, where it said), and it must come back as a standby with
 * that history: {@code /health} says standby at the new epoch with no lag, and it reads what
 * the new leader wrote. Twice on one cluster of two writers: first the leader is paused while
 * idle, then the other one (leading by then) inside an open batch transaction.
 */
class DeposedWriterTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final String RUN = "deposed";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    /** Pauses tried, each a few milliseconds long, until one stops the leader inside a batch transaction. */
    private static final int PAUSE_ATTEMPTS_MAX = 300;

    @TempDir
    Path temp;

    @Test
    void aPausedLeaderAcknowledgesNothingOutsideTheNewLeadersHistoryAndRejoinsAsAStandby() throws Exception {
        try (LocalCluster cluster = new LocalCluster(LocalCluster.Settings.forTests(postgres.url(), temp))) {
            NodeProcess a = cluster.add("a", true);
            NodeProcess b = cluster.add("b", true);
            cluster.start(a, b);
            Ledger ledger = new Ledger();
            RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(30)), cluster.urls(), ledger);
            List<MoneyClients.Account> accounts = MoneyClients.open(client, 9, cluster.serverKey(), RUN,
                    STEP_TIMEOUT);
            try {
                NodeProcess first = cluster.awaitLeader(STEP_TIMEOUT);
                NodeProcess second = first == a ? b : a;
                pausedWhileIdle(cluster, ledger, client, accounts, first, second);
                pausedInsideABatch(cluster, ledger, client, accounts, second, first);

                FailoverCheck.Verdict verdict = FailoverCheck.check(cluster, ledger, accounts, RUN, STEP_TIMEOUT);
                assertThat(verdict.problems()).withFailMessage(() -> "the cluster disagrees with what its clients"
                        + " were told:\n" + String.join("\n", verdict.problems())).isEmpty();
            } catch (AssertionError | RuntimeException e) {
                e.addSuppressed(new AssertionError("the nodes' consoles:" + cluster.consoleTails()));
                throw e;
            }
        }
    }

    /**
     * The leader is paused with nothing to do; commands sent to it meanwhile wait in its socket.
     * Once it goes on, it answers them without acknowledging any: its batch finds the head at
     * another epoch.
     */
    private void pausedWhileIdle(LocalCluster cluster, Ledger ledger, RetryingClient client,
                                 List<MoneyClients.Account> accounts, NodeProcess leader, NodeProcess standby)
            throws Exception {
        cluster.awaitHealth(standby, health -> isStandbyInStep(health), STEP_TIMEOUT, "a standby in step");
        JsonHttp http = new JsonHttp(STEP_TIMEOUT);
        leader.pause();
        long pausedAt = System.nanoTime();
        try (Connection database = postgres.connect()) {
            assertThat(writerSession(database, leader.name())).as("the paused leader's writer session")
                    .extracting(Session::state).isEqualTo("idle");
        }
        List<Ledger.Command> probes = new ArrayList<>();
        List<CompletableFuture<JsonHttp.Reply>> answers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Ledger.Command probe = transfer(RUN + "-idle-probe-" + i, accounts.get(i), accounts.get(i + 1), 100 + i);
            probes.add(probe);
            answers.add(sendAsync(http, leader, probe, accounts.get(i)));
        }

        long epoch = cluster.awaitHealth(standby, health -> health.path("role").asText().equals("leader"),
                STEP_TIMEOUT, "the leader").path("epoch").asLong();
        Ledger.Command onNewLeader = transfer(RUN + "-idle-new-leader", accounts.get(4), accounts.get(5), 250);
        JsonHttp.Reply committed = http.post(standby.url(), onNewLeader.path(), onNewLeader.body(),
                accounts.get(4).token(), onNewLeader.key());
        assertThat(committed.status()).as("the new leader commits: %s", committed).isEqualTo(200);
        ledger.settle(onNewLeader, committed);
        leader.resume();

        for (int i = 0; i < probes.size(); i++) {
            JsonHttp.Reply answer = answers.get(i).get(STEP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(answer).as("the old leader answers what it was sent while paused").isNotNull();
            assertThat(answer.status()).as("the old leader acknowledges nothing after its pause: %s", answer)
                    .isEqualTo(503);
            assertThat(answer.error()).isIn("not_leader", "commit_outcome_unknown", "journal_failed");
            ledger.settle(probes.get(i), client.post(probes.get(i).path(), probes.get(i).body(),
                    accounts.get(i).token(), probes.get(i).key(), () -> System.nanoTime() + STEP_TIMEOUT.toNanos()));
        }
        rejoinedAsStandby(cluster, ledger, accounts, leader, epoch, pausedAt);
    }

    /**
     * The leader is paused while it holds a batch's transaction open: its session is left idle in
     * a transaction that holds the head's row lock. How it is made likely: eight clients keep it
     * committing, and it is paused again and again (each time for a few milliseconds, far less
     * than its lease) until PostgreSQL shows its writer session idle in a transaction; a batch's
     * statement and the wait for its COMMIT take most of a busy leader's time, so a pause catches
     * one within a few tries. The session is ended while the leader is stopped (PostgreSQL's
     * idle-in-transaction timeout, half the lease, or the takeover), so the batch is never
     * committed, and when the leader goes on, its commit fails: its callers are answered
     * {@code commit_outcome_unknown} and retry with the same key on the new leader.
     */
    private void pausedInsideABatch(LocalCluster cluster, Ledger ledger, RetryingClient client,
                                    List<MoneyClients.Account> accounts, NodeProcess first, NodeProcess second)
            throws Exception {
        cluster.awaitHealth(second, health -> isStandbyInStep(health), STEP_TIMEOUT, "a standby in step");
        MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
        clients.start(8, 20261207);
        long epoch;
        long pausedAt;
        NodeProcess leader = first;
        NodeProcess standby = second;
        try (Connection database = postgres.connect()) {
            long loaded = System.nanoTime();
            while (ledger.ackedBy(leader.url(), loaded) < 20) {
                assertThat(System.nanoTime() - loaded).as("the leader takes the load")
                        .isLessThan(STEP_TIMEOUT.toNanos());
                TimeUnit.MILLISECONDS.sleep(10);
            }
            Integer writerSession = null;
            long paused = 0;
            int attempts = 0;
            while (writerSession == null) {
                assertThat(attempts++).as("pauses tried to catch the leader inside a batch transaction")
                        .isLessThan(PAUSE_ATTEMPTS_MAX);
                // Asked each time: on a loaded machine one of the short pauses may outlast the lease.
                leader = cluster.awaitLeader(STEP_TIMEOUT);
                standby = leader == first ? second : first;
                leader.pause();
                paused = System.nanoTime();
                writerSession = sessionIdleInTransaction(database, leader.name());
                // PostgreSQL ends the session whose transaction the stopped leader holds open;
                // unless the leader's COMMIT was already on the wire when it stopped: then the
                // transaction ends by itself, the session stays, and this pause caught nothing.
                if (writerSession != null && !sessionEndsInTransaction(database, writerSession)) {
                    writerSession = null;
                }
                if (writerSession == null) {
                    leader.resume();
                    TimeUnit.MICROSECONDS.sleep(ThreadLocalRandom.current().nextInt(20_000));
                }
            }
            pausedAt = paused;
            System.out.printf("paused %s inside a batch transaction (backend %d) at attempt %d%n", leader.name(),
                    writerSession, attempts);
            epoch = cluster.awaitHealth(standby, health -> health.path("role").asText().equals("leader"),
                    STEP_TIMEOUT, "the leader").path("epoch").asLong();
            // The clients wait for the stopped leader's answers; the test's own command shows the new leader commits.
            Ledger.Command onNewLeader = transfer(RUN + "-batch-new-leader", accounts.get(8), accounts.get(0), 300);
            JsonHttp.Reply committed = new JsonHttp(STEP_TIMEOUT).post(standby.url(), onNewLeader.path(),
                    onNewLeader.body(), accounts.get(8).token(), onNewLeader.key());
            assertThat(committed.status()).as("the new leader commits: %s", committed).isEqualTo(200);
            ledger.settle(onNewLeader, committed);
            leader.resume();

            long resumed = System.nanoTime();
            while (ledger.ackedBy(standby.url(), resumed) < 20) {
                assertThat(System.nanoTime() - resumed).as("the clients go on with the new leader")
                        .isLessThan(STEP_TIMEOUT.toNanos());
                TimeUnit.MILLISECONDS.sleep(10);
            }
        } finally {
            clients.stop(STEP_TIMEOUT);
        }
        String deposedUrl = leader.url();
        assertThat(ledger.unsettled()).as("the callers of the open batch are told its outcome is unknown")
                .anySatisfy(answer -> {
                    assertThat(answer.nodeUrl()).isEqualTo(deposedUrl);
                    assertThat(answer.receivedNanos() - pausedAt).isPositive();
                    assertThat(answer.error()).isEqualTo("commit_outcome_unknown");
                });
        rejoinedAsStandby(cluster, ledger, accounts, leader, epoch, pausedAt);
    }

    /**
     * Every 200 the old leader gave after its pause is in the journal, where it said; it stands
     * by at the new epoch without lag, and reads what the new leader wrote.
     */
    private static void rejoinedAsStandby(LocalCluster cluster, Ledger ledger, List<MoneyClients.Account> accounts,
                                          NodeProcess old, long epoch, long pausedAt) throws Exception {
        JournalAudit audit = JournalAudit.read(cluster.settings().journalUrl());
        List<Ledger.Acked> afterPause = ledger.acked().stream().filter(ack -> ack.nodeUrl().equals(old.url())
                && ack.receivedNanos() - pausedAt > 0).toList();
        for (Ledger.Acked ack : afterPause) {
            assertThat(audit.withKey(ack.command().key())).as("%s acknowledged after its pause", ack)
                    .extracting(JournalAudit.Keyed::seq).containsExactly(ack.seq());
        }
        JsonNode health = cluster.awaitHealth(old, now -> now.path("role").asText().equals("standby")
                && now.path("epoch").asLong() == epoch && now.path("lag_events").asLong(-1) == 0,
                STEP_TIMEOUT, "a standby at epoch " + epoch + " without lag");
        assertThat(health.path("status").asText()).isNotEqualTo("failed");
        long last = ledger.lastSeq();
        JsonHttp http = new JsonHttp(STEP_TIMEOUT);
        java.util.Map<String, Long> expected = ledger.balances(accounts.stream().map(MoneyClients.Account::number)
                .toList());
        for (MoneyClients.Account account : accounts) {
            JsonHttp.Reply read = http.get(old.url(), "/api/account?min_seq=" + last, account.token());
            assertThat(read.status()).as("%s", read).isEqualTo(200);
            assertThat(read.body().get("balance").asLong()).as("account %s on %s", account.number(), old)
                    .isEqualTo(expected.get(account.number()));
        }
    }

    private static boolean isStandbyInStep(JsonNode health) {
        return health.path("role").asText().equals("standby") && health.path("lag_events").asLong(-1) == 0;
    }

    private static Ledger.Command transfer(String key, MoneyClients.Account from, MoneyClients.Account to,
                                           long amount) {
        return new Ledger.Command(key, Ledger.Kind.TRANSFER, from.number(), to.number(), amount);
    }

    private static CompletableFuture<JsonHttp.Reply> sendAsync(JsonHttp http, NodeProcess node,
                                                               Ledger.Command command, MoneyClients.Account from) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return http.post(node.url(), command.path(), command.body(), from.token(), command.key());
            } catch (Exception e) {
                throw new IllegalStateException(node + " did not answer " + command, e);
            }
        });
    }

    /**
     * The backend of the node's writer session (its {@code application_name} is the node's name)
     * when it is idle inside a transaction; else null. A statement it was running when the node
     * stopped is given a moment to end; one still running then counts as not caught.
     */
    private static Integer sessionIdleInTransaction(Connection database, String nodeName)
            throws SQLException, InterruptedException {
        Session session = writerSession(database, nodeName);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        while (session != null && session.state().equals("active") && System.nanoTime() - deadline < 0) {
            TimeUnit.MILLISECONDS.sleep(1);
            session = writerSession(database, nodeName);
        }
        return session != null && session.state().equals("idle in transaction") ? session.pid() : null;
    }

    private record Session(int pid, String state) {}

    /** The node's writer session as PostgreSQL shows it now, or null when it has none. */
    private static Session writerSession(Connection database, String nodeName) throws SQLException {
        try (PreparedStatement select = database.prepareStatement("SELECT pid, state FROM pg_stat_activity"
                + " WHERE datname = current_database() AND application_name = ?")) {
            select.setString(1, nodeName);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? new Session(row.getInt(1), String.valueOf(row.getString(2))) : null;
            }
        }
    }

    /** What PostgreSQL shows of every session of the database, the one of {@code pid} first. */
    private static String describe(Connection database, int pid) throws SQLException {
        StringBuilder sessions = new StringBuilder();
        try (PreparedStatement select = database.prepareStatement("SELECT pid, application_name, state,"
                + " wait_event_type, wait_event, now() - state_change, left(query, 80) FROM pg_stat_activity"
                + " WHERE datname = current_database() ORDER BY pid <> ?, pid")) {
            select.setInt(1, pid);
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    sessions.append("\n").append(row.getInt(1)).append(" '").append(row.getString(2)).append("' ")
                            .append(row.getString(3)).append(' ').append(row.getString(4)).append('/')
                            .append(row.getString(5)).append(" for ").append(row.getString(6)).append(": ")
                            .append(row.getString(7));
                }
            }
        }
        return sessions.toString();
    }

    /**
     * Waits until the session of {@code pid}, idle inside a transaction, ends (true), or leaves
     * its transaction while it lives on (false: a COMMIT its client sent before it stopped was
     * still in the socket). Fails after {@link #STEP_TIMEOUT} of neither.
     */
    private static boolean sessionEndsInTransaction(Connection database, int pid)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (true) {
            String state = stateOf(database, pid);
            if (state == null) {
                return true;
            }
            if (!state.equals("idle in transaction")) {
                return false;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the stopped leader's open transaction did not end within "
                        + STEP_TIMEOUT + ": " + describe(database, pid));
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    /** The state of the session of {@code pid}, or null when it has ended. */
    private static String stateOf(Connection database, int pid) throws SQLException {
        try (PreparedStatement select = database.prepareStatement("SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            select.setInt(1, pid);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? String.valueOf(row.getString(1)) : null;
            }
        }
    }
}
