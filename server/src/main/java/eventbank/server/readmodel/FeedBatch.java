package eventbank.server.readmodel;

import eventbank.core.Recorded;
import java.util.ArrayList;
import java.util.Arrays;

/**
 * A committed batch as {@link ReadModelFeed} hands it to its models: the events, decoded once,
 * and for each event the <em>index</em> of each account it names, resolved once for every model.
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

    private final ArrayList<Recorded> events = new ArrayList<>();
    /** By event: the debited account's index, or that of the account opened or verified. */
    private int[] debit = new int[CAPACITY_INITIAL];
    /** By event: the credited account's index, or {@link #NONE}. */
    private int[] credit = new int[CAPACITY_INITIAL];
    private boolean resolved;

    void add(Recorded recorded) {
        events.add(recorded);
    }

    int size() {
        return events.size();
    }

    Recorded event(int at) {
        return events.get(at);
    }

    /** Drops the events; the next batch is not resolved until {@link #resolvedAll}. */
    void clear() {
        events.clear();
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

    /** Records the indexes of the accounts the event at {@code at} names (the accounts model's rows). */
    void resolve(int at, int debitIndex, int creditIndex) {
        if (at >= debit.length) {
            int grown = Math.max(at + 1, debit.length * 2);
            debit = Arrays.copyOf(debit, grown);
            credit = Arrays.copyOf(credit, grown);
        }
        debit[at] = debitIndex;
        credit[at] = creditIndex;
    }

    /** Every event's indexes are recorded: the models after the accounts model use them. */
    void resolvedAll() {
        resolved = true;
    }
}
