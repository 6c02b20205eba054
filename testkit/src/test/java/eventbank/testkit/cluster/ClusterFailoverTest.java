package eventbank.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.postgres.PostgresExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's failover test: three nodes ({@code eventbank serve} processes) on one PostgreSQL
 * journal, two writers and a reader; eight clients commit transfers and withdrawals with
 * Idempotency-Keys through whichever node leads, each sending the same request with the same
 * key until it gets a definite answer. Five times the leader's process is SIGKILLed, so the
 * leaders alternate, and started again on its data, to rejoin as a standby. Then every
 * acknowledged command is in the journal exactly once, the journal reads whole with its hash
 * chain, every node shows the journal's head and the exact balances, and the money is conserved
 * but for the withdrawals, and every opening and withdrawal got its mail (a mail sent by two
 * leaders only with the same Message-ID). Correctness only: how fast a standby takes over is the benchmark's
 * ({@code eventbank.bench.FailoverBenchmark}).
 */
class ClusterFailoverTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final String RUN = "failover";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    /** Five leader kills; the benchmark runs the same rounds, with the same checks, fifty times and more. */
    private static final int ROUNDS = 5;

    @TempDir
    Path temp;

    @Test
    void everyAcknowledgedCommandAndEveryMailOutlivesFiveLeaderKillsOnEveryNode() throws Exception {
        try (LocalCluster cluster = new LocalCluster(LocalCluster.Settings.forTests(postgres.url(), temp))) {
            NodeProcess a = cluster.add("a", true);
            NodeProcess b = cluster.add("b", true);
            NodeProcess reader = cluster.add("c", false);
            long starting = System.nanoTime();
            cluster.start(a, b, reader);
            System.out.printf("three nodes started in %.1f s%n", (System.nanoTime() - starting) / 1e9);
            Ledger ledger = new Ledger();
            RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(30)), cluster.urls(), ledger);
            List<MoneyClients.Account> accounts = MoneyClients.open(client, 12, cluster.serverKey(), RUN,
                    STEP_TIMEOUT);
            System.out.printf("%d accounts opened %.1f s after the start%n", accounts.size(),
                    (System.nanoTime() - starting) / 1e9);
            MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
            clients.start(8, 20261207);
            List<FailoverRounds.Round> rounds;
            try {
                rounds = FailoverRounds.run(cluster, ledger, ROUNDS, STEP_TIMEOUT, System.out);
            } finally {
                clients.stop(STEP_TIMEOUT);
            }

            for (int i = 0; i < rounds.size(); i++) {
                FailoverRounds.Round round = rounds.get(i);
                assertThat(round.newLeader()).as("round %d's new leader", round.number())
                        .isNotEqualTo(round.killed()).isIn(a.name(), b.name());
                if (i > 0) {
                    assertThat(round.killed()).as("the leaders alternate").isEqualTo(rounds.get(i - 1).newLeader());
                }
            }
            FailoverCheck.Verdict verdict = FailoverCheck.check(cluster, ledger, accounts, RUN, STEP_TIMEOUT);
            System.out.printf("%d commands acknowledged, %d rejected, %d answers that settled nothing; journal at"
                    + " seq %d%n", verdict.acknowledged(), ledger.rejected().size(), ledger.unsettled().size(),
                    verdict.journalSeq());
            assertThat(verdict.problems()).withFailMessage(() -> "the cluster disagrees with what its clients were"
                    + " told:\n" + String.join("\n", verdict.problems()) + cluster.consoleTails()).isEmpty();
            assertThat(verdict.lost()).isZero();
            assertThat(verdict.acknowledged()).isGreaterThan(ROUNDS * 20);

            // Mail across the kills: every opening and withdrawal got its mail from some leader;
            // one sent twice (its leader died before checkpointing it) only with the same Message-ID.
            MailAudit.Verdict mail = MailAudit.check(cluster, JournalAudit.read(cluster.settings().journalUrl()),
                    STEP_TIMEOUT);
            System.out.printf("mail: %d expected, %d missing, %d sent twice (by two leaders)%n", mail.expected(),
                    mail.missing().size(), mail.duplicates());
            assertThat(mail.problems()).withFailMessage(() -> String.join("\n", mail.problems())
                    + cluster.consoleTails()).isEmpty();
        }
    }
}
