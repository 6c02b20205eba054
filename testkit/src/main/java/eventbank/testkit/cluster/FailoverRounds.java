package eventbank.testkit.cluster;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The failover scenario of issue 12, shared by the suite's test and the benchmark: while clients
 * commit, the leader's process is SIGKILLed, a standby takes over, the killed node is started
 * again on its data and rejoins as a standby; round after round, so that the leaders alternate.
 * Each round measures the time from the kill to the first command another node acknowledged:
 * the new leader's first commit, as its clients see it.
 */
public final class FailoverRounds {
    /** Acknowledgements the leader must give before it is killed: the load reaches it. */
    static final int ACKS_BEFORE_KILL = 20;
    private static final long POLL_MILLIS = 10;

    /**
     * @param killToFirstCommitNanos from the SIGKILL to the first acknowledgement another node gave
     */
    public record Round(int number, String killed, String newLeader, long killToFirstCommitNanos) {}

    private FailoverRounds() {}

    /**
     * Runs {@code rounds} rounds; each step (a leader found, standbys ready, the load on the
     * leader, the first commit after the kill, the restart) may take at most {@code stepTimeout}.
     */
    public static List<Round> run(LocalCluster cluster, Ledger ledger, int rounds, Duration stepTimeout,
                                  PrintStream log) throws IOException, InterruptedException {
        List<Round> done = new ArrayList<>();
        for (int number = 1; number <= rounds; number++) {
            long started = System.nanoTime();
            NodeProcess leader = cluster.awaitLeader(stepTimeout);
            for (NodeProcess other : cluster.nodes()) {
                if (other != leader && other.writer()) {
                    cluster.awaitHealth(other, health -> health.path("role").asText().equals("standby")
                            && !health.path("status").asText().equals("failed"), stepTimeout, "a standby");
                }
            }
            long leads = System.nanoTime();
            await(() -> ledger.ackedBy(leader.url(), leads) >= ACKS_BEFORE_KILL, stepTimeout,
                    () -> leader + " acknowledged fewer than " + ACKS_BEFORE_KILL + " commands (" + ledger.rejected()
                            .size() + " rejected in all; the last answers that settled nothing: "
                            + lastOf(ledger.unsettled()) + ")");
            long killed = System.nanoTime();
            leader.kill();
            Ledger.Acked[] first = new Ledger.Acked[1];
            await(() -> (first[0] = ledger.firstAckAfter(killed, leader.url())) != null, stepTimeout,
                    () -> "no node acknowledged a command after " + leader + " was killed");
            Round round = new Round(number, leader.name(), nameOf(cluster, first[0].nodeUrl()),
                    first[0].receivedNanos() - killed);
            done.add(round);
            long restarting = System.nanoTime();
            leader.start();
            log.printf("round %d: killed %s %.1f s into the round; %s acknowledged a command %.0f ms later; %s"
                    + " restarted in %.1f s%n", number, round.killed(), (killed - started) / 1e9, round.newLeader(),
                    round.killToFirstCommitNanos() / 1e6, round.killed(), (System.nanoTime() - restarting) / 1e9);
        }
        return done;
    }

    static List<Ledger.Unsettled> lastOf(List<Ledger.Unsettled> answers) {
        return answers.subList(Math.max(0, answers.size() - 5), answers.size());
    }

    private static String nameOf(LocalCluster cluster, String url) {
        return cluster.nodes().stream().filter(node -> node.url().equals(url)).map(NodeProcess::name).findFirst()
                .orElse(url);
    }

    interface Condition {
        boolean holds() throws InterruptedException;
    }

    static void await(Condition condition, Duration timeout, Supplier<String> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(failure.get() + " within " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }
}
