package eventbank.server.readmodel;

import eventbank.core.Bank;
import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every account's profile and balance, for {@code GET /api/account}, login (the password
 * hash), resending the verification link (lookup by email, ignoring case, and the opening seq
 * the code is derived from). The reports are {@link ReportsReadModel}'s.
 *
 * <p>Its checkpoint ({@link ReadModel}, {@code data/readmodels/accounts.checkpoint}) holds the
 * opened and withdrawn totals and every account ({@link AccountRows#write}) in the order opened.
 * A start loads the accounts into rows, then builds each index in one pass over them, into
 * tables sized for them at once (a pass of one kind of lookup after another keeps the
 * processor's misses in flight together).
 *
 * <p>Concurrency: each account is a row of {@link AccountRows}, found through a {@link RowIndex}
 * (primitive account numbers) or an {@link EmailIndex}, and changed in place under a sequence
 * lock of its own, so looking up one account takes no lock and always sees a whole {@link
 * AccountView}. The indexes change only when an account is opened: putting a new value in a map
 * per event (a lock on the bin, a node) took 15% of the server's CPU under batch load. Queries
 * over many accounts ({@link #totals}, {@link #snapshot}) must not see half of a transfer (one
 * side replaced, not yet the other): they hold the read lock of a {@link LockedReadModel}, so
 * they see the state between two events, at {@link #appliedSeq}.
 *
 * <p>Memory, computed: a row of 64 bytes; the email, the hash (and the normalized email when
 * it differs) as UTF-8 bytes, about 85 with a 24-character email and a bcrypt hash; 24 to 48 in
 * the index by number and 16 to 32 in the index by email (tables at most half full): about 190
 * to 230 bytes an account, where an object per account with two strings, and a map by email,
 * took about 380 (measured before them). The write model keeps no profile; this is the only
 * copy of emails and hashes in memory.
 */
public final class AccountsReadModel extends LockedReadModel {

    /** Sums over all accounts at one seq; {@code balanceTotal} is counted account by account. */
    public record Totals(long appliedSeq, int accountCount, long balanceTotal, long openedTotal,
                         long withdrawnTotal, long forfeitedTotal) {
        /** The bank's invariant, as this snapshot sees it. */
        public boolean balanced() {
            return balanceTotal == openedTotal - withdrawnTotal - forfeitedTotal;
        }
    }

    /** Every account at one seq, in the order they were opened. */
    public record Snapshot(long appliedSeq, List<AccountView> accounts) {
        public Snapshot {
            accounts = List.copyOf(accounts);
        }
    }

    /** A model that lives in memory only: rebuilt from the whole journal at every start. */
    public AccountsReadModel() {
        super(null);
    }

    /** A model that keeps checkpoints as {@code checkpoints} says. */
    public AccountsReadModel(Checkpoints checkpoints) {
        super(checkpoints);
    }

    /** Every account, in the order opened; rows are added under {@link #lock}, like every change to the indexes. */
    private final AccountRows rows = new AccountRows();
    private final RowIndex byNumber = new RowIndex();
    /** By normalized ({@link Bank#normalizeEmail}) email. */
    private final EmailIndex byEmail = new EmailIndex(rows);
    // Guarded by lock; changed only by the subscription thread.
    private long openedTotal;
    private long withdrawnTotal;
    private long forfeitedTotal;
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    private final Resolver resolver = new Resolver();
    /** What {@link #beforeRun} read, kept so that its loads are not optimised away. */
    @SuppressWarnings("unused")
    private long touched;

    @Override
    void clear() {
        lock.writeLock().lock();
        try {
            byNumber.clear();
            byEmail.clear();
            rows.clear();
            openedTotal = 0;
            withdrawnTotal = 0;
            forfeitedTotal = 0;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String name() {
        return "accounts";
    }

    @Override
    int checkpointFormat() {
        return 3; // 3: the rows and indexes as they are in memory; 2: the forfeited total, closings, forgetting
    }

    /**
     * The opened, withdrawn and forfeited totals, the accounts in the order they were opened
     * ({@link AccountRows#write}: the rows and profiles as they are in memory), then the two
     * indexes as they are ({@link RowIndex#write}, {@link EmailIndex#write}): a start reads them
     * in bulk and probes nothing, where indexing a million accounts again was most of a load.
     */
    @Override
    void writeState(ModelCheckpoint.Output output) throws IOException {
        output.writeLong(openedTotal);
        output.writeLong(withdrawnTotal);
        output.writeLong(forfeitedTotal);
        rows.write(output);
        byNumber.write(output);
        byEmail.write(output);
    }

    /**
     * Loads the rows and both indexes, and checks what a pass over the rows can (each row's own
     * fields, and the indexes' shape: {@link AccountRows#read}, {@link RowIndex#read}, {@link
     * EmailIndex#read}): the accounts in their opening order, and the balances adding up to the
     * totals. The checkpoint's CRCs keep what was written; these checks keep a start from
     * trusting a state no rebuild makes.
     */
    @Override
    void readState(ModelCheckpoint.Input input) throws IOException {
        lock.writeLock().lock();
        try {
            long opened = input.readLong();
            long withdrawn = input.readLong();
            long forfeited = input.readLong();
            int count = rows.read(input);
            long balanceTotal = 0;
            for (int row = 0; row < count; row++) {
                if (row > 0 && rows.openedSeq(row) <= rows.openedSeq(row - 1)) {
                    throw new IOException("account " + rows.accountNumber(row) + " is out of its opening order");
                }
                balanceTotal = Math.addExact(balanceTotal, rows.balance(row));
            }
            if (balanceTotal != opened - withdrawn - forfeited) {
                throw new IOException("its balances add up to " + balanceTotal + ", not the "
                        + (opened - withdrawn - forfeited) + " opened less withdrawn and forfeited");
            }
            byNumber.read(input, count);
            byEmail.read(input, count);
            openedTotal = opened;
            withdrawnTotal = withdrawn;
            forfeitedTotal = forfeited;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    void applyUnderLock(Recorded recorded) {
        applier.batch = null;
        applier.hinted = false;
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
    }

    @Override
    void applyUnderLock(FeedBatch batch, int at) {
        applier.batch = batch;
        applier.at = at;
        batch.tell(at, applier);
    }

    /**
     * With more accounts than the cache holds ({@link FeedBatch#touchesAhead}), looks up the rows
     * of the accounts the run's events name, all before the first is applied, and records them in
     * the batch for the applier ({@link RowIndex#ABSENT} for an account not opened yet, which the
     * applier looks up again): the lookups and the rows they lead to are loads independent of
     * each other, whose cache misses the processor overlaps, where applying event after event
     * waits for each in turn. The row an account number has never changes, so what is found here
     * is what the applier would find. With fewer accounts, their state is in the cache already,
     * and a second pass would only cost.
     */
    @Override
    void beforeRun(FeedBatch batch, int from, int to) {
        applier.hinted = FeedBatch.touchesAhead(rows.count());
        if (!applier.hinted) {
            return;
        }
        long touched = 0;
        for (int at = from; at < to; at++) {
            int debitRow = byNumber.get(batch.debitAccount(at));
            long creditAccount = batch.creditAccount(at);
            int creditRow = creditAccount == Movements.OUTSIDE ? RowIndex.ABSENT : byNumber.get(creditAccount);
            batch.resolve(at, debitRow, creditRow);
            if (debitRow >= 0) {
                touched += rows.balance(debitRow);
            }
            if (creditRow >= 0) {
                touched += rows.balance(creditRow);
            }
        }
        this.touched = touched;
    }

    /**
     * Records in {@code batch} the rows of the accounts named by its events at {@code from} to
     * before {@code to}, which this model applied before (from its checkpoint): the feed's other
     * models find their accounts by them. The subscription thread's.
     */
    void resolve(FeedBatch batch, int from, int to) {
        resolver.batch = batch;
        for (int at = from; at < to; at++) {
            resolver.at = at;
            batch.tell(at, resolver);
        }
    }

    /**
     * Applies one event, under the write lock; both accounts of a movement are found before either
     * changes. Fed by {@link ReadModelFeed}, records their rows in the batch for the models after it.
     */
    private final class Applier implements Movements.Sink {
        /** The feed's batch, or null, and the event's place in it. */
        FeedBatch batch;
        int at;
        /** Whether {@link #beforeRun} looked the run's rows up: then the batch holds them, or ABSENT. */
        boolean hinted;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            if (byNumber.get(e.accountNumber()) != RowIndex.ABSENT) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
            // A holder forgotten since reads as null: the row is made without a profile.
            boolean forgotten = e.email() == null;
            int row = rows.add(e.accountNumber(), forgotten ? "" : e.email(), forgotten ? "" : e.passwordHash(),
                    e.openingBalance(), seq, timeMicros);
            if (forgotten) {
                rows.forget(row);
            }
            byNumber.putIfAbsent(e.accountNumber(), row);
            // After the account itself, so that whoever finds the email finds the account.
            if (!forgotten && byEmail.putIfAbsent(row) != RowIndex.ABSENT) {
                throw new IllegalStateException("email of account " + e.accountNumber() + " taken, at seq " + seq);
            }
            openedTotal = Math.addExact(openedTotal, e.openingBalance());
            if (batch != null) {
                batch.resolve(at, row, FeedBatch.NONE);
            }
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            int row = existing(e.accountNumber(), hint(true), seq);
            rows.verify(row);
            if (batch != null) {
                batch.resolve(at, row, FeedBatch.NONE);
            }
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            int from = existing(debitAccount, hint(true), seq);
            int to = creditAccount == Movements.OUTSIDE ? RowIndex.ABSENT
                    : existing(creditAccount, hint(false), seq);
            rows.moved(from, rows.balance(from) - amount, timeMicros);
            if (kind == Movements.Kind.FORFEIT) {
                forfeitedTotal = Math.addExact(forfeitedTotal, amount);
            } else if (to == RowIndex.ABSENT) {
                withdrawnTotal = Math.addExact(withdrawnTotal, amount);
            } else {
                rows.moved(to, Math.addExact(rows.balance(to), amount), timeMicros);
            }
            if (batch != null) {
                batch.resolve(at, from, to == RowIndex.ABSENT ? FeedBatch.NONE : to);
            }
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            int row = existing(e.accountNumber(), hint(true), seq);
            rows.close(row);
            if (batch != null) {
                batch.resolve(at, row, FeedBatch.NONE);
            }
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            int row = existing(e.accountNumber(), hint(true), seq);
            rows.forget(row);
            eraseAtBatchEnd();
            if (batch != null) {
                batch.resolve(at, row, FeedBatch.NONE);
            }
        }
    
        /** The row {@link #beforeRun} found for the event's debited (or only) or credited account, or ABSENT. */
        private int hint(boolean debit) {
            if (!hinted) {
                return RowIndex.ABSENT;
            }
            return debit ? batch.debit(at) : batch.credit(at);
        }
    }

    /** Looks up the rows of an event's accounts, which this model holds already, for {@link #resolve}. */
    private final class Resolver implements Movements.Sink {
        FeedBatch batch;
        int at;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            batch.resolve(at, existing(e.accountNumber(), seq), FeedBatch.NONE);
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            batch.resolve(at, existing(e.accountNumber(), seq), FeedBatch.NONE);
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            batch.resolve(at, existing(debitAccount, seq),
                    creditAccount == Movements.OUTSIDE ? FeedBatch.NONE : existing(creditAccount, seq));
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            batch.resolve(at, existing(e.accountNumber(), seq), FeedBatch.NONE);
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            batch.resolve(at, existing(e.accountNumber(), seq), FeedBatch.NONE);
        }
    }

    /** The account's row: the one {@link #beforeRun} found, or else looked up. */
    private int existing(long accountNumber, int hint, long seq) {
        return hint >= 0 ? hint : existing(accountNumber, seq);
    }

    private int existing(long accountNumber, long seq) {
        int row = byNumber.get(accountNumber);
        if (row == RowIndex.ABSENT) {
            throw Movements.unknownAccount(accountNumber, seq);
        }
        return row;
    }

    // ---- Queries, from any thread ----

    public Optional<AccountView> account(long accountNumber) {
        int row = byNumber.get(accountNumber);
        return row == RowIndex.ABSENT ? Optional.empty() : Optional.of(rows.view(row));
    }

    /** The account with this email address, compared without regard to case. */
    public Optional<AccountView> accountByEmail(String email) {
        int row = byEmail.get(Bank.normalizeEmail(email));
        return row == RowIndex.ABSENT ? Optional.empty() : Optional.of(rows.view(row));
    }

    public int accountCount() {
        return byNumber.size();
    }

    /** Sums at one seq, never in the middle of a transfer. Walks every account: for reports and checks. */
    public Totals totals() {
        lock.readLock().lock();
        try {
            long sum = 0;
            for (int row = 0; row < rows.count(); row++) {
                sum = Math.addExact(sum, rows.balance(row));
            }
            return new Totals(applied.get(), rows.count(), sum, openedTotal, withdrawnTotal, forfeitedTotal);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The account and the seq the model stands at, read together under the read lock: the
     * account as of that seq exactly, for a query that reads other models up to the same seq
     * (the holder's export). No account, or the one account.
     */
    public Snapshot snapshotOf(long accountNumber) {
        lock.readLock().lock();
        try {
            int row = byNumber.get(accountNumber);
            return new Snapshot(applied.get(), row == RowIndex.ABSENT ? List.of() : List.of(rows.view(row)));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every account at one seq, in the order they were opened. Copies them all: for reports and tests. */
    public Snapshot snapshot() {
        lock.readLock().lock();
        try {
            List<AccountView> accounts = new ArrayList<>(rows.count());
            for (int row = 0; row < rows.count(); row++) {
                accounts.add(rows.view(row));
            }
            return new Snapshot(applied.get(), accounts);
        } finally {
            lock.readLock().unlock();
        }
    }
}
