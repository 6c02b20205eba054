package eventbank.server.readmodel;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import eventbank.engine.journal.Journal;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the two reports need, and nothing else: the cents moved per UTC day (transfers plus
 * withdrawals: {@code GET /api/report/sum_transactions}) and each account's last transfer in or
 * out or withdrawal ({@code GET /api/report/inactive_users}). Both are answered from here, never
 * by scanning the journal.
 *
 * <p>Unlike the other read models it keeps a checkpoint of its own, {@code
 * data/readmodels/reports.checkpoint} ({@link ReportsCheckpoint}): its state is small (a sum per
 * day, a time per account), so it is written every {@code checkpointEveryEvents} events, or at
 * the end of the first batch after {@link #CHECKPOINT_INTERVAL_NANOS} with something new, and a
 * start reads only the journal after it. A checkpoint that is missing, damaged, past the
 * journal's end, or made for another journal (its chain hash differs from the journal's at its
 * seq) is set aside with a warning and the model is rebuilt from seq 0.
 *
 * <p>Concurrency: the queries hold the read lock of a {@link LockedReadModel}, so a report
 * sees the state between two events, never half of a transfer. Memory: 16 bytes an account in
 * two arrays, plus 32 to 64 in the index of primitive longs only the writer uses; 40-odd bytes
 * a day.
 */
public final class ReportsReadModel extends LockedReadModel {
    private static final Logger LOG = LoggerFactory.getLogger(ReportsReadModel.class);
    /** A quiet server still checkpoints what it applied, this long after the last checkpoint. */
    static final long CHECKPOINT_INTERVAL_NANOS = 60_000_000_000L;
    public static final long CHECKPOINT_EVERY_EVENTS_DEFAULT = 1_000_000;
    /** An account that never moved money: it compares below every cut-off. */
    public static final long NO_ACTIVITY = Long.MIN_VALUE;
    private static final long DAY_MICROS = 86_400_000_000L;
    /** The {@link #openDay} before the first movement: no epoch day of a time in micros is this. */
    private static final long NO_DAY = Long.MIN_VALUE;
    private static final int ACCOUNTS_INITIAL = 1024;

    private final ReportsCheckpoint checkpoint;
    private final LongSupplier committedSeq;
    private final long checkpointEveryEvents;

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
    private long centsTotal;
    private long[] accountNumbers = new long[ACCOUNTS_INITIAL];
    private long[] lastActivityMicros = new long[ACCOUNTS_INITIAL];
    private int accountCount;
    /** Only the subscription thread reads it: account number to index in the arrays. */
    private final NumberLongs indexByAccount = new NumberLongs();
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();

    @Override
    void clear() {
        lock.writeLock().lock();
        try {
            centsByDay.clear();
            openDay = NO_DAY;
            openDayCents = 0;
            centsTotal = 0;
            accountNumbers = new long[ACCOUNTS_INITIAL];
            lastActivityMicros = new long[ACCOUNTS_INITIAL];
            accountCount = 0;
            indexByAccount.clear();
            restoredSeq = 0;
            checkpointSeq = 0;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private volatile long restoredSeq;
    private volatile String restoreProblem;
    private volatile long checkpointSeq;
    private long checkpointNanos = System.nanoTime();

    /**
     * A model that checkpoints into {@code dataDirectory/readmodels/} and checks its checkpoint
     * against the journal in {@code dataDirectory/journal/}, whose committed seq at start is
     * {@code committedSeq}.
     */
    public ReportsReadModel(Storage storage, Path dataDirectory, LongSupplier committedSeq,
                            long checkpointEveryEvents) {
        this(new ReportsCheckpoint(storage, dataDirectory), committedSeq, checkpointEveryEvents);
    }

    /**
     * A model that checkpoints into {@code dataDirectory/readmodels/} and checks its checkpoint
     * against the journal that {@code journal} reads (in a cluster, the shared one).
     */
    public ReportsReadModel(Storage storage, Path dataDirectory, Supplier<Journal.Reader> journal,
                            LongSupplier committedSeq, long checkpointEveryEvents) {
        this(new ReportsCheckpoint(storage, dataDirectory, journal), committedSeq, checkpointEveryEvents);
    }

    private ReportsReadModel(ReportsCheckpoint checkpoint, LongSupplier committedSeq, long checkpointEveryEvents) {
        if (checkpointEveryEvents < 1) {
            throw new IllegalArgumentException("checkpointEveryEvents must be at least 1, not " + checkpointEveryEvents);
        }
        this.checkpoint = checkpoint;
        this.committedSeq = committedSeq;
        this.checkpointEveryEvents = checkpointEveryEvents;
    }

    @Override
    public String name() {
        return "reports";
    }

    @Override
    long restore() {
        ReportsCheckpoint.Loaded loaded;
        try {
            loaded = checkpoint.read(committedSeq.getAsLong());
        } catch (IOException e) {
            restoreProblem = e.getMessage();
            LOG.warn("reports: {}; rebuilding the reports from the whole journal", e.getMessage());
            return 0;
        }
        if (loaded == null) {
            return 0;
        }
        centsByDay.putAll(loaded.centsByDay());
        centsTotal = loaded.centsByDay().values().stream().mapToLong(Long::longValue).reduce(0, Math::addExact);
        long[] numbers = loaded.accountNumbers();
        long[] times = loaded.lastActivityMicros();
        int capacity = Math.max(ACCOUNTS_INITIAL, numbers.length + (numbers.length >> 1));
        accountNumbers = java.util.Arrays.copyOf(numbers, capacity);
        lastActivityMicros = java.util.Arrays.copyOf(times, capacity);
        accountCount = numbers.length;
        for (int index = 0; index < numbers.length; index++) {
            indexByAccount.put(numbers[index], index);
        }
        restoredSeq = loaded.seq();
        checkpointSeq = loaded.seq();
        return loaded.seq();
    }

    @Override
    void applyUnderLock(Recorded recorded) {
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
    }

    /**
     * Applies one event, under the write lock: a movement is activity for the accounts on both
     * sides (not the outside) and counts once in the day's sum.
     */
    private final class Applier implements Movements.Sink {
        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            if (indexByAccount.contains(e.accountNumber())) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
            indexByAccount.put(e.accountNumber(), accountCount);
            if (accountCount == accountNumbers.length) {
                int grown = accountCount + (accountCount >> 1);
                accountNumbers = java.util.Arrays.copyOf(accountNumbers, grown);
                lastActivityMicros = java.util.Arrays.copyOf(lastActivityMicros, grown);
            }
            accountNumbers[accountCount] = e.accountNumber();
            lastActivityMicros[accountCount] = NO_ACTIVITY;
            accountCount++;
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            existing(e.accountNumber(), seq);
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            int from = existing(debitAccount, seq);
            int to = creditAccount == Movements.OUTSIDE ? -1 : existing(creditAccount, seq);
            lastActivityMicros[from] = timeMicros;
            if (to >= 0) {
                lastActivityMicros[to] = timeMicros;
            }
            long day = Math.floorDiv(timeMicros, DAY_MICROS);
            if (day != openDay) {
                openDay(day);
            }
            openDayCents = Math.addExact(openDayCents, amount);
            centsTotal = Math.addExact(centsTotal, amount);
        }
    }

    private int existing(long accountNumber, long seq) {
        long index = indexByAccount.getOrDefault(accountNumber, -1);
        if (index < 0) {
            throw Movements.unknownAccount(accountNumber, seq);
        }
        return (int) index;
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
    }

    /** Every day's cents, the open day's included: a copy, for the checkpoint. */
    private TreeMap<Long, Long> everyDay() {
        TreeMap<Long, Long> days = new TreeMap<>(centsByDay);
        if (openDay != NO_DAY) {
            days.put(openDay, openDayCents);
        }
        return days;
    }

    /**
     * Writes the checkpoint every {@code checkpointEveryEvents} events, or after a quiet
     * {@link #CHECKPOINT_INTERVAL_NANOS}. Only this thread changes the state, so it reads it
     * without the lock. A failed write is logged and tried again at a later batch: the journal
     * is intact, and a start only replays more.
     */
    @Override
    void batchEnded(long lastSeq, byte[] chainHash) {
        long sinceCheckpoint = lastSeq - checkpointSeq;
        if (sinceCheckpoint < checkpointEveryEvents
                && (sinceCheckpoint == 0 || System.nanoTime() - checkpointNanos < CHECKPOINT_INTERVAL_NANOS)) {
            return;
        }
        checkpointNanos = System.nanoTime();
        try {
            checkpoint.write(lastSeq, chainHash, everyDay(), accountNumbers, lastActivityMicros, accountCount);
            checkpointSeq = lastSeq;
        } catch (IOException e) {
            LOG.warn("reports: the checkpoint at seq {} could not be written (the next start replays more): {}",
                    lastSeq, e.toString());
        }
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
                if (lastActivityMicros[index] < sinceMicros) {
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
        return new ReportsCheckpoint(storage, dataDirectory)::claim;
    }

    /**
     * The inactive-users cut-off for {@code now}: one calendar month earlier in UTC (the same
     * day of the previous month, or its last day when it is shorter: March 31 gives February 28
     * or 29), at the same time of day, in microseconds since the epoch.
     */
    public static long inactiveSinceMicros(Instant now) {
        return EpochMicros.of(now.atOffset(ZoneOffset.UTC).minusMonths(1).toInstant());
    }

    /** The seq of the checkpoint this model started from; 0 when it was rebuilt from the whole journal. */
    public long restoredSeq() {
        return restoredSeq;
    }

    /** Why the checkpoint was not used at start, or null. */
    public String restoreProblem() {
        return restoreProblem;
    }

    /** The seq of the checkpoint written last (or started from); 0 for none. */
    public long checkpointSeq() {
        return checkpointSeq;
    }
}
