package eventbank.server.readmodel;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
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
 * <p>Its checkpoint ({@link ReadModel}, {@code data/readmodels/operations.checkpoint}, format 2)
 * holds the window it was made under, every account's balance in the order the accounts were
 * opened, and every operation kept, oldest first, so that a start answers {@link #find} and
 * {@link #replayed} as a rebuild would, and expires them as it would. (Format 1 held the
 * balances in no particular order; such a checkpoint is set aside and the model rebuilt.)
 *
 * <p>Concurrency: operations are immutable records in a {@link ConcurrentHashMap}, read without
 * locks; the queue of keys by age and the balances belong to the subscription thread.
 *
 * <p>Memory, measured: about 190 bytes per kept key of 10 characters (the record, the scoped
 * key, the map's node and table slot, the queue's slot, the key string, shared with the decoded
 * event). About what the write model's {@code IdempotencyLog} keeps for the same keys. The
 * balances: 16 bytes an account (its number and balance side by side, by its index in the order
 * opened: fed by {@link ReadModelFeed}, a movement's accounts are found by the indexes the batch
 * holds, one cache line each), plus 32 to 64 in a table of primitive longs from number to index,
 * for an event whose accounts are not resolved.
 */
public final class OperationsReadModel extends ReadModel {
    /** The scope of keys used for opening an account (account numbers are never 0). */
    public static final long SCOPE_ACCOUNT_OPENING = 0;
    /** How much longer than the window entries stay, for {@link #replayed}: one hour. */
    public static final long RETAINED_BEYOND_WINDOW_MICROS = 60L * 60 * 1_000_000;

    private record ScopedKey(long scope, String key) {}

    /** An operation's kind in a checkpoint. */
    private static final int OPENING = 0;
    private static final int TRANSFER = 1;
    private static final int WITHDRAWAL = 2;
    /** The fewest bytes an operation takes in a checkpoint: its kind, seq, time, an empty key and two longs. */
    private static final int OPERATION_BYTES_MIN = 4 + 8 + 8 + 4 + 2 * 8;
    private static final int ACCOUNTS_INITIAL = 1024;

    private final long windowMicros;
    /** Replaced whole, presized, when a checkpoint is loaded. */
    private volatile ConcurrentHashMap<ScopedKey, Operation> byKey = new ConcurrentHashMap<>();
    /**
     * Oldest first; seq order is time order, since the sequencer's clock never goes back.
     * Replaced, presized, when a checkpoint is loaded.
     */
    private ArrayDeque<Operation> byAge = new ArrayDeque<>();
    /** By account index: its number at 2i, its balance at 2i + 1. */
    private long[] balances = new long[2 * ACCOUNTS_INITIAL];
    private int accountCount;
    /** Account number to index, for events whose accounts the feed did not resolve. */
    private final NumberLongs indexByAccount = new NumberLongs();
    /** The subscription thread's only; of its exact type, so that the JIT can inline its calls. */
    private final Applier applier = new Applier();
    /** What a run's touches read, kept so that their loads are not optimised away. */
    @SuppressWarnings("unused")
    private long touched;

    @Override
    void clear() {
        byKey = new ConcurrentHashMap<>();
        byAge.clear();
        balances = new long[2 * ACCOUNTS_INITIAL];
        accountCount = 0;
        indexByAccount.clear();
    }

    /**
     * With the default window of 24 hours, {@link Limits#IDEMPOTENCY_WINDOW_MICROS_DEFAULT}, in
     * memory only: rebuilt from the whole journal at every start.
     */
    public OperationsReadModel() {
        this(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
    }

    /** With the engine's window, {@code EngineConfig.idempotencyWindowMicros()}, in memory only. */
    public OperationsReadModel(long idempotencyWindowMicros) {
        this(null, idempotencyWindowMicros);
    }

    /** With the engine's window, keeping checkpoints as {@code checkpoints} says (null: none). */
    public OperationsReadModel(Checkpoints checkpoints, long idempotencyWindowMicros) {
        super(checkpoints);
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
    int checkpointFormat() {
        return 3; // 3: the accounts and their index as they are in memory
    }

    /**
     * The window, the number of accounts and each one's number and balance in the order the
     * accounts were opened (in bulk), the index by number as it is ({@link NumberLongs#write}), the number of
     * operations kept and each one, oldest first: its kind, seq, time, key (UTF-8) and fields
     * (the scope is one of them).
     */
    @Override
    void writeState(ModelCheckpoint.Output output) throws IOException {
        output.writeLong(windowMicros);
        output.writeInt(accountCount);
        output.writeLongs(balances, 0, 2 * accountCount);
        indexByAccount.write(output);
        output.writeInt(byAge.size());
        for (Operation operation : byAge) {
            write(output, operation);
        }
    }

    private static void write(ModelCheckpoint.Output output, Operation operation) throws IOException {
        int kind = switch (operation) {
            case Operation.AccountOpening o -> OPENING;
            case Operation.Transfer o -> TRANSFER;
            case Operation.Withdrawal o -> WITHDRAWAL;
        };
        output.writeInt(kind);
        output.writeLong(operation.seq());
        output.writeLong(operation.timeMicros());
        output.writeBytes(operation.idempotencyKey().getBytes(StandardCharsets.UTF_8));
        switch (operation) {
            case Operation.AccountOpening o -> {
                output.writeLong(o.accountNumber());
                output.writeLong(o.openingBalance());
            }
            case Operation.Transfer o -> {
                output.writeLong(o.fromAccountNumber());
                output.writeLong(o.toAccountNumber());
                output.writeLong(o.amount());
                output.writeLong(o.fromBalanceAfter());
            }
            case Operation.Withdrawal o -> {
                output.writeLong(o.accountNumber());
                output.writeLong(o.amount());
                output.writeLong(o.balanceAfter());
            }
        }
    }

    /**
     * Loads the balances and the operations into tables sized for them at once. A checkpoint
     * made under another window is not used: it may lack operations this window still keeps.
     */
    @Override
    void readState(ModelCheckpoint.Input input) throws IOException {
        long window = input.readLong();
        if (window != windowMicros) {
            throw new IOException("it was made with an idempotency window of " + window + " µs, not "
                    + windowMicros);
        }
        int accounts = input.count(16);
        balances = new long[2 * Math.max(ACCOUNTS_INITIAL, accounts + (accounts >> 1))];
        input.readLongs(balances, 0, 2 * accounts);
        indexByAccount.read(input, accounts);
        accountCount = accounts;
        int count = input.count(OPERATION_BYTES_MIN);
        ConcurrentHashMap<ScopedKey, Operation> keys = new ConcurrentHashMap<>(Math.max(16, count));
        byAge = new ArrayDeque<>(count);
        for (int index = 0; index < count; index++) {
            Operation operation = read(input);
            Operation previous = byAge.peekLast();
            if (previous != null && operation.seq() <= previous.seq()) {
                throw new IOException("the operation at seq " + operation.seq() + " is out of order");
            }
            // As onEvent: a key reused after it expired maps to the newer operation.
            keys.put(new ScopedKey(operation.scope(), operation.idempotencyKey()), operation);
            byAge.addLast(operation);
        }
        byKey = keys;
    }

    private static Operation read(ModelCheckpoint.Input input) throws IOException {
        int kind = input.readInt();
        long seq = input.readLong();
        long timeMicros = input.readLong();
        String key = input.readString();
        // The fields in the order written: Java evaluates arguments from left to right.
        return switch (kind) {
            case OPENING -> new Operation.AccountOpening(seq, timeMicros, key, input.readLong(), input.readLong());
            case TRANSFER -> new Operation.Transfer(seq, timeMicros, key, input.readLong(), input.readLong(),
                    input.readLong(), input.readLong());
            case WITHDRAWAL -> new Operation.Withdrawal(seq, timeMicros, key, input.readLong(), input.readLong(),
                    input.readLong());
            default -> throw new IOException("the operation at seq " + seq + " is of an unknown kind " + kind);
        };
    }

    @Override
    public void onEvent(Recorded recorded) {
        long seq = recorded.seq();
        applied.requireNext(seq);
        applier.debitIndex = FeedBatch.UNRESOLVED;
        applier.creditIndex = FeedBatch.UNRESOLVED;
        Idempotency idempotency = Event.idempotencyOf(recorded.event());
        applier.key = idempotency == null ? null : idempotency.key();
        applier.operation = null;
        Movements.of(seq, recorded.timeMicros(), recorded.event(), applier);
        applied(seq, recorded.timeMicros());
    }

    /**
     * Applies the feed's events from its columns: the event objects are not read again. With
     * many accounts ({@link FeedBatch#touchesAhead}), touches the balances of the run's accounts
     * first, so that their cache misses overlap.
     */
    @Override
    void onEvents(FeedBatch batch, int from, int to) {
        if (batch.resolved() && FeedBatch.touchesAhead(accountCount)) {
            long touched = 0;
            for (int at = from; at < to; at++) {
                touched += balanceOrZero(batch.debit(at)) + balanceOrZero(batch.credit(at));
            }
            this.touched = touched;
        }
        for (int at = from; at < to; at++) {
            long seq = batch.seq(at);
            applied.requireNext(seq);
            applier.debitIndex = batch.debitOrUnresolved(at);
            applier.creditIndex = batch.creditOrUnresolved(at);
            applier.key = batch.idempotencyKey(at);
            applier.operation = null;
            batch.tell(at, applier);
            applied(seq, batch.timeMicros(at));
        }
    }

    /** The balance at an index, or 0 for none or one not held yet (an account opened later in the run). */
    private long balanceOrZero(int index) {
        return index >= 0 && index < accountCount ? balances[2 * index + 1] : 0;
    }

    /** After the applier: expires what is too old by the event's time, keeps the event's operation, if any. */
    private void applied(long seq, long timeMicros) {
        expire(timeMicros);
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
        /** The event's accounts' indexes as the feed resolved them, or {@link FeedBatch#UNRESOLVED}. */
        int debitIndex;
        int creditIndex;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            if (indexByAccount.contains(e.accountNumber())) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
            if (debitIndex != FeedBatch.UNRESOLVED && debitIndex != accountCount) {
                throw FeedBatch.mismatch(name(), e.accountNumber(), debitIndex, seq);
            }
            indexByAccount.put(e.accountNumber(), accountCount);
            if (2 * accountCount == balances.length) {
                balances = Arrays.copyOf(balances, 2 * (accountCount + (accountCount >> 1)));
            }
            balances[2 * accountCount] = e.accountNumber();
            balances[2 * accountCount + 1] = e.openingBalance();
            accountCount++;
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
            int debit = index(debitAccount, debitIndex, seq);
            int credit = creditAccount == Movements.OUTSIDE ? -1 : index(creditAccount, creditIndex, seq);
            long from = balances[2 * debit + 1] - amount;
            if (credit >= 0) {
                balances[2 * credit + 1] = Math.addExact(balances[2 * credit + 1], amount);
            }
            balances[2 * debit + 1] = from;
            if (key != null) {
                operation = switch (kind) {
                    case TRANSFER -> new Operation.Transfer(seq, timeMicros, key, debitAccount, creditAccount,
                            amount, from);
                    case WITHDRAWAL -> new Operation.Withdrawal(seq, timeMicros, key, debitAccount, amount, from);
                    case FORFEIT -> throw new IllegalStateException("seq " + seq + ": a closing carries no key");
                };
            }
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            index(e.accountNumber(), debitIndex, seq); // it holds 0 now; a closing takes no key
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            index(e.accountNumber(), debitIndex, seq); // operations hold no personal data
        }

        /** The account's index: the one the feed resolved, checked, or else looked up. */
        private int index(long accountNumber, int resolved, long seq) {
            if (resolved == FeedBatch.UNRESOLVED) {
                long index = indexByAccount.getOrDefault(accountNumber, -1);
                if (index < 0) {
                    throw Movements.unknownAccount(accountNumber, seq);
                }
                return (int) index;
            }
            if (resolved < 0 || resolved >= accountCount || balances[2 * resolved] != accountNumber) {
                throw FeedBatch.mismatch(name(), accountNumber, resolved, seq);
            }
            return resolved;
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
