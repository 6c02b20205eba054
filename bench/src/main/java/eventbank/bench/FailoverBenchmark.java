package eventbank.bench;

import eventbank.testkit.cluster.FailoverCheck;
import eventbank.testkit.cluster.JournalAudit;
import eventbank.testkit.cluster.MailAudit;
import eventbank.testkit.cluster.FailoverRounds;
import eventbank.testkit.cluster.JsonHttp;
import eventbank.testkit.cluster.Ledger;
import eventbank.testkit.cluster.LocalCluster;
import eventbank.testkit.cluster.MoneyClients;
import eventbank.testkit.cluster.NodeProcess;
import eventbank.testkit.cluster.RetryingClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Failover (issue 12): how long a cluster goes without a leader when the leader's process dies,
 * and that no acknowledged command is lost. The scenario of the suite's {@code
 * ClusterFailoverTest} ({@link FailoverRounds}), for many rounds: three {@code eventbank serve}
 * processes (two writers, a reader) on a PostgreSQL started from the embedded binaries
 * ({@link BenchPostgres}, fsync and synchronous_commit on); client threads commit transfers and
 * withdrawals with Idempotency-Keys, retrying each until it is answered for good; each round
 * SIGKILLs the leader, waits for another node's first acknowledgement, and starts the killed
 * node again on its data. It reports the time from the kill to that first acknowledgement
 * (p50, max; target ≤ 5 s) and the acknowledged commands the journal lacks (must be 0), after
 * the checks of the test (each acknowledged command recorded once, the chain, the balances on
 * every node).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.FailoverBenchmark [--rounds 50]
 *      [--lease PT2S] [--threads 8] [--accounts 12] [--poll-interval PT0.05S] [--keep false]
 * </pre>
 *
 * Disk: a PostgreSQL data directory and three nodes' data directories, under 200 MB; deleted at
 * the end unless {@code --keep true} (the nodes' consoles are there, {@code a.console} ...).
 * Exit code 1 when an acknowledged command is lost or any check fails.
 */
public final class FailoverBenchmark {
    private static final String RUN = "bench";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(120);

    private FailoverBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = 50;
        Duration lease = Duration.ofSeconds(2);
        int threads = 8;
        int accountCount = 12;
        Duration pollInterval = Duration.ofMillis(50);
        boolean keep = false;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(value);
                case "--lease" -> lease = Duration.parse(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--accounts" -> accountCount = Integer.parseInt(value);
                case "--poll-interval" -> pollInterval = Duration.parse(value);
                case "--keep" -> keep = Boolean.parseBoolean(value);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        System.out.printf("failover: %d rounds, node.lease %s, journal.poll_interval %s, %d client threads, %d"
                + " accounts; %d processors, JDK %s%n", rounds, lease, pollInterval, threads, accountCount,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        Path directory = Files.createTempDirectory("failover-bench-");
        boolean sound;
        try (BenchPostgres postgres = BenchPostgres.start(directory)) {
            sound = run(new LocalCluster.Settings(postgres.url(), lease, pollInterval, directory), rounds, threads,
                    accountCount);
        } finally {
            if (keep) {
                System.out.println("kept " + directory);
            } else {
                try (Stream<Path> files = Files.walk(directory)) {
                    files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
                }
            }
        }
        System.exit(sound ? 0 : 1);
    }

    private static boolean run(LocalCluster.Settings settings, int rounds, int threads, int accountCount)
            throws Exception {
        try (LocalCluster cluster = new LocalCluster(settings)) {
            NodeProcess a = cluster.add("a", true);
            NodeProcess b = cluster.add("b", true);
            NodeProcess reader = cluster.add("c", false);
            cluster.start(a, b, reader);
            Ledger ledger = new Ledger();
            RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(30)), cluster.urls(), ledger);
            List<MoneyClients.Account> accounts = MoneyClients.open(client, accountCount, cluster.serverKey(), RUN,
                    STEP_TIMEOUT);
            MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
            long started = System.nanoTime();
            clients.start(threads, System.nanoTime());
            List<FailoverRounds.Round> done;
            try {
                done = FailoverRounds.run(cluster, ledger, rounds, STEP_TIMEOUT, System.out);
            } finally {
                clients.stop(STEP_TIMEOUT);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            FailoverCheck.Verdict verdict = FailoverCheck.check(cluster, ledger, accounts, RUN, STEP_TIMEOUT);
            long[] millis = done.stream().mapToLong(round -> round.killToFirstCommitNanos() / 1_000_000).sorted()
                    .toArray();
            System.out.printf("kill to the new leader's first commit over %d rounds: p50 %d ms, max %d ms, min %d ms"
                    + " (target: at most 5,000 ms)%n", millis.length, millis[(millis.length - 1) / 2],
                    millis[millis.length - 1], millis[0]);
            System.out.printf("%d commands acknowledged in %.0f s (%d rejected, %d answers that settled nothing:"
                    + " 503s and refused connections); journal at seq %d%n", verdict.acknowledged(), seconds,
                    ledger.rejected().size(), ledger.unsettled().size(), verdict.journalSeq());
            System.out.printf("acknowledged but lost: %d; disagreements found by the checks (the lost among them):"
                    + " %d%n", verdict.lost(), verdict.problems().size());
            verdict.problems().stream().limit(20).forEach(problem -> System.out.println("  " + problem));
            MailAudit.Verdict mail = MailAudit.check(cluster, JournalAudit.read(cluster.settings().journalUrl()),
                    STEP_TIMEOUT);
            System.out.printf("mail across the %d kills: %d openings and withdrawals, %d without a mail, %d sent"
                    + " twice (by two leaders), %d problems%n", rounds, mail.expected(), mail.missing().size(),
                    mail.duplicates(), mail.problems().size());
            mail.problems().stream().limit(20).forEach(problem -> System.out.println("  " + problem));
            return verdict.lost() == 0 && verdict.problems().isEmpty() && mail.problems().isEmpty();
        }
    }
}
