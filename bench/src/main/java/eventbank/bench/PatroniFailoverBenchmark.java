package eventbank.bench;

import eventbank.bench.patroni.PatroniPair;
import eventbank.testkit.cluster.JsonHttp;
import eventbank.testkit.cluster.Ledger;
import eventbank.testkit.cluster.LocalCluster;
import eventbank.testkit.cluster.MoneyClients;
import eventbank.testkit.cluster.NodeProcess;
import eventbank.testkit.cluster.RetryingClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The loss of the PostgreSQL primary (issue 13), with real Patroni: two PostgreSQL instances in
 * synchronous mode ({@link PatroniPair}, configured by {@code bench/patroni/*.yml}); two eventbank
 * writers and a reader ({@code eventbank serve} child processes) on a multi-host {@code
 * journal.url} over both, the writers with {@code journal.require_sync_standby=true}; client
 * threads committing transfers and withdrawals with Idempotency-Keys, each retried until its
 * answer is definite. Each round SIGKILLs the primary's postmaster and its children, and waits
 * until Patroni has promoted the standby, a client has had a command acknowledged after that
 * (the first commit on the new primary), and the old
 * primary is back as the synchronous standby. It reports, per round and as p50 and max, the time
 * from the kill to the promotion, to the first acknowledgement, and to the pair being whole again;
 * then the checks of the failover test: every acknowledged command in the journal once, where it
 * was acknowledged, the chain whole, the balances on every node, the mail.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.PatroniFailoverBenchmark [--rounds 12]
 *      [--config bench/patroni] [--lease PT2S] [--threads 8] [--accounts 12] [--poll-interval PT0.05S]
 *      [--keep false]
 * </pre>
 *
 * Needs Debian's {@code patroni} and {@code etcd-server}, and root or the {@code postgres} user;
 * bench/run-patroni.sh checks for them. Exit code 1 when an acknowledged command is lost or a
 * check fails.
 */
public final class PatroniFailoverBenchmark {
    private static final String RUN = "patroni";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(180);
    /** Acknowledgements after the pair is whole again before the next kill: the load is back. */
    private static final int ACKS_BEFORE_KILL = 20;
    /** Between two looks: one at the promotion opens a PostgreSQL session. */
    private static final long POLL_MILLIS = 50;

    /** One round's times from the kill, in nanoseconds. */
    private record Round(String killed, long toPromotion, long toFirstAck, long toWhole) {}

    private PatroniFailoverBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = 12;
        Path config = Path.of("bench/patroni");
        Duration lease = Duration.ofSeconds(2);
        int threads = 8;
        int accountCount = 12;
        Duration pollInterval = Duration.ofMillis(50);
        boolean keep = false;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(value);
                case "--config" -> config = Path.of(value);
                case "--lease" -> lease = Duration.parse(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--accounts" -> accountCount = Integer.parseInt(value);
                case "--poll-interval" -> pollInterval = Duration.parse(value);
                case "--keep" -> keep = Boolean.parseBoolean(value);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        System.out.printf("patroni failover: %d rounds, node.lease %s, journal.poll_interval %s, %d client threads,"
                + " %d accounts; %d processors, JDK %s%n", rounds, lease, pollInterval, threads, accountCount,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        Path directory = Files.createTempDirectory("patroni-bench-");
        boolean sound;
        try (PatroniPair pair = PatroniPair.start(config, System.out)) {
            sound = run(pair, new LocalCluster.Settings(PatroniPair.journalUrl(), lease, pollInterval, directory), rounds,
                    threads, accountCount);
        } finally {
            FailoverReport.deleteUnlessKept(directory, keep);
        }
        System.exit(sound ? 0 : 1);
    }

    private static boolean run(PatroniPair pair, LocalCluster.Settings settings, int rounds, int threads,
                               int accountCount) throws Exception {
        try (LocalCluster cluster = new LocalCluster(settings)) {
            // Stopped by a signal (Ctrl-C, SIGTERM), the run leaves no node behind (the pair stops itself).
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    cluster.close();
                } catch (IOException | InterruptedException e) {
                    System.err.println("stopping the run's processes: " + e);
                }
            }));
            Map<String, String> sync = Map.of("EVENTBANK_JOURNAL_REQUIRE_SYNC_STANDBY", "true");
            NodeProcess a = cluster.add("a", true, sync);
            NodeProcess b = cluster.add("b", true, sync);
            NodeProcess reader = cluster.add("c", false);
            cluster.start(a, b, reader);
            Ledger ledger = new Ledger();
            RetryingClient client = new RetryingClient(new JsonHttp(Duration.ofSeconds(30)), cluster.urls(), ledger);
            List<MoneyClients.Account> accounts = MoneyClients.open(client, accountCount, cluster.serverKey(), RUN,
                    STEP_TIMEOUT);
            MoneyClients clients = new MoneyClients(client, accounts, ledger, RUN);
            long started = System.nanoTime();
            clients.start(threads, System.nanoTime());
            List<Round> done = new ArrayList<>();
            try {
                for (int number = 1; number <= rounds; number++) {
                    done.add(round(pair, cluster, ledger, number));
                }
            } finally {
                clients.stop(STEP_TIMEOUT);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("over %d kills of the primary, from the kill (p50, max): Patroni promoted the standby"
                    + " %s; the first command acknowledged %s; the old primary back as the synchronous standby %s%n",
                    done.size(), percentiles(done, Round::toPromotion), percentiles(done, Round::toFirstAck),
                    percentiles(done, Round::toWhole));
            System.out.println("the old primaries rejoined: " + pair.rejoins());
            return FailoverReport.checkAndPrint(cluster, ledger, accounts, RUN, seconds, done.size(), STEP_TIMEOUT,
                    PatroniPair.journalUrl());
        }
    }

    /**
     * Waits for the pair to be whole and the load to be on it, kills the primary, and waits for
     * the promotion, the first acknowledgement after the kill, and the pair whole again.
     */
    private static Round round(PatroniPair pair, LocalCluster cluster, Ledger ledger, int number) throws Exception {
        pair.awaitWhole(STEP_TIMEOUT);
        long whole = System.nanoTime();
        int acked = ledger.ackedCount();
        await(() -> ledger.ackedCount() >= acked + ACKS_BEFORE_KILL, () -> "fewer than " + ACKS_BEFORE_KILL
                + " commands were acknowledged with the pair whole; the nodes:" + healthOf(cluster));
        long killed = System.nanoTime();
        PatroniPair.Member old = pair.killPrimary();
        PatroniPair.Member standby = PatroniPair.MEMBERS.stream().filter(member -> member != old).findFirst()
                .orElseThrow();
        await(() -> pair.isPrimary(standby), () -> "Patroni did not promote " + standby);
        long promoted = System.nanoTime();
        // No commit can end on the new primary before its promotion; an acknowledgement between the
        // kill and the promotion is of a commit the old primary (and its standby) ended before the kill.
        Ledger.Acked[] first = new Ledger.Acked[1];
        await(() -> (first[0] = ledger.firstAckAfter(promoted, null)) != null,
                () -> "no command was acknowledged after the promotion; the nodes:" + healthOf(cluster));
        pair.awaitWhole(STEP_TIMEOUT);
        long rejoined = System.nanoTime();
        Round round = new Round(old.name(), promoted - killed, first[0].receivedNanos() - killed, rejoined - killed);
        System.out.printf("round %d: killed the primary %s %.1f s after the pair was whole; %s promoted %.0f ms"
                + " later, the first command acknowledged (seq %d, by %s) after %.0f ms, %s the synchronous standby"
                + " again after %.0f ms%n", number, old, (killed - whole) / 1e9, standby.name(), round.toPromotion() / 1e6,
                first[0].seq(), nameOf(cluster, first[0].nodeUrl()), round.toFirstAck() / 1e6, old.name(),
                round.toWhole() / 1e6);
        return round;
    }

    private static String percentiles(List<Round> rounds, ToLongFunction<Round> time) {
        long[] millis = rounds.stream().mapToLong(round -> time.applyAsLong(round) / 1_000_000).toArray();
        Arrays.sort(millis);
        return String.format("%d ms, %d ms", millis[(millis.length - 1) / 2], millis[millis.length - 1]);
    }

    private static String nameOf(LocalCluster cluster, String url) {
        return cluster.nodes().stream().filter(node -> node.url().equals(url)).map(NodeProcess::name).findFirst()
                .orElse(url);
    }

    private static String healthOf(LocalCluster cluster) {
        try {
            return cluster.healthOfAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return " (interrupted)";
        }
    }

    private static void await(BooleanSupplier condition, Supplier<String> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(failure.get() + " within " + STEP_TIMEOUT);
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }
}
