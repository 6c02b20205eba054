package eventbank.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's failover test: the journal on a real PostgreSQL primary with a synchronous standby
 * (Debian's PostgreSQL, {@link ReplicatedPostgres}), two writer nodes ({@code eventbank serve}
 * processes) on the multi-host URL of both; eight clients commit transfers and withdrawals with
 * Idempotency-Keys through whichever node leads, each sending the same request with the same
 * key until it gets a definite answer. Three times the primary's machine is lost under the load
 * (every process of it SIGKILLed), the standby is promoted, and a new synchronous standby is
 * copied from it ({@link PostgresFailoverRounds}). Then every acknowledged command is in the
 * journal exactly once, the journal reads whole with its hash chain, both nodes show the
 * journal's head and the exact balances, and the money is conserved but for the withdrawals
 * ({@link FailoverCheck}). The benchmark runs the same rounds twenty times and more and reports
 * the time from the kill to the first commit on the new primary
 * ({@code eventbank.bench.FailoverBenchmark --kills postgres}).
 */
class PostgresPrimaryFailoverTest {
    private static final String RUN = "pg-failover";
    private static final String DATABASE = "eventbank";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    private static final int ROUNDS = 3;

    @TempDir
    Path temp;

    @Test
    void everyAcknowledgedCommandOutlivesThreeLossesOfThePostgresPrimary() throws Exception {
        long starting = System.nanoTime();
        try (ReplicatedPostgres postgres = ReplicatedPostgres.start(ReplicatedPostgres.Replication.SYNCHRONOUS)) {
            postgres.createDatabase(DATABASE);
            System.out.printf("PostgreSQL primary and synchronous standby started in %.1f s%n",
                    (System.nanoTime() - starting) / 1e9);
            try (LocalCluster cluster = new LocalCluster(LocalCluster.Settings.forTests(postgres.url(DATABASE),
                    temp))) {
                NodeProcess a = cluster.add("a", true);
                NodeProcess b = cluster.add("b", true);
                cluster.start(a, b);
                Ledger ledger = new Ledger();
                RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(30)), cluster.urls(),
                        ledger);
                List<MoneyClients.Account> accounts = MoneyClients.open(client, 12, cluster.serverKey(), RUN,
                        STEP_TIMEOUT);
                System.out.printf("two nodes started, %d accounts opened %.1f s after the start%n", accounts.size(),
                        (System.nanoTime() - starting) / 1e9);
                MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
                clients.start(8, 20261213);
                List<PostgresFailoverRounds.Round> rounds;
                try {
                    rounds = PostgresFailoverRounds.run(cluster, postgres, DATABASE, ledger, ROUNDS, STEP_TIMEOUT,
                            System.out);
                } catch (IllegalStateException stepTimedOut) {
                    throw new AssertionError(stepTimedOut.getMessage() + cluster.healthOfAll()
                            + cluster.consoleTails(), stepTimedOut);
                } finally {
                    clients.stop(STEP_TIMEOUT);
                }

                assertThat(rounds).hasSize(ROUNDS);
                FailoverCheck.Verdict verdict = FailoverCheck.check(cluster, ledger, accounts, RUN, STEP_TIMEOUT,
                        postgres.primary().url(DATABASE));
                System.out.printf("%d commands acknowledged, %d rejected, %d answers that settled nothing; journal"
                        + " at seq %d; %.1f s in all%n", verdict.acknowledged(), ledger.rejected().size(),
                        ledger.unsettled().size(), verdict.journalSeq(), (System.nanoTime() - starting) / 1e9);
                assertThat(verdict.problems()).withFailMessage(() -> "the cluster disagrees with what its clients"
                        + " were told:\n" + String.join("\n", verdict.problems()) + cluster.consoleTails()).isEmpty();
                assertThat(verdict.lost()).isZero();
                assertThat(verdict.acknowledged()).isGreaterThan(ROUNDS * FailoverRounds.ACKS_BEFORE_KILL);
            }
        }
    }
}
