package eventbank.bench.faults;

import eventbank.bench.patroni.PatroniPair;
import eventbank.testkit.cluster.LocalCluster;
import eventbank.testkit.cluster.NodeProcess;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One cluster run of the harness: a fresh PostgreSQL pair under Patroni in synchronous mode
 * ({@link PatroniPair}), two eventbank writers and a reader on it ({@link LocalCluster}: real
 * {@code eventbank serve} processes, a multi-host {@code journal.url},
 * {@code journal.require_sync_standby=true} on the writers), the harness's clients under load on
 * the leader, and a series of cluster faults: SIGKILL of the eventbank node that leads (a standby
 * takes over; the node restarts on its data) and SIGKILL of the PostgreSQL primary (Patroni
 * promotes the standby; the old primary rejoins). After each, as in every run, the retries with
 * the keys, the replays, and the {@link Checker}, which reads the journal in PostgreSQL with the
 * command-line tools ({@code --journal-url}), the mails of every node, every read route of the
 * leader (with the cluster's operator key), and the balances and health of every node.
 */
final class ClusterFaultRun {
    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(50);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(FaultSteps.FAULT_WAIT_SECONDS_MAX);

    private final FaultHarness.Options options;
    private final int number;
    private final Tally tally;
    private final PrintStream out;
    private final LocalCluster cluster;
    private final List<NodeProcess> writers = new ArrayList<>();
    private final NodeProcess reader;
    private final Ledger ledger;
    private final BankClient client = new BankClient();
    private final Checker checker;
    private final Workload workload;
    private final FaultSteps steps;
    /** Failures of the fault step itself, reported with the next check. */
    private final List<String> pending = new ArrayList<>();
    private PatroniPair pair;

    ClusterFaultRun(FaultHarness.Options options, int number, long seed, Path directory, Tally tally, PrintStream out)
            throws IOException {
        this.options = options;
        this.number = number;
        this.tally = tally;
        this.out = out;
        SplittableRandom random = new SplittableRandom(seed);
        this.cluster = new LocalCluster(new LocalCluster.Settings(PatroniPair.journalUrl(), LEASE, POLL_INTERVAL,
                directory));
        Map<String, String> sync = Map.of("EVENTBANK_JOURNAL_REQUIRE_SYNC_STANDBY", "true");
        writers.add(cluster.add("a", true, sync));
        writers.add(cluster.add("b", true, sync));
        this.reader = cluster.add("c", false);
        this.ledger = new Ledger("c" + number);
        List<Path> consoles = cluster.nodes().stream().map(NodeProcess::console).toList();
        Requests requests = new Requests(client, ledger, new ConsoleLinks(consoles, null));
        this.checker = new Checker(client, requests, LocalCluster.OPERATOR_KEY, null);
        this.workload = new Workload(ledger, requests, options.clients(), options.accountsMax(), random.split(), true);
        this.steps = new FaultSteps(random, options.acksMax(), ledger, requests, workload, tally);
    }

    /** Runs the faults; answers the failures found (empty when everything held). */
    List<String> run(List<Fault> faults) throws Exception {
        List<String> failures = new ArrayList<>();
        // Stopped by a signal (Ctrl-C, SIGTERM), the harness leaves no node behind.
        Thread abandon = new Thread(this::abandon);
        Runtime.getRuntime().addShutdownHook(abandon);
        try {
            pair = PatroniPair.start(options.patroniConfig(), out);
            cluster.start(writers.getFirst(), writers.getLast(), reader);
            tally.restarts += cluster.nodes().size();
            client.baseUrl(cluster.awaitLeader(STEP_TIMEOUT).url());
            for (int i = 0; i < faults.size() && failures.isEmpty(); i++) {
                long started = System.nanoTime();
                String what = inject(faults.get(i));
                failures.addAll(afterFault());
                out.printf("cluster run %d fault %d/%d %s: %s; %d acknowledged so far, %d checks, %.1f s%s%n", number,
                        i + 1, faults.size(), faults.get(i).label(), what, ledger.count(Operation.State.ACKNOWLEDGED),
                        checker.checks(), (System.nanoTime() - started) / 1e9,
                        failures.isEmpty() ? "" : "; FAILED:\n  " + String.join("\n  ", failures));
            }
        } catch (IOException | IllegalStateException e) {
            failures.add("cluster run " + number + ": " + e.getMessage() + "\nthe nodes: " + cluster.healthOfAll()
                    + cluster.consoleTails());
        } finally {
            workload.stop();
            stopNodes(failures);
            if (pair != null) {
                pair.close();
            }
            tally.add(ledger);
            tally.checks += checker.checks();
            tally.lost += checker.lost();
            tally.mismatches += checker.mismatches();
            tally.events += ledger.operations().stream().mapToLong(Operation::seq).max().orElse(0);
            try {
                Runtime.getRuntime().removeShutdownHook(abandon);
            } catch (IllegalStateException shuttingDown) {
                // The hook runs already.
            }
        }
        return failures;
    }

    /** SIGKILL of every node: what is left when the harness is stopped (the pair stops itself). */
    private void abandon() {
        try {
            cluster.close();
        } catch (IOException | InterruptedException e) {
            System.err.println("cluster run " + number + ": stopping its processes: " + e);
        }
    }

    private String inject(Fault fault) throws Exception {
        tally.fault(fault);
        // The leader may change in either fault: a mail may then be sent again (same Message-ID).
        checker.resendsPossible();
        return switch (fault) {
            case LEADER_KILL -> leaderKill();
            case PRIMARY_KILL -> primaryKill();
            case SIGKILL, SIGTERM, JOURNAL_FSYNC, JOURNAL_WRITE, SNAPSHOT, READMODEL_KILL, DISK_FULL, SMTP_DOWN ->
                    throw new IllegalArgumentException(fault.label() + " is played on one server: FaultRun plays it");
        };
    }

    /** SIGKILL of the node that leads, under load; another must acknowledge; the node restarts on its data. */
    private String leaderKill() throws Exception {
        String when = steps.loadUntilFaultPoint();
        NodeProcess leader = cluster.awaitLeader(STEP_TIMEOUT);
        long killed = System.nanoTime();
        leader.kill();
        // Counted from when another node leads: a reply the old leader sent before it died may be
        // counted a moment after the kill.
        NodeProcess next = cluster.awaitLeader(STEP_TIMEOUT);
        long toLeader = System.nanoTime() - killed;
        // What a load balancer does, checking GET /health/leader: the killed node answers nothing
        // (no not_leader to follow), so the clients are sent to the new leader.
        client.baseUrl(next.url());
        long acknowledged = workload.acknowledged();
        boolean acknowledgedAfter = await(() -> workload.acknowledged() > acknowledged);
        long toFirstAck = System.nanoTime() - killed;
        workload.stop();
        expect(acknowledgedAfter, "no operation was acknowledged within " + STEP_TIMEOUT + " of " + next.name()
                + " taking over from " + leader.name());
        leader.start();
        tally.restarts++;
        client.baseUrl(cluster.awaitLeader(STEP_TIMEOUT).url());
        return "SIGKILL of the leader " + leader.name() + " " + when + "; " + next.name() + " led after " + toLeader
                / 1_000_000 + " ms, an operation acknowledged after " + toFirstAck / 1_000_000 + " ms, "
                + leader.name() + " restarted";
    }

    /**
     * SIGKILL of the PostgreSQL primary (postmaster and children), under load; Patroni must promote
     * the standby, an operation must be acknowledged after that, and the old primary must come
     * back as the synchronous standby.
     */
    private String primaryKill() throws Exception {
        String when = steps.loadUntilFaultPoint();
        long killed = System.nanoTime();
        PatroniPair.Member old = pair.killPrimary();
        PatroniPair.Member standby = PatroniPair.MEMBERS.stream().filter(member -> member != old).findFirst()
                .orElseThrow();
        boolean promoted = await(() -> pair.isPrimary(standby));
        long toPromotion = System.nanoTime() - killed;
        long acknowledged = workload.acknowledged();
        boolean acknowledgedAfter = await(() -> workload.acknowledged() > acknowledged);
        long toFirstAck = System.nanoTime() - killed;
        workload.stop();
        expect(promoted, "Patroni did not promote " + standby + " within " + STEP_TIMEOUT + " of the SIGKILL of the"
                + " primary " + old);
        expect(acknowledgedAfter, "no operation was acknowledged within " + STEP_TIMEOUT + " of the promotion of "
                + standby);
        pair.awaitWhole(STEP_TIMEOUT);
        long toWhole = System.nanoTime() - killed;
        client.baseUrl(cluster.awaitLeader(STEP_TIMEOUT).url());
        return "SIGKILL of the PostgreSQL primary " + old + " " + when + "; " + standby.name() + " promoted after "
                + toPromotion / 1_000_000 + " ms, an operation acknowledged after " + toFirstAck / 1_000_000 + " ms, "
                + old.name() + " the synchronous standby again after " + toWhole / 1_000_000 + " ms";
    }

    private List<String> afterFault() throws Exception {
        steps.settle();
        tally.checkRounds++;
        List<String> found = new ArrayList<>(pending);
        pending.clear();
        // The client may have followed a not_leader to another node meanwhile: the others are the rest.
        List<String> others = cluster.nodes().stream().filter(NodeProcess::alive).map(NodeProcess::url)
                .filter(url -> !url.equals(client.baseUrl())).toList();
        List<Path> outboxes = writers.stream().map(node -> node.dataDirectory().resolve("outbox")).toList();
        found.addAll(checker.checkAll(ledger, new Checker.Place(List.of("--journal-url", PatroniPair.journalUrl()),
                outboxes, others), true));
        return found;
    }

    /** SIGTERM to every node: each must stop cleanly (exit status 0). */
    private void stopNodes(List<String> failures) throws InterruptedException {
        for (NodeProcess node : cluster.nodes()) {
            if (node.alive()) {
                int status = node.terminate();
                if (status != 0 && failures.isEmpty()) {
                    failures.add("cluster run " + number + ": SIGTERM ended " + node.name() + " with status " + status);
                }
            }
        }
    }

    private void expect(boolean holds, String failure) {
        if (!holds) {
            pending.add(failure);
        }
    }

    /** Whether {@code condition} came to hold within the step timeout, polled every 50 ms. */
    private static boolean await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return true;
    }
}
