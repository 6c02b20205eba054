package eventbank.server.readmodel;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.util.Arrays;

/**
 * A committed batch as {@link ReadModelFeed} hands it to its models: the events, decoded once
 * into primitive columns, and for each event the <em>index</em> of each account it names,
 * resolved once for every model.
 *
 * <p>The columns: each event's seq and time, its kind, the account it debits (or opens,
 * verifies, closes, forgets), the account it credits ({@link Movements#OUTSIDE} for none) and
 * its amount (the opening balance of an opening, the forfeit of a closing). They are filled
 * through {@link Movements#of}, once per event, and told to each model's sink from the columns
 * ({@link #tell}), with its idempotency key for the operations model: the models do not dispatch
 * on the event's class, nor read the event object for a movement. Each of the four did both,
 * event by event; the first to apply a batch took the cache misses of its events' objects, and
 * every one the dispatch (BENCHMARKS.md, "Issue 15's cost, third step again").
 *
 * <p>An account's index is its place in the order accounts were opened, from 0: the row of
 * {@link AccountsReadModel} (its {@link AccountRows}), and, since every model adds an account
 * when it applies the account's opening, the place of the account in every model's own arrays
 * (a model restored from a checkpoint holds its accounts in the order opened). The accounts
 * model applies a batch first and records the rows it looked up; the other models then find
 * their accounts by index, without a lookup by number each (four models, two lookups each: the
 * read side's CPU went mostly into those lookups and their cache misses, BENCHMARKS.md "Issue
 * 15"). Each model checks that the account at the index it was given is the one the event names
 * (its number lies beside the state it reads), so a disagreement stops the feed rather than
 * applying a movement to another account.
 *
 * <p>With many accounts ({@link #touchesAhead}) most of the models' time is cache misses on each
 * account's state, one per model and side of a transfer. Applied one event after another, those
 * misses come one at a time: each event's work depends on the state it loaded. So then a model
 * first <em>touches</em> the state of every account a run of events names (independent loads,
 * whose misses the processor overlaps), then applies the run out of the cache ({@link
 * ReadModelFeed#EVENTS_PER_RUN_MAX} events: a run's accounts fit in the core's second-level
 * cache). With fewer, the state is in the cache already, and the touches only cost: they halved
 * the models' CPU with a million accounts, and added a third with 10,000 (BENCHMARKS.md).
 *
 * <p>Without an accounts model in the feed the indexes are not {@link #resolved()}, and each
 * model looks its accounts up itself, as it does when it is subscribed alone. The subscription
 * thread's only.
 */
final class FeedBatch {
    /** The index of no account: the credit side of a withdrawal, and the other side of an opening or verification. */
    static final int NONE = -1;
    /** What a model is handed for an account the batch did not resolve: it looks the account up by number. */
    static final int UNRESOLVED = -2;
    private static final int CAPACITY_INITIAL = 1024;
    /**
     * The fewest accounts for which the models touch a run's accounts before they apply it
     * ({@link #touchesAhead}): about 350 bytes of the models' state an account, so 23 MB, more
     * than the processor's last-level cache holds.
     */
    static final int TOUCH_AHEAD_ACCOUNTS_MIN = 1 << 16;

    // An event's kind: what Movements told of it.
    private static final byte OPENED = 0;
    private static final byte VERIFIED = 1;
    private static final byte TRANSFER = 2;
    private static final byte WITHDRAWAL = 3;
    /** A closing: a forfeit of its amount first when that is above 0 (as {@link Movements} tells it). */
    private static final byte CLOSED = 4;
    private static final byte FORGOTTEN = 5;

    private int size;
    private Recorded[] events = new Recorded[CAPACITY_INITIAL];
    private long[] seqs = new long[CAPACITY_INITIAL];
    private long[] times = new long[CAPACITY_INITIAL];
    private byte[] kinds = new byte[CAPACITY_INITIAL];
    private long[] debitAccounts = new long[CAPACITY_INITIAL];
    private long[] creditAccounts = new long[CAPACITY_INITIAL];
    private long[] amounts = new long[CAPACITY_INITIAL];
    /** By event: its idempotency key, or null. */
    private String[] keys = new String[CAPACITY_INITIAL];
    /** By event: the debited account's index, or that of the account opened or verified. */
    private int[] debit = new int[CAPACITY_INITIAL];
    /** By event: the credited account's index, or {@link #NONE}. */
    private int[] credit = new int[CAPACITY_INITIAL];
    private boolean resolved;
    private final Decoder decoder = new Decoder();

    /** Decodes the event into the columns, after the events added before it. */
    void add(Recorded recorded) {
        if (size == events.length) {
            grow();
        }
        events[size] = recorded;
        seqs[size] = recorded.seq();
        times[size] = recorded.timeMicros();
        decoder.at = size;
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), decoder);
        Idempotency idempotency = Event.idempotencyOf(recorded.event());
        keys[size] = idempotency == null ? null : idempotency.key();
        size++;
    }

    private void grow() {
        int grown = events.length * 2;
        events = Arrays.copyOf(events, grown);
        seqs = Arrays.copyOf(seqs, grown);
        times = Arrays.copyOf(times, grown);
        kinds = Arrays.copyOf(kinds, grown);
        debitAccounts = Arrays.copyOf(debitAccounts, grown);
        creditAccounts = Arrays.copyOf(creditAccounts, grown);
        amounts = Arrays.copyOf(amounts, grown);
        keys = Arrays.copyOf(keys, grown);
        debit = Arrays.copyOf(debit, grown);
        credit = Arrays.copyOf(credit, grown);
    }

    int size() {
        return size;
    }

    Recorded event(int at) {
        return events[at];
    }

    long seq(int at) {
        return seqs[at];
    }

    long timeMicros(int at) {
        return times[at];
    }

    /** Whether a model that holds {@code accounts} accounts touches a run's accounts before applying it. */
    static boolean touchesAhead(int accounts) {
        return accounts >= TOUCH_AHEAD_ACCOUNTS_MIN;
    }

    /** The number of the account the event debits, opens, verifies, closes or forgets. */
    long debitAccount(int at) {
        return debitAccounts[at];
    }

    /** The number of the account a transfer credits; {@link Movements#OUTSIDE} for every other event. */
    long creditAccount(int at) {
        return creditAccounts[at];
    }

    /** The event's idempotency key, or null. */
    String idempotencyKey(int at) {
        return keys[at];
    }

    /**
     * Tells the sink what the event at {@code at} does to the accounts, as {@link Movements#of}
     * told it when the event was added, from the columns.
     */
    void tell(int at, Movements.Sink sink) {
        long seq = seqs[at];
        long time = times[at];
        Movements.Kind kind;
        switch (kinds[at]) {
            case TRANSFER -> kind = Movements.Kind.TRANSFER;
            case WITHDRAWAL -> kind = Movements.Kind.WITHDRAWAL;
            default -> {
                tellOther(at, seq, time, sink);
                return;
            }
        }
        // One call of moved, so that this method stays small enough to inline with the model's sink.
        sink.moved(seq, time, kind, debitAccounts[at], creditAccounts[at], amounts[at]);
    }

    private void tellOther(int at, long seq, long time, Movements.Sink sink) {
        Event event = events[at].event();
        switch (kinds[at]) {
            case OPENED -> sink.opened(seq, time, (Event.AccountOpened) event);
            case VERIFIED -> sink.verified(seq, time, (Event.AccountVerified) event);
            case CLOSED -> {
                if (amounts[at] > 0) {
                    sink.moved(seq, time, Movements.Kind.FORFEIT, debitAccounts[at], Movements.OUTSIDE, amounts[at]);
                }
                sink.closed(seq, time, (Event.AccountClosed) event);
            }
            case FORGOTTEN -> sink.forgotten(seq, time, (Event.AccountForgotten) event);
            default -> throw new IllegalStateException("an event of kind " + kinds[at] + " at seq " + seq);
        }
    }

    /** Drops the events; the next batch is not resolved until {@link #resolvedAll}. */
    void clear() {
        Arrays.fill(events, 0, size, null);
        Arrays.fill(keys, 0, size, null);
        size = 0;
        resolved = false;
    }

    /** Whether every event's indexes have been set ({@link #resolve}): otherwise a model looks its accounts up. */
    boolean resolved() {
        return resolved;
    }

    /** The index of the account the event at {@code at} debits, opens or verifies. */
    int debit(int at) {
        return debit[at];
    }

    /** The index of the account the event at {@code at} credits, or {@link #NONE}. */
    int credit(int at) {
        return credit[at];
    }

    /** The index of the account the event at {@code at} debits, opens or verifies, or {@link #UNRESOLVED}. */
    int debitOrUnresolved(int at) {
        return resolved ? debit[at] : UNRESOLVED;
    }

    /** The index of the account the event at {@code at} credits, {@link #NONE}, or {@link #UNRESOLVED}. */
    int creditOrUnresolved(int at) {
        return resolved ? credit[at] : UNRESOLVED;
    }

    /**
     * A model was handed an index where it holds another account than the event names, or opened
     * an account at another index than the accounts model: the models disagree on the order of
     * the accounts, which a model must never do (a broken checkpoint or code).
     */
    static IllegalStateException mismatch(String model, long accountNumber, int index, long seq) {
        return new IllegalStateException("the " + model + " model does not hold account " + accountNumber
                + " at index " + index + ", where the accounts model does (seq " + seq + ")");
    }

    /**
     * Records the indexes of the accounts the event at {@code at} names (the accounts model's
     * rows); before the accounts model applies the event, what it found in advance, a negative
     * index for what it did not.
     */
    void resolve(int at, int debitIndex, int creditIndex) {
        debit[at] = debitIndex;
        credit[at] = creditIndex;
    }

    /** Every event's indexes are recorded: the models after the accounts model use them. */
    void resolvedAll() {
        resolved = true;
    }

    /** Fills the columns of the event at {@link #at}. */
    private final class Decoder implements Movements.Sink {
        int at;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            set(OPENED, e.accountNumber(), e.openingBalance());
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            set(VERIFIED, e.accountNumber(), 0);
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount, long creditAccount,
                          long amount) {
            // A forfeit is told just before its closing, which keeps its amount.
            set(kind == Movements.Kind.TRANSFER ? TRANSFER : WITHDRAWAL, debitAccount, amount);
            creditAccounts[at] = creditAccount;
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            set(CLOSED, e.accountNumber(), e.forfeited());
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            set(FORGOTTEN, e.accountNumber(), 0);
        }

        private void set(byte kind, long account, long amount) {
            kinds[at] = kind;
            debitAccounts[at] = account;
            creditAccounts[at] = Movements.OUTSIDE;
            amounts[at] = amount;
        }
    }
}
