package eventbank.bench.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The checker's own record of one run: every account it opened, every state-changing request
 * with its key and what came back, and the anomalies seen on the way (a reply no correct server
 * gives). It never asks the server what happened: the server's state is checked against it.
 */
final class Ledger {
    static final long OPENING_BALANCE = 100_000;

    private final String keyPrefix;
    private final AtomicLong nextKey = new AtomicLong();
    private final AtomicLong nextEmail = new AtomicLong();
    private final Map<String, Operation> operations = new ConcurrentHashMap<>();
    /** Accounts whose opening was acknowledged, in that order. */
    private final CopyOnWriteArrayList<Account> accounts = new CopyOnWriteArrayList<>();
    private final List<String> anomalies = new CopyOnWriteArrayList<>();
    final LongAdder requests = new LongAdder();
    final LongAdder reads = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder replaysChecked = new LongAdder();
    private final Map<String, LongAdder> answers = new ConcurrentHashMap<>();

    Ledger(String keyPrefix) {
        this.keyPrefix = keyPrefix;
    }

    Operation newOperation(Operation.Kind kind, Account account, Account to, long amount) {
        Operation operation = new Operation(keyPrefix + "-" + nextKey.incrementAndGet(), kind, account, to, amount);
        operations.put(operation.key, operation);
        return operation;
    }

    Account newAccount() {
        long n = nextEmail.incrementAndGet();
        return new Account(keyPrefix + "-" + n + "@example.com", "password-" + keyPrefix + "-" + n);
    }

    /** Records an acknowledged opening; an account is listed once however often it is acknowledged. */
    synchronized void opened(Account account) {
        if (!accounts.contains(account)) {
            accounts.add(account);
        }
    }

    List<Account> accounts() {
        return accounts;
    }

    List<Operation> operations() {
        return new ArrayList<>(operations.values());
    }

    Operation operation(String key) {
        return operations.get(key);
    }

    List<Operation> unresolved() {
        List<Operation> open = new ArrayList<>();
        for (Operation operation : operations.values()) {
            Operation.State state = operation.state();
            if (state == Operation.State.UNKNOWN || state == Operation.State.PENDING) {
                open.add(operation);
            }
        }
        return open;
    }

    long count(Operation.State state) {
        return operations.values().stream().filter(operation -> operation.state() == state).count();
    }

    void anomaly(String sentence) {
        anomalies.add(sentence);
    }

    List<String> anomalies() {
        return List.copyOf(anomalies);
    }

    /** Counts one reply by what it was: {@code 200}, {@code 422 insufficient_funds}, {@code no reply}... */
    void answered(String what) {
        answers.computeIfAbsent(what, ignored -> new LongAdder()).increment();
    }

    Map<String, Long> answers() {
        Map<String, Long> counts = new TreeMap<>();
        answers.forEach((what, count) -> counts.put(what, count.sum()));
        return counts;
    }
}
