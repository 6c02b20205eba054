package eventbank.bench;

import eventbank.testkit.cluster.FailoverRounds;
import eventbank.testkit.cluster.JsonHttp;
import eventbank.testkit.cluster.Ledger;
import eventbank.testkit.cluster.LocalCluster;
import eventbank.testkit.cluster.MoneyClients;
import eventbank.testkit.cluster.NodeProcess;
import eventbank.testkit.cluster.PostgresFailoverRounds;
import eventbank.testkit.cluster.ReplicatedPostgres;
import eventbank.testkit.cluster.RetryingClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

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
 * <p>With {@code --kills postgres} (issue 13) the PostgreSQL primary is what dies instead: the
 * journal is on a primary and a synchronous standby of Debian's PostgreSQL ({@link
 * ReplicatedPostgres}), two writer nodes on the multi-host URL of both; each round loses the
 * primary's machine under the load, promotes the standby and copies a new one from it ({@link
 * PostgresFailoverRounds}), and reports the time from the kill to the first commit on the new
 * primary, with the same checks (the journal read on the primary).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.FailoverBenchmark [--rounds 50]
 *      [--kills eventbank|postgres] [--lease PT2S] [--threads 8] [--accounts 12]
 *      [--poll-interval PT0.05S] [--keep false]
 * </pre>
 *
 * Disk: a PostgreSQL data directory and three nodes' data directories, under 200 MB; deleted at
 * the end unless {@code --keep true} (the nodes' consoles are there, {@code a.console} ...).
 * With {@code --kills postgres}, PostgreSQL's are two data directories of about 40 MB at a time,
 * in a directory of their own under {@code /tmp}, always deleted at the end. Exit code 1 when an
 * acknowledged command is lost or any check fails.
 */
public final class FailoverBenchmark {
    private static final String RUN = "bench";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(120);
    /** The journal's database on the replicated PostgreSQL of {@code --kills postgres}. */
    private static final String DATABASE = "eventbank";

    /** What each round kills. */
    private enum Kills { EVENTBANK, POSTGRES }

    private FailoverBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = 50;
        Duration lease = Duration.ofSeconds(2);
        int threads = 8;
        int accountCount = 12;
        Duration pollInterval = Duration.ofMillis(50);
        boolean keep = false;
        Kills kills = Kills.EVENTBANK;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(value);
                case "--kills" -> kills = Kills.valueOf(value.toUpperCase(Locale.ROOT));
                case "--lease" -> lease = Duration.parse(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--accounts" -> accountCount = Integer.parseInt(value);
                case "--poll-interval" -> pollInterval = Duration.parse(value);
                case "--keep" -> keep = Boolean.parseBoolean(value);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        System.out.printf("failover: %d rounds killing the %s, node.lease %s, journal.poll_interval %s, %d client"
                + " threads, %d accounts; %d processors, JDK %s%n", rounds, kills == Kills.EVENTBANK ? "leader"
                : "PostgreSQL primary", lease, pollInterval, threads, accountCount,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        Path directory = Files.createTempDirectory("failover-bench-");
        boolean sound;
        try {
            if (kills == Kills.EVENTBANK) {
                try (BenchPostgres postgres = BenchPostgres.start(directory)) {
                    sound = run(new LocalCluster.Settings(postgres.url(), lease, pollInterval, directory), null,
                            rounds, threads, accountCount);
                }
            } else {
                try (ReplicatedPostgres postgres = ReplicatedPostgres.start(ReplicatedPostgres.Replication
                        .SYNCHRONOUS)) {
                    postgres.createDatabase(DATABASE);
                    sound = run(new LocalCluster.Settings(postgres.url(DATABASE), lease, pollInterval, directory),
                            postgres, rounds, threads, accountCount);
                }
            }
        } finally {
            FailoverReport.deleteUnlessKept(directory, keep);
        }
        System.exit(sound ? 0 : 1);
    }

    /**
     * The rounds and the checks; with {@code postgres}, the rounds kill its primary (two writer
     * nodes), else the leader (two writers and a reader).
     */
    private static boolean run(LocalCluster.Settings settings, ReplicatedPostgres postgres, int rounds,
                               int threads, int accountCount) throws Exception {
        try (LocalCluster cluster = new LocalCluster(settings)) {
            NodeProcess a = cluster.add("a", true);
            NodeProcess b = cluster.add("b", true);
            if (postgres == null) {
                cluster.start(a, b, cluster.add("c", false));
            } else {
                cluster.start(a, b);
            }
            Ledger ledger = new Ledger();
            RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(30)), cluster.urls(), ledger);
            List<MoneyClients.Account> accounts = MoneyClients.open(client, accountCount, cluster.serverKey(), RUN,
                    STEP_TIMEOUT);
            MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
            long started = System.nanoTime();
            clients.start(threads, System.nanoTime());
            long[] millis;
            try {
                millis = postgres == null
                        ? FailoverRounds.run(cluster, ledger, rounds, STEP_TIMEOUT, System.out).stream()
                                .mapToLong(round -> round.killToFirstCommitNanos() / 1_000_000).sorted().toArray()
                        : postgresRounds(cluster, postgres, ledger, rounds);
            } finally {
                clients.stop(STEP_TIMEOUT);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            String journalUrl = postgres == null ? settings.journalUrl() : postgres.primary().url(DATABASE);
            System.out.printf("kill to the %s over %d rounds: p50 %d ms, max %d ms, min %d ms (target: at most"
                    + " 5,000 ms)%n", postgres == null ? "new leader's first commit" : "first commit on the new"
                    + " primary", millis.length, millis[(millis.length - 1) / 2], millis[millis.length - 1], millis[0]);
            return FailoverReport.checkAndPrint(cluster, ledger, accounts, RUN, seconds, rounds, STEP_TIMEOUT,
                    journalUrl);
        }
    }

    /**
     * The rounds of {@code --kills postgres}: prints the promotions' times, returns the times from
     * the kill to the first commit, sorted, in milliseconds.
     */
    private static long[] postgresRounds(LocalCluster cluster, ReplicatedPostgres postgres, Ledger ledger,
                                         int rounds) throws Exception {
        List<PostgresFailoverRounds.Round> done = PostgresFailoverRounds.run(cluster, postgres, DATABASE, ledger,
                rounds, STEP_TIMEOUT, System.out);
        long[] promotions = done.stream().mapToLong(round -> round.killToPromotedNanos() / 1_000_000).sorted()
                .toArray();
        System.out.printf("kill to the standby out of recovery (pg_promote) over %d rounds: p50 %d ms, max %d ms%n",
                promotions.length, promotions[(promotions.length - 1) / 2], promotions[promotions.length - 1]);
        return done.stream().mapToLong(round -> round.killToFirstCommitNanos() / 1_000_000).sorted().toArray();
    }
}
