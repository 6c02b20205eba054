package eventbank.server.readmodel;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * What the two reports need, and nothing else: the cents moved per UTC day (transfers plus
 * withdrawals: {@code GET /api/report/sum_transactions}) and each account's last transfer in or
 * out or withdrawal ({@code GET /api/report/inactive_users}). Both are answered from here, never
 * by scanning the journal.
 *
 * <p>Its checkpoint ({@link ReadModel}, {@code data/readmodels/reports.checkpoint}) holds a sum
 * per day and a time per account.
 *
 * <p>Concurrency: the queries hold the read lock of a {@link LockedReadModel}, so a report
 * sees the state between two events, never half of a transfer. Memory: 16 bytes an account (its
 * number and last activity side by side, by its index in the order opened: fed by {@link
 * ReadModelFeed}, a movement's accounts are found by the indexes the batch holds, one cache line
 * each), plus 32 to 64 in the index of primitive longs only the writer uses, for an event whose
 * accounts are not resolved; 40-odd bytes a day.
 */
public final class ReportsReadModel extends LockedReadModel {
    /** An account that never moved money: it compares below every cut-off. */
    public static final long NO_ACTIVITY = Long.MIN_VALUE;
    private static final long DAY_MICROS = 86_400_000_000L;
    /** The {@link #openDay} before the first movement: no epoch day of a time in micros is this. */
    private static final long NO_DAY = Long.MIN_VALUE;
    private static final int ACCOUNTS_INITIAL = 1024;

    // Guarded by lock; changed only by the subscription thread.
    /**
     * Epoch day (UTC) to cents moved that day, but for the {@link #openDay}; days without a
     * movement are absent.
     */
    private final TreeMap<Long, Long> centsByDay = new TreeMap<>();
    /**
     * The day of the newest movement and the cents moved that day, kept out of {@link
     * #centsByDay} until a movement comes on another day: almost every movement adds to a long
     * instead of merging a boxed day and sum into the tree.
     */
    private long openDay = NO_DAY;
    private long openDayCents;
    /**
     * The open day's first micro and the first micro after it: a movement within them adds to
     * the open day without a division (a floorDiv per movement was most of this model's own
     * work). An empty range while there is no open day.
     */
    private long openDayFromMicros = Long.MAX_VALUE;
    private long openDayToMicros = Long.MIN_VALUE;
    private long centsTotal;
    /** By account index: its number at 2i, its last activity ({@link #NO_ACTIVITY} for none) at 2i + 1. */
    private long[] activity = new long[2 * ACCOUNTS_INITIAL];
    private int accountCount;
    /** Only the subscription thread reads it: account number to index in the arrays. */
    private final NumberLongs indexByAccount = new NumberLongs();
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    /** What a run's touches read, kept so that their loads are not optimised away. */
    @SuppressWarnings("unused")
    private long touched;

    @Override
    void clear() {
        lock.writeLock().lock();
        try {
            centsByDay.clear();
            openDay = NO_DAY;
            openDayCents = 0;
            openDayFromMicros = Long.MAX_VALUE;
            openDayToMicros = Long.MIN_VALUE;
            centsTotal = 0;
            activity = new long[2 * ACCOUNTS_INITIAL];
            accountCount = 0;
            indexByAccount.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A model that lives in memory only: rebuilt from the whole journal at every start. */
    public ReportsReadModel() {
        super(null);
    }

    /** A model that keeps checkpoints as {@code checkpoints} says. */
    public ReportsReadModel(Checkpoints checkpoints) {
        super(checkpoints);
    }

    @Override
    public String name() {
        return "reports";
    }

    @Override
    int checkpointFormat() {
        return 2; // 2: the accounts and their index as they are in memory
    }

    /**
     * The number of days and for each its epoch day and cents, the number of accounts and for
     * each its number and last activity, in the order the accounts were opened (in bulk), then the
     * index by number as it is ({@link NumberLongs#write}).
     */
    @Override
    void writeState(ModelCheckpoint.Output output) throws IOException {
        TreeMap<Long, Long> days = everyDay();
        output.writeInt(days.size());
        for (var day : days.entrySet()) {
            output.writeLong(day.getKey());
            output.writeLong(day.getValue());
        }
        output.writeInt(accountCount);
        output.writeLongs(activity, 0, 2 * accountCount);
        indexByAccount.write(output);
    }

    @Override
    void readState(ModelCheckpoint.Input input) throws IOException {
        lock.writeLock().lock();
        try {
            int days = input.count(16);
            for (int day = 0; day < days; day++) {
                if (centsByDay.put(input.readLong(), input.readLong()) != null) {
                    throw new IOException("a day appears twice");
                }
            }
            centsTotal = centsByDay.values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
            int accounts = input.count(16);
            int capacity = Math.max(ACCOUNTS_INITIAL, accounts + (accounts >> 1));
            activity = new long[2 * capacity];
            input.readLongs(activity, 0, 2 * accounts);
            indexByAccount.read(input, accounts);
            accountCount = accounts;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    void applyUnderLock(Recorded recorded) {
        applier.debitIndex = FeedBatch.UNRESOLVED;
        applier.creditIndex = FeedBatch.UNRESOLVED;
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
    }

    @Override
    void applyUnderLock(FeedBatch batch, int at) {
        applier.debitIndex = batch.debitOrUnresolved(at);
        applier.creditIndex = batch.creditOrUnresolved(at);
        batch.tell(at, applier);
    }

    /**
     * With many accounts ({@link FeedBatch#touchesAhead}), touches the activity of the accounts
     * the feed resolved for the run, so that their cache misses overlap; outside the lock, since
     * only this thread writes.
     */
    @Override
    void beforeRun(FeedBatch batch, int from, int to) {
        if (!batch.resolved() || !FeedBatch.touchesAhead(accountCount)) {
            return;
        }
        long touched = 0;
        for (int at = from; at < to; at++) {
            touched += activityOrZero(batch.debit(at)) + activityOrZero(batch.credit(at));
        }
        this.touched = touched;
    }

    /** The activity at an index, or 0 for none or one not held yet (an account opened later in the run). */
    private long activityOrZero(int index) {
        return index >= 0 && index < accountCount ? activity[2 * index + 1] : 0;
    }

    /**
     * Applies one event, under the write lock: a movement is activity for the accounts on both
     * sides (not the outside) and counts once in the day's sum.
     */
    private final class Applier implements Movements.Sink {
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
            if (2 * accountCount == activity.length) {
                activity = Arrays.copyOf(activity, 2 * (accountCount + (accountCount >> 1)));
            }
            activity[2 * accountCount] = e.accountNumber();
            activity[2 * accountCount + 1] = NO_ACTIVITY;
            accountCount++;
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            index(e.accountNumber(), debitIndex, seq);
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            int from = index(debitAccount, debitIndex, seq);
            int to = creditAccount == Movements.OUTSIDE ? -1 : index(creditAccount, creditIndex, seq);
            activity[2 * from + 1] = timeMicros;
            if (to >= 0) {
                activity[2 * to + 1] = timeMicros;
            }
            if (timeMicros < openDayFromMicros || timeMicros >= openDayToMicros) {
                openDay(Math.floorDiv(timeMicros, DAY_MICROS));
            }
            openDayCents = Math.addExact(openDayCents, amount);
            centsTotal = Math.addExact(centsTotal, amount);
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            index(e.accountNumber(), debitIndex, seq); // a forfeit, if any, counted as a movement just before
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            index(e.accountNumber(), debitIndex, seq); // reports hold no personal data
        }
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
        if (resolved < 0 || resolved >= accountCount || activity[2 * resolved] != accountNumber) {
            throw FeedBatch.mismatch(name(), accountNumber, resolved, seq);
        }
        return resolved;
    }

    /**
     * Puts the open day's cents into the tree and makes {@code day} the open day, with what the
     * tree held for it (a day the clock came back to, or one restored from a checkpoint).
     */
    private void openDay(long day) {
        if (openDay != NO_DAY) {
            centsByDay.put(openDay, openDayCents);
        }
        Long earlier = centsByDay.remove(day);
        openDay = day;
        openDayCents = earlier == null ? 0 : earlier;
        // Clamped at the ends of a long; the last day's last micro then opens the day again each time.
        openDayFromMicros = day < Long.MIN_VALUE / DAY_MICROS ? Long.MIN_VALUE : day * DAY_MICROS;
        openDayToMicros = day >= Long.MAX_VALUE / DAY_MICROS ? Long.MAX_VALUE : (day + 1) * DAY_MICROS;
    }

    /** Every day's cents, the open day's included: a copy, for the checkpoint. */
    private TreeMap<Long, Long> everyDay() {
        TreeMap<Long, Long> days = new TreeMap<>(centsByDay);
        if (openDay != NO_DAY) {
            days.put(openDay, openDayCents);
        }
        return days;
    }

    // ---- Queries, from any thread ----

    /** The cents moved by transfers and withdrawals since the first event. */
    public long sumAllTime() {
        lock.readLock().lock();
        try {
            return centsTotal;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The cents moved by transfers and withdrawals on the UTC days from {@code from} to before {@code to}. */
    public long sum(LocalDate from, LocalDate to) {
        lock.readLock().lock();
        try {
            long sum = 0;
            for (long cents : centsByDay.subMap(from.toEpochDay(), true, to.toEpochDay(), false).values()) {
                sum = Math.addExact(sum, cents);
            }
            boolean openDayWithin = openDay >= from.toEpochDay() && openDay < to.toEpochDay();
            return openDayWithin ? Math.addExact(sum, openDayCents) : sum;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * How many accounts had no transfer in or out and no withdrawal at or after
     * {@code sinceMicros}, never-active accounts included.
     */
    public long inactiveCount(long sinceMicros) {
        lock.readLock().lock();
        try {
            long count = 0;
            for (int index = 0; index < accountCount; index++) {
                if (activity[2 * index + 1] < sinceMicros) {
                    count++;
                }
            }
            return count;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The checkpoint as durable proof of a committed seq, for recovery (see {@code DurableEvidence}). */
    public static DurableEvidence.Source evidence(Storage storage, Path dataDirectory) {
        return evidence(storage, dataDirectory, "reports");
    }

    /**
     * The inactive-users cut-off for {@code now}: one calendar month earlier in UTC (the same
     * day of the previous month, or its last day when it is shorter: March 31 gives February 28
     * or 29), at the same time of day, in microseconds since the epoch.
     */
    public static long inactiveSinceMicros(Instant now) {
        return EpochMicros.of(now.atOffset(ZoneOffset.UTC).minusMonths(1).toInstant());
    }

}
