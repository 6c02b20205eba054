package eventbank.bench.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * What every run does around a fault, on one server ({@link FaultRun}) or a cluster
 * ({@link ClusterFaultRun}): the load up to a random moment, and afterwards the retry of every
 * operation whose outcome is unknown and the replay of a few acknowledged keys.
 */
final class FaultSteps {
    static final long FAULT_WAIT_SECONDS_MAX = 120;
    private static final long RESOLVE_SECONDS_MAX = 180;
    private static final int REPLAYS_PER_ROUND = 8;

    private final SplittableRandom random;
    private final int acksMax;
    private final Ledger ledger;
    private final Requests requests;
    private final Workload workload;
    private final Tally tally;

    FaultSteps(SplittableRandom random, int acksMax, Ledger ledger, Requests requests, Workload workload,
               Tally tally) {
        this.random = random;
        this.acksMax = acksMax;
        this.ledger = ledger;
        this.requests = requests;
        this.workload = workload;
        this.tally = tally;
    }

    /**
     * Starts the clients and waits for a random point: after 1 to acksMax more acknowledged
     * operations, or, one time in five, a random 0 to 1.5 s after the start.
     */
    String loadUntilFaultPoint() throws InterruptedException {
        workload.start();
        if (random.nextInt(5) == 0) {
            long millis = random.nextLong(1500);
            TimeUnit.MILLISECONDS.sleep(millis); // the fault's moment itself, chosen at random
            return "at " + millis + " ms";
        }
        long target = workload.acknowledged() + 1 + random.nextInt(acksMax);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FAULT_WAIT_SECONDS_MAX);
        while (workload.acknowledged() < target && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(1); // polling the acknowledgement count
        }
        return "after " + workload.acknowledged() + " acknowledged";
    }

    /**
     * Opens accounts when fewer than two are (the first fault may come before any), retries every
     * operation whose outcome is unknown, and replays a few acknowledged keys: what comes before
     * each round of the checker.
     */
    void settle() throws InterruptedException {
        while (ledger.accounts().size() < 2) {
            requests.execute(ledger.newOperation(Operation.Kind.OPEN, ledger.newAccount(), null, 0));
        }
        resolve();
        replayAcknowledged();
    }

    /** Retries every operation whose outcome is unknown, with its key, until it is settled (bounded). */
    private void resolve() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RESOLVE_SECONDS_MAX);
        List<Operation> open = ledger.unresolved();
        tally.resolvedAfterFaults += open.size();
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            for (Operation operation : open) {
                requests.execute(operation);
            }
            open = ledger.unresolved();
            if (!open.isEmpty()) {
                TimeUnit.MILLISECONDS.sleep(50); // the server answered busy or starting: retry shortly
            }
        }
        tally.resolvedAfterFaults -= open.size();
    }

    /** Sends a few acknowledged keys again: each must be answered with its first seq. */
    private void replayAcknowledged() throws InterruptedException {
        List<Operation> acknowledged = new ArrayList<>();
        for (Operation operation : ledger.operations()) {
            if (operation.state() == Operation.State.ACKNOWLEDGED) {
                acknowledged.add(operation);
            }
        }
        for (int i = 0; i < REPLAYS_PER_ROUND && !acknowledged.isEmpty(); i++) {
            Operation operation = acknowledged.remove(random.nextInt(acknowledged.size()));
            requests.execute(operation);
            ledger.replaysChecked.increment();
        }
    }
}
