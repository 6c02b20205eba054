package eventbank.bench.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent clients, each on its own thread with its own seeded random source, doing what bank
 * customers do: transfers (50%; up to $300, so that some accounts run dry and refusals happen
 * too), withdrawals (20%), reads of the balance or the statement (25%) and account openings
 * (5%, up to {@code accountsMax}), every state-changing request with a fresh Idempotency-Key. A client that finds an account opened but not usable follows its link
 * and logs in. Clients run until {@link #stop()}, whatever the server is doing meanwhile: a
 * request to a killed server is simply recorded as unanswered. On a cluster a client sends an
 * unanswered command again with its key until it is answered (a failover is a pause there, not
 * an end), so the commands left unanswered at a fault are at most one a client.
 */
final class Workload {
    private static final long TRANSFER_CENTS_MAX = 30_000;
    private static final long WITHDRAW_CENTS_MAX = 300;
    private static final long BACKOFF_MILLIS = 20;

    private final Ledger ledger;
    private final Requests requests;
    private final int clients;
    private final int accountsMax;
    private final SplittableRandom seeds;
    /** Send an unanswered command again until it is answered, rather than go on to the next. */
    private final boolean retryUnanswered;
    private final AtomicLong acknowledged = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    Workload(Ledger ledger, Requests requests, int clients, int accountsMax, SplittableRandom seeds) {
        this(ledger, requests, clients, accountsMax, seeds, false);
    }

    Workload(Ledger ledger, Requests requests, int clients, int accountsMax, SplittableRandom seeds,
             boolean retryUnanswered) {
        this.retryUnanswered = retryUnanswered;
        this.ledger = ledger;
        this.requests = requests;
        this.clients = clients;
        this.accountsMax = accountsMax;
        this.seeds = seeds;
    }

    /** Operations its clients saw acknowledged since it was made (not those the harness settles after a fault). */
    long acknowledged() {
        return acknowledged.get();
    }

    void start() {
        stopping = false;
        for (int i = 0; i < clients; i++) {
            SplittableRandom random = seeds.split();
            threads.add(Thread.ofPlatform().name("fault-client-" + i).daemon().start(() -> run(random)));
        }
    }

    /** Stops the clients and waits for their requests in flight to end (answered or failed). */
    void stop() throws InterruptedException {
        stopping = true;
        for (Thread thread : threads) {
            thread.join();
        }
        threads.clear();
    }

    private void run(SplittableRandom random) {
        try {
            while (!stopping) {
                step(random);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void step(SplittableRandom random) throws InterruptedException {
        List<Account> accounts = ledger.accounts();
        List<Account> usable = new ArrayList<>(accounts.size());
        for (Account account : accounts) {
            if (account.usable()) {
                usable.add(account);
            } else if (account.number() != null && random.nextInt(4) == 0) {
                requests.makeUsable(account);
            }
        }
        int roll = random.nextInt(100);
        if (usable.size() < 2 || roll < 5) {
            if (accounts.size() < accountsMax) {
                perform(ledger.newOperation(Operation.Kind.OPEN, ledger.newAccount(), null, 0));
            } else if (usable.size() < 2) {
                Thread.onSpinWait();
            }
            return;
        }
        Account account = usable.get(random.nextInt(usable.size()));
        if (roll < 55) {
            Account to = usable.get(random.nextInt(usable.size()));
            if (to != account) {
                perform(ledger.newOperation(Operation.Kind.TRANSFER, account, to,
                        1 + random.nextLong(TRANSFER_CENTS_MAX)));
            }
        } else if (roll < 75) {
            perform(ledger.newOperation(Operation.Kind.WITHDRAW, account, null, 1 + random.nextLong(WITHDRAW_CENTS_MAX)));
        } else if (roll < 90) {
            requests.readBalance(account);
        } else {
            requests.readStatement(account);
        }
    }

    private void perform(Operation operation) throws InterruptedException {
        requests.execute(operation);
        while (retryUnanswered && operation.state() == Operation.State.UNKNOWN && !stopping) {
            Thread.sleep(BACKOFF_MILLIS);
            requests.execute(operation);
        }
        if (operation.state() == Operation.State.ACKNOWLEDGED) {
            acknowledged.incrementAndGet();
        } else if (operation.state() == Operation.State.UNKNOWN) {
            // A client backs off when the server is down or failed, as real ones do; the harness
            // retries this operation with its key after the restart.
            Thread.sleep(BACKOFF_MILLIS);
        }
    }
}
