package eventbank.server.readmodel;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operations accepted under an Idempotency-Key, by scope and key: for
 * {@code GET /api/operations/{key}}, and to repeat the first reply when the engine answers a
 * retry with {@code Outcome.Replayed(seq)}. It keeps its own balances to know the balance a
 * transfer or withdrawal left behind, which the first reply carried.
 *
 * <p>Keys expire as the write model's do ({@code IdempotencyLog}): a key used at time t is live
 * while {@code t >= now - window}. Two lookups, because "now" differs:
 * <ul>
 *   <li>{@link #find} answers whether a key is live at a time the caller gives (the clock of
 *       {@code GET /api/operations/{key}}), exactly by the write model's rule;</li>
 *   <li>{@link #replayed} answers the operation at the seq the engine named. The engine found
 *       the key live when it decided, but this model may have applied later events since, whose
 *       time would expire the key here a moment later: so entries are kept
 *       {@link #RETAINED_BEYOND_WINDOW_MICROS} longer than the window, by the time of the newest
 *       event, and a replay is answered unless its handler waited that long.</li>
 * </ul>
 *
 * <p>Concurrency: operations are immutable records in a {@link ConcurrentHashMap}, read without
 * locks; the queue of keys by age and the balances belong to the subscription thread.
 *
 * <p>Memory, measured: about 190 bytes per kept key of 10 characters (the record, the scoped
 * key, the map's node and table slot, the queue's slot, the key string, shared with the decoded
 * event), and about 50 bytes an account for the balances (a table of primitive longs at most
 * half full). About what the write model's {@code IdempotencyLog} keeps for the same keys.
 */
public final class OperationsReadModel extends ReadModel {
    /** The scope of keys used for opening an account (account numbers are never 0). */
    public static final long SCOPE_ACCOUNT_OPENING = 0;
    /** How much longer than the window entries stay, for {@link #replayed}: one hour. */
    public static final long RETAINED_BEYOND_WINDOW_MICROS = 60L * 60 * 1_000_000;

    private record ScopedKey(long scope, String key) {}

    private final long windowMicros;
    private final ConcurrentHashMap<ScopedKey, Operation> byKey = new ConcurrentHashMap<>();
    /** Oldest first; seq order is time order, since the sequencer's clock never goes back. */
    private final ArrayDeque<Operation> byAge = new ArrayDeque<>();
    private final NumberLongs balances = new NumberLongs();
    /** The subscription thread's only; of its exact type, so that the JIT can inline its calls. */
    private final Applier applier = new Applier();

    @Override
    void clear() {
        byKey.clear();
        byAge.clear();
        balances.clear();
    }

    /** With the default window of 24 hours, {@link Limits#IDEMPOTENCY_WINDOW_MICROS_DEFAULT}. */
    public OperationsReadModel() {
        this(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
    }

    /** With the engine's window, {@code EngineConfig.idempotencyWindowMicros()}. */
    public OperationsReadModel(long idempotencyWindowMicros) {
        if (idempotencyWindowMicros <= 0) {
            throw new IllegalArgumentException("the idempotency window must be positive");
        }
        this.windowMicros = idempotencyWindowMicros;
    }

    @Override
    public String name() {
        return "operations";
    }

    @Override
    public void onEvent(Recorded recorded) {
        long seq = recorded.seq();
        applied.requireNext(seq);
        Idempotency idempotency = Event.idempotencyOf(recorded.event());
        applier.key = idempotency == null ? null : idempotency.key();
        applier.operation = null;
        Movements.of(seq, recorded.timeMicros(), recorded.event(), applier);
        expire(recorded.timeMicros());
        Operation operation = applier.operation;
        if (operation != null) {
            // A key reused after it expired maps to the newer operation.
            byKey.put(new ScopedKey(operation.scope(), operation.idempotencyKey()), operation);
            byAge.addLast(operation);
        }
        applied.advance(seq);
    }

    /**
     * Applies one event to the balances and, when the event has a key, makes its operation with
     * the balance its first reply carried: the opening balance, or the debited account's balance
     * after the movement.
     */
    private final class Applier implements Movements.Sink {
        /** The event's idempotency key, or null. */
        String key;
        /** The operation made for the event, or null. */
        Operation operation;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            if (balances.contains(e.accountNumber())) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
            balances.put(e.accountNumber(), e.openingBalance());
            if (key != null) {
                operation = new Operation.AccountOpening(seq, timeMicros, key, e.accountNumber(), e.openingBalance());
            }
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            // No balance changes, and a verification takes no key.
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            long from = balanceOf(debitAccount, seq) - amount;
            if (creditAccount != Movements.OUTSIDE) {
                balances.put(creditAccount, Math.addExact(balanceOf(creditAccount, seq), amount));
            }
            balances.put(debitAccount, from);
            if (key != null) {
                operation = switch (kind) {
                    case TRANSFER -> new Operation.Transfer(seq, timeMicros, key, debitAccount, creditAccount,
                            amount, from);
                    case WITHDRAWAL -> new Operation.Withdrawal(seq, timeMicros, key, debitAccount, amount, from);
                };
            }
        }

        /** One probe of the table, not two: no balance is {@link Long#MIN_VALUE}. */
        private long balanceOf(long accountNumber, long seq) {
            long balance = balances.getOrDefault(accountNumber, Long.MIN_VALUE);
            if (balance == Long.MIN_VALUE) {
                throw Movements.unknownAccount(accountNumber, seq);
            }
            return balance;
        }
    }

    /** Forgets what is older than the window and the margin, by the newest event's time. */
    private void expire(long nowMicros) {
        long cutoff = nowMicros - windowMicros - RETAINED_BEYOND_WINDOW_MICROS;
        while (!byAge.isEmpty() && byAge.peekFirst().timeMicros() < cutoff) {
            Operation oldest = byAge.removeFirst();
            byKey.remove(new ScopedKey(oldest.scope(), oldest.idempotencyKey()), oldest);
        }
    }

    // ---- Queries, from any thread ----

    /**
     * The operation recorded under this key if the key is live at {@code nowMicros} by the
     * write model's rule ({@code time >= now - window}).
     */
    public Optional<Operation> find(long scope, String key, long nowMicros) {
        Operation operation = byKey.get(new ScopedKey(scope, key));
        return operation == null || operation.timeMicros() < nowMicros - windowMicros
                ? Optional.empty() : Optional.of(operation);
    }

    /**
     * The operation the engine answered a retry with ({@code Outcome.Replayed(seq)}), to repeat
     * its first reply; empty when this model has not applied it yet (wait with
     * {@link #awaitSeq} first) or no longer keeps it.
     */
    public Optional<Operation> replayed(long scope, String key, long seq) {
        Operation operation = byKey.get(new ScopedKey(scope, key));
        return operation == null || operation.seq() != seq ? Optional.empty() : Optional.of(operation);
    }

    /** How many operations are kept, live or within the margin. */
    public int size() {
        return byKey.size();
    }

    /** Every operation kept, oldest first: for checks and tests. */
    public List<Operation> operations() {
        List<Operation> operations = new ArrayList<>(byKey.values());
        operations.sort(Comparator.comparingLong(Operation::seq));
        return operations;
    }

    public long windowMicros() {
        return windowMicros;
    }
}
