package eventbank.testkit.cluster;

import java.io.IOException;
import java.io.PrintStream;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The failover scenario of issue 13, shared by the suite's test and the benchmark: while clients
 * commit through the nodes of a {@link LocalCluster} on a {@link ReplicatedPostgres}, the
 * PostgreSQL primary's machine is lost (every process of it SIGKILLed), its synchronous standby
 * is promoted at once (as an HA manager would, without its detection delay), and a new
 * synchronous standby is copied from the new primary, so that each round starts again with a
 * primary and a synchronous standby.
 *
 * <p>Each round measures the time from the kill to the first acknowledgement of a command the new
 * primary committed: one with a seq above the last the standby held when the primary died (read
 * on the standby once it has replayed all it received, before its promotion; so the promotion
 * starts a few milliseconds after the kill, and the time includes them).
 */
public final class PostgresFailoverRounds {
    /**
     * @param surviving              the journal's last seq on the standby when the primary died
     * @param killToPromotedNanos    from the SIGKILL to the standby out of recovery
     * @param killToFirstCommitNanos from the SIGKILL to the first acknowledgement of a seq above {@code surviving}
     */
    public record Round(int number, String killed, String promoted, long surviving, long killToPromotedNanos,
                        long killToFirstCommitNanos) {}

    private PostgresFailoverRounds() {}

    /**
     * Runs {@code rounds} rounds on the journal in {@code database}; each step (a leader found,
     * the load on it, the promotion, the first commit after the kill, the new standby) may take
     * at most {@code stepTimeout}.
     */
    public static List<Round> run(LocalCluster cluster, ReplicatedPostgres postgres, String database, Ledger ledger,
                                  int rounds, Duration stepTimeout, PrintStream log)
            throws IOException, InterruptedException, SQLException {
        List<Round> done = new ArrayList<>();
        for (int number = 1; number <= rounds; number++) {
            long started = System.nanoTime();
            NodeProcess leader = cluster.awaitLeader(stepTimeout);
            FailoverRounds.await(() -> ledger.ackedBy(leader.url(), started) >= FailoverRounds.ACKS_BEFORE_KILL,
                    stepTimeout, () -> leader + " acknowledged fewer than " + FailoverRounds.ACKS_BEFORE_KILL
                            + " commands (the last answers that settled nothing: "
                            + FailoverRounds.lastOf(ledger.unsettled()) + ")");
            ReplicatedPostgres.Instance standby = postgres.synchronousStandby();
            long killed = System.nanoTime();
            ReplicatedPostgres.Instance primary = postgres.killPrimary();
            postgres.awaitReplayed(standby);
            long surviving = JournalAudit.lastSeqAt(standby.url(database));
            postgres.promote(standby);
            long promoted = System.nanoTime();
            Ledger.Acked[] first = new Ledger.Acked[1];
            FailoverRounds.await(() -> (first[0] = ledger.firstAckAbove(surviving, killed)) != null, stepTimeout,
                    () -> "no command above seq " + surviving + " was acknowledged after " + primary
                            + " was killed and " + standby + " promoted (the last answers that settled nothing: "
                            + FailoverRounds.lastOf(ledger.unsettled()) + ")");
            Round round = new Round(number, primary.name(), standby.name(), surviving, promoted - killed,
                    first[0].receivedNanos() - killed);
            done.add(round);
            long adding = System.nanoTime();
            ReplicatedPostgres.Instance next = postgres.addStandby(ReplicatedPostgres.Replication.SYNCHRONOUS);
            log.printf("round %d: killed the primary %s %.1f s into the round (the journal at seq %d on %s);"
                    + " %s promoted %.0f ms after the kill, a commit above it acknowledged %.0f ms after the kill;"
                    + " new standby %s in sync in %.1f s%n", number, round.killed(), (killed - started) / 1e9,
                    surviving, round.promoted(), round.promoted(), round.killToPromotedNanos() / 1e6,
                    round.killToFirstCommitNanos() / 1e6, next.name(), (System.nanoTime() - adding) / 1e9);
        }
        return done;
    }
}
