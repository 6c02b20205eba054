package eventbank.core;

/**
 * What an event does to the bank's accounts, told to a {@link Sink}: the one place that knows
 * who gains and who loses from each event. The write model ({@link Bank#evolve}), the read
 * models and the mail outbox all apply events through it, so a new event that moves money is
 * added here (and in its tests), and every one of them follows.
 *
 * <p>Money moves as in TigerBeetle: every movement is a debit of one account and a credit of
 * another, for one amount, so nothing is created or lost on the way. A withdrawal credits
 * {@link #OUTSIDE}, the world beyond the bank. An opening is not a movement: the account comes
 * into being holding its opening bonus ({@link Sink#opened}), so nobody ever sees an opened
 * account at zero, a state the log never had. The bank's invariant follows: the balances add up
 * to the opening bonuses minus what was moved to {@link #OUTSIDE}.
 *
 * <p>The sink gets primitive arguments, the event's seq and time among them, and nothing is
 * allocated: {@link Bank#evolve} runs millions of times a second in replay and on the
 * sequencer's thread.
 */
public final class Movements {
    /** The account on the other side of money that leaves the bank; account numbers are never 0. */
    public static final long OUTSIDE = 0;

    /** Why money moved. */
    public enum Kind {
        /** From one account to another. */
        TRANSFER,
        /** From an account to {@link #OUTSIDE}. */
        WITHDRAWAL,
        /** An unverified account's opening bonus, given up when it closes: to {@link #OUTSIDE}. */
        FORFEIT
    }

    /**
     * Receives what one event does to the accounts, in the order it happens. A sink checks what
     * only its own state can tell (the accounts exist; the write model: no balance goes below
     * zero) and checks both sides of a movement before it changes either, so that an event that
     * cannot apply changes nothing. What the event alone tells, {@link #of} has checked.
     */
    public interface Sink {
        /** An account comes into being, unverified, holding {@code opened.openingBalance()} (at least 0). */
        void opened(long seq, long timeMicros, Event.AccountOpened opened);

        void verified(long seq, long timeMicros, Event.AccountVerified verified);

        /**
         * {@code amount} cents (at least 1) leave {@code debitAccount} and reach
         * {@code creditAccount}, two different accounts. The debit is always an account of the
         * bank; the credit is {@link #OUTSIDE} when the money leaves the bank.
         */
        void moved(long seq, long timeMicros, Kind kind, long debitAccount, long creditAccount, long amount);

        /**
         * The account closes; it sends and receives nothing from now on. What it forfeited, if
         * anything, was told just before as a {@link Kind#FORFEIT} movement, so it holds nothing.
         */
        void closed(long seq, long timeMicros, Event.AccountClosed closed);

        /** The closed account's holder is forgotten: its personal fields read as null from now on. */
        void forgotten(long seq, long timeMicros, Event.AccountForgotten forgotten);
    }

    private Movements() {}

    /**
     * Tells the sink what the event recorded at {@code seq} and {@code timeMicros} does to the
     * accounts. An event that cannot be a fact of the bank (a negative opening bonus, an amount
     * below one cent, a transfer to the account it comes from) means the log or the code is
     * broken: an {@link IllegalStateException}, and the sink hears nothing of it.
     */
    public static void of(long seq, long timeMicros, Event event, Sink sink) {
        // Small on purpose, with one call of moved: the JIT inlines it into each caller, and with
        // it the caller's sink (of a final class there), only while the method is small and the
        // call is hot. The checks' messages are built elsewhere.
        Kind kind;
        long debitAccount;
        long creditAccount;
        long amount;
        switch (event) {
            case Event.AccountOpened e -> {
                sink.opened(seq, timeMicros, checked(e));
                return;
            }
            case Event.AccountVerified e -> {
                sink.verified(seq, timeMicros, e);
                return;
            }
            case Event.AccountClosed e -> {
                closed(seq, timeMicros, e, sink);
                return;
            }
            case Event.AccountForgotten e -> {
                sink.forgotten(seq, timeMicros, e);
                return;
            }
            case Event.MoneyTransferred e -> {
                kind = Kind.TRANSFER;
                debitAccount = e.fromAccountNumber();
                creditAccount = e.toAccountNumber();
                amount = amountOf(e);
            }
            case Event.MoneyWithdrawn e -> {
                kind = Kind.WITHDRAWAL;
                debitAccount = e.accountNumber();
                creditAccount = OUTSIDE;
                amount = amountOf(e);
            }
        }
        sink.moved(seq, timeMicros, kind, debitAccount, creditAccount, amount);
    }

    /** A closing: the forfeit first, if any, so that the account holds nothing when it closes. */
    private static void closed(long seq, long timeMicros, Event.AccountClosed e, Sink sink) {
        if (e.forfeited() < 0) {
            throw broken("a forfeit of " + e.forfeited() + " cents by account " + e.accountNumber());
        }
        if (e.forfeited() > 0) {
            sink.moved(seq, timeMicros, Kind.FORFEIT, e.accountNumber(), OUTSIDE, e.forfeited());
        }
        sink.closed(seq, timeMicros, e);
    }

    private static Event.AccountOpened checked(Event.AccountOpened e) {
        if (e.openingBalance() < 0) {
            throw broken("an opening bonus of " + e.openingBalance() + " cents for account " + e.accountNumber());
        }
        return e;
    }

    private static long amountOf(Event.MoneyTransferred e) {
        if (e.amount() < Limits.AMOUNT_MIN || e.fromAccountNumber() == e.toAccountNumber()) {
            throw broken("a transfer of " + e.amount() + " cents from account " + e.fromAccountNumber()
                    + " to account " + e.toAccountNumber());
        }
        return e.amount();
    }

    private static long amountOf(Event.MoneyWithdrawn e) {
        if (e.amount() < Limits.AMOUNT_MIN) {
            throw broken("a withdrawal of " + e.amount() + " cents from account " + e.accountNumber());
        }
        return e.amount();
    }

    /** For a sink: the event names an account that no earlier AccountOpened opened. */
    public static IllegalStateException unknownAccount(long accountNumber, long seq) {
        return new IllegalStateException("account " + accountNumber + " does not exist at seq " + seq);
    }

    private static IllegalStateException broken(String what) {
        return new IllegalStateException(what + " cannot have been recorded: the log or the code is broken");
    }
}
