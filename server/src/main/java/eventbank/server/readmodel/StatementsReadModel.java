package eventbank.server.readmodel;

import static eventbank.server.readmodel.StatementEntriesFile.NONE;

import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Every account's statement: one entry per transfer in or out and per withdrawal, for
 * {@code GET /api/account/transactions?limit=&before_seq=}, and each account's history.
 *
 * <p>Memory: the entries are not in the heap but in {@code data/readmodels/statements.entries}
 * ({@link StatementEntriesFile}: a record of 64 bytes each, appended in seq order), so the
 * heap does not grow with the number of events. An account keeps a row of {@link StatementRows}
 * (what the history needs from its opening and verification, its balance, its newest record
 * and the few records its next jump pointer is chosen from), found by number through a {@link
 * RowIndex} and, fed by {@link ReadModelFeed}, by the index the batch resolved. A page
 * finds where {@code before_seq} falls in O(log n) record reads through each record's jump
 * pointer, then reads one record per entry; queries read the file with positional reads.
 *
 * <p>Cost: an entry is written into a buffer of 1 MiB, which reaches the file in one write when
 * it fills and at the end of each batch; nothing is fsynced but at a checkpoint.
 *
 * <p>Checkpoint (format 2, {@link ReadModel}): the entries file is forced first, then the
 * checkpoint says how many records it held, which record was last, and every account's part in
 * the order the accounts were opened (format 1 had them in no particular order). A
 * start cuts the file back to that length (the events after the checkpoint are applied again),
 * and a file shorter than the checkpoint says, or whose last record is not the one it names,
 * makes the checkpoint unusable: the model is rebuilt from seq 0.
 *
 * <p>Concurrency: only the subscription thread writes. An entry becomes visible to queries at the
 * end of its batch: the buffer is written to the file, then each account the batch touched
 * publishes its newest record and count (release stores), and only then does the model's applied
 * seq move ({@link AppliedSeq#advanceAtBatchEnd}), so that a query that waited for a seq finds
 * every entry up to it. A record is never changed once written; a model {@linkplain #clear
 * cleared} under a query (a failover's {@code forget}) is seen through {@link #generation}, and
 * the query asks again.
 */
public final class StatementsReadModel extends ReadModel {
    public static final int PAGE_LIMIT_MIN = 1;
    public static final int PAGE_LIMIT_MAX = 100;
    public static final int PAGE_LIMIT_DEFAULT = 20;

    private static final int TYPE_SHIFT = 56;
    private static final long COUNTERPARTY_MASK = (1L << TYPE_SHIFT) - 1;
    private static final StatementEntry.Type[] TYPES = StatementEntry.Type.values();
    private static final int DIRTY_INITIAL = 1024;

    /** Every account, by its index in the order opened; rows are added before the index finds them. */
    private final StatementRows rows = new StatementRows();
    private final RowIndex byNumber = new RowIndex();
    private final StatementEntriesFile entries;
    /** Raised by {@link #clear}: a query that saw it change read a model being dropped, and asks again. */
    private volatile int generation;
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    // The writer's own:
    /** The rows of the accounts with entries written in this batch and not yet published. */
    private int[] dirty = new int[DIRTY_INITIAL];
    private int dirtyCount;
    /** The same rows as {@link #dirty}, a bit each by row: published in row order when they are many. */
    private long[] dirtyBits = new long[DIRTY_INITIAL / Long.SIZE];
    /** What the rows' touches read, kept so that their loads are not optimised away. */
    @SuppressWarnings("unused")
    private long touched;
    /** The seq and account of the newest record written, for the checkpoint's check of the file. */
    private long newestRecordSeq;
    private long newestRecordAccount;

    /**
     * A model that keeps no checkpoints and is rebuilt from seq 0 at every start, for tests and
     * benchmarks: its entries are in the heap ({@link HeapStorageFile}).
     */
    public StatementsReadModel() {
        super(null);
        this.entries = new StatementEntriesFile();
    }

    /** A model that keeps checkpoints as {@code checkpoints} says, its entries in their directory. */
    public StatementsReadModel(Checkpoints checkpoints) {
        super(checkpoints);
        this.entries = new StatementEntriesFile(checkpoints.storage(), checkpoints.directory());
    }

    @Override
    void clear() {
        generation++;
        byNumber.clear();
        rows.clear();
        entries.clear();
        dirtyCount = 0;
        dirtyBits = new long[DIRTY_INITIAL / Long.SIZE];
        newestRecordSeq = 0;
        newestRecordAccount = 0;
    }

    @Override
    public String name() {
        return "statements";
    }

    @Override
    int checkpointFormat() {
        return 3; // 3: the rows and the index as they are in memory; 2: the rows in their opening order
    }

    /**
     * The entries file's records (forced first), the seq and account of its last, then the rows
     * as they are in memory ({@link StatementRows#write}) and the index by number as it is
     * ({@link RowIndex#write}): a start reads them in bulk and probes nothing.
     */
    @Override
    void writeState(ModelCheckpoint.Output output) throws IOException {
        entries.force();
        output.writeLong(entries.records());
        output.writeLong(newestRecordSeq);
        output.writeLong(newestRecordAccount);
        rows.write(output);
        byNumber.write(output);
    }

    @Override
    void readState(ModelCheckpoint.Input input) throws IOException {
        long records = input.readLong();
        long lastSeq = input.readLong();
        long lastAccount = input.readLong();
        entries.restore(records);
        if (records > 0) {
            StatementEntriesFile.Cursor last;
            try {
                last = entries.new Cursor().read(records - 1, lastAccount);
            } catch (RuntimeException e) {
                throw new IOException("the entries file " + entries.path() + " does not end with the record its"
                        + " checkpoint saw: " + e.getMessage(), e);
            }
            if (last.seq() != lastSeq) {
                throw new IOException("the entries file " + entries.path() + " ends with seq " + last.seq()
                        + ", not the " + lastSeq + " its checkpoint saw");
            }
        }
        newestRecordSeq = lastSeq;
        newestRecordAccount = lastAccount;
        int accounts = rows.read(input, records);
        for (int row = 1; row < accounts; row++) {
            if (rows.openedSeq(row) <= rows.openedSeq(row - 1)) {
                throw new IOException("account " + rows.accountNumber(row) + " is out of its opening order");
            }
        }
        byNumber.read(input, accounts);
    }

    @Override
    public void onEvent(Recorded recorded) {
        apply(recorded, FeedBatch.UNRESOLVED, FeedBatch.UNRESOLVED);
    }

    /**
     * Applies a run of the feed's events from its columns; with many accounts ({@link
     * FeedBatch#touchesAhead}), after touching the rows of the accounts the feed resolved for
     * them, so that their cache misses overlap.
     */
    @Override
    void onEvents(FeedBatch batch, int from, int to) {
        if (batch.resolved() && FeedBatch.touchesAhead(rows.count())) {
            touch(batch, from, to);
        }
        for (int at = from; at < to; at++) {
            long seq = batch.seq(at);
            applied.requireNext(seq);
            applier.debitIndex = batch.debitOrUnresolved(at);
            applier.creditIndex = batch.creditOrUnresolved(at);
            batch.tell(at, applier);
            applied.advanceAtBatchEnd(seq);
        }
    }

    /** Reads the part of each row an entry changes, for the run's accounts this model holds already. */
    private void touch(FeedBatch batch, int from, int to) {
        long touched = 0;
        int count = rows.count();
        for (int at = from; at < to; at++) {
            int debit = batch.debit(at);
            int credit = batch.credit(at);
            if (debit >= 0 && debit < count) {
                touched += rows.touch(debit);
            }
            if (credit >= 0 && credit < count) {
                touched += rows.touch(credit);
            }
        }
        this.touched = touched;
    }

    /** Applies the next event, its accounts at the indexes given or, {@link FeedBatch#UNRESOLVED}, looked up. */
    private void apply(Recorded recorded, int debitIndex, int creditIndex) {
        applied.requireNext(recorded.seq());
        applier.debitIndex = debitIndex;
        applier.creditIndex = creditIndex;
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
        applied.advanceAtBatchEnd(recorded.seq());
    }

    /**
     * The batch's entries reach the file, then the accounts it touched show them to queries. When
     * the batch touched one account in 16 or more, in the order of their rows, from the bits:
     * the rows are then read one after the other, which the processor prefetches, where the
     * order they were touched in takes a cache miss per row. Fewer, in that order, from the list:
     * with many accounts ({@link FeedBatch#touchesAhead}) a run of rows at a time, each touched
     * before any is published (their cache misses overlap).
     */
    @Override
    void batchEnded(long lastSeq) throws IOException {
        entries.flush();
        if (dirtyCount >= rows.count() >>> 4) {
            publishInRowOrder();
        } else if (FeedBatch.touchesAhead(rows.count())) {
            long touched = 0;
            for (int run = 0; run < dirtyCount; run += ReadModelFeed.EVENTS_PER_RUN_MAX) {
                int end = Math.min(dirtyCount, run + ReadModelFeed.EVENTS_PER_RUN_MAX);
                for (int at = run; at < end; at++) {
                    touched += rows.touch(dirty[at]);
                }
                for (int at = run; at < end; at++) {
                    publish(dirty[at]);
                }
            }
            this.touched = touched;
        } else {
            for (int at = 0; at < dirtyCount; at++) {
                publish(dirty[at]);
            }
        }
        dirtyCount = 0;
    }

    private void publish(int row) {
        rows.publish(row);
        dirtyBits[row >>> 6] = 0; // every row of the word is in the list, and published from it
    }

    private void publishInRowOrder() {
        int words = (rows.count() + Long.SIZE - 1) >>> 6;
        for (int word = 0; word < words; word++) {
            long bits = dirtyBits[word];
            if (bits != 0) {
                dirtyBits[word] = 0;
                do {
                    rows.publish(word << 6 | Long.numberOfTrailingZeros(bits));
                    bits &= bits - 1;
                } while (bits != 0);
            }
        }
    }

    /** Applies one event: an entry for each account a movement debits or credits, but the outside. */
    private final class Applier implements Movements.Sink {
        /** The event's accounts' indexes as the feed resolved them, or {@link FeedBatch#UNRESOLVED}. */
        int debitIndex;
        int creditIndex;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            if (byNumber.get(e.accountNumber()) != RowIndex.ABSENT) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
            if (debitIndex != FeedBatch.UNRESOLVED && debitIndex != rows.count()) {
                throw FeedBatch.mismatch(name(), e.accountNumber(), debitIndex, seq);
            }
            int row = rows.add(e.accountNumber(), e.openingBalance(), seq, timeMicros);
            byNumber.putIfAbsent(e.accountNumber(), row);
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            if (!rows.verify(existing(e.accountNumber(), debitIndex, seq), seq, timeMicros)) {
                throw new IllegalStateException("account " + e.accountNumber() + " verified twice, at seq " + seq);
            }
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            int from = existing(debitAccount, debitIndex, seq);
            switch (kind) {
                case TRANSFER -> {
                    int to = existing(creditAccount, creditIndex, seq); // before either entry
                    append(from, debitAccount, seq, timeMicros, StatementEntry.Type.TRANSFER_OUT, creditAccount,
                            amount, rows.balance(from) - amount);
                    append(to, creditAccount, seq, timeMicros, StatementEntry.Type.TRANSFER_IN, debitAccount, amount,
                            Math.addExact(rows.balance(to), amount));
                }
                case WITHDRAWAL -> append(from, debitAccount, seq, timeMicros, StatementEntry.Type.WITHDRAWAL, 0,
                        amount, rows.balance(from) - amount);
                case FORFEIT -> append(from, debitAccount, seq, timeMicros, StatementEntry.Type.FORFEIT, 0,
                        amount, rows.balance(from) - amount);
            }
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            existing(e.accountNumber(), debitIndex, seq); // a forfeit, if any, is the statement's last entry
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            existing(e.accountNumber(), debitIndex, seq); // statements hold amounts and account numbers only
        }
    }

    /** Writes an entry's record (into the buffer) and marks its account to be published at the batch's end. */
    private void append(int row, long accountNumber, long seq, long timeMicros, StatementEntry.Type type,
                        long counterparty, long amount, long balanceAfter) {
        long previous = rows.newestWritten(row);
        long jump = rows.push(row, entries.records(), balanceAfter);
        try {
            entries.append(seq, timeMicros, balanceAfter, (long) type.ordinal() << TYPE_SHIFT | counterparty, amount,
                    previous, jump, accountNumber);
        } catch (IOException e) {
            throw new UncheckedIOException("the statements' entries file cannot be written", e);
        }
        newestRecordSeq = seq;
        newestRecordAccount = accountNumber;
        if (rows.markDirty(row)) {
            if (dirtyCount == dirty.length) {
                dirty = Arrays.copyOf(dirty, dirtyCount * 2);
            }
            dirty[dirtyCount++] = row;
            if (row >>> 6 >= dirtyBits.length) {
                dirtyBits = Arrays.copyOf(dirtyBits, Math.max(dirtyBits.length * 2, (row >>> 6) + 1));
            }
            dirtyBits[row >>> 6] |= 1L << row;
        }
    }

    /** The account's row: the index the feed resolved, checked, or else looked up. */
    private int existing(long accountNumber, int resolved, long seq) {
        if (resolved == FeedBatch.UNRESOLVED) {
            int row = byNumber.get(accountNumber);
            if (row == RowIndex.ABSENT) {
                throw Movements.unknownAccount(accountNumber, seq);
            }
            return row;
        }
        if (resolved < 0 || resolved >= rows.count() || rows.accountNumber(resolved) != accountNumber) {
            throw FeedBatch.mismatch(name(), accountNumber, resolved, seq);
        }
        return resolved;
    }

    // ---- Queries, from any thread ----

    /**
     * Up to {@code limit} entries with a seq below {@code beforeSeq} (all when null), newest
     * first, and the {@code before_seq} of the next page. An account this model does not know
     * (yet) has an empty statement.
     *
     * @throws IllegalArgumentException when limit is outside 1 to 100 or beforeSeq is below 1
     *                                  (the HTTP layer checks first and answers invalid_query)
     */
    public StatementPage page(long accountNumber, int limit, Long beforeSeq) {
        if (limit < PAGE_LIMIT_MIN || limit > PAGE_LIMIT_MAX) {
            throw new IllegalArgumentException("limit must be from " + PAGE_LIMIT_MIN + " to " + PAGE_LIMIT_MAX
                    + ", not " + limit);
        }
        if (beforeSeq != null && beforeSeq < 1) {
            throw new IllegalArgumentException("before_seq must be at least 1, not " + beforeSeq);
        }
        return consistently(accountNumber, StatementPage.EMPTY, row -> {
            long before = beforeSeq == null ? Long.MAX_VALUE : beforeSeq;
            StatementEntriesFile.Cursor cursor = newestBefore(row, accountNumber, before);
            if (cursor == null) {
                return StatementPage.EMPTY;
            }
            List<StatementEntry> page = new ArrayList<>(limit);
            page.add(entryOf(cursor));
            while (page.size() < limit && cursor.previous() != NONE) {
                page.add(entryOf(cursor.read(cursor.previous(), accountNumber)));
            }
            return new StatementPage(page, cursor.previous() != NONE ? cursor.seq() : null);
        });
    }

    /**
     * The account's whole history, oldest first: its opening, its verification, then every
     * entry of its statement, each with its signed change and the balance after it. Empty for an
     * account this model does not know (yet).
     */
    public List<HistoryItem> history(long accountNumber) {
        return consistently(accountNumber, List.of(), row -> {
            // Money moves only between verified accounts, so every entry comes after the
            // verification, which is published before the first entry: reading the newest
            // record first and then the verification sees the verification whenever it sees an
            // entry. But a forfeit: the one entry of an account that closed unverified.
            long newest = rows.newest(row);
            long verifiedSeq = rows.verifiedSeq(row);
            List<StatementEntry> newestFirst = new ArrayList<>(rows.count(row));
            StatementEntriesFile.Cursor cursor = entries.new Cursor();
            for (long record = newest; record != NONE; record = cursor.previous()) {
                newestFirst.add(entryOf(cursor.read(record, accountNumber)));
            }
            long openingBalance = rows.openingBalance(row);
            List<HistoryItem> items = new ArrayList<>(newestFirst.size() + 2);
            items.add(new HistoryItem(rows.openedSeq(row), rows.openedMicros(row), HistoryItem.Type.OPENED,
                    openingBalance, openingBalance));
            if (verifiedSeq != 0) {
                items.add(new HistoryItem(verifiedSeq, rows.verifiedMicros(row), HistoryItem.Type.VERIFIED, 0,
                        openingBalance));
            }
            for (StatementEntry entry : newestFirst.reversed()) {
                assert entry.type() == StatementEntry.Type.FORFEIT ? verifiedSeq == 0
                        : entry.seq() > verifiedSeq && verifiedSeq != 0 : "an entry before the verification";
                items.add(new HistoryItem(entry.seq(), entry.timeMicros(), HistoryItem.Type.of(entry.type()),
                        entry.type().signed(entry.amount()), entry.balanceAfter()));
            }
            return items;
        });
    }

    /** The number of entries in the account's statement; 0 for an unknown account. */
    public int entryCount(long accountNumber) {
        return consistently(accountNumber, 0, rows::count);
    }

    /** Records read by queries since the start (a test counts the reads a page takes). */
    long recordsRead() {
        return entries.recordsRead();
    }

    /**
     * Answers {@code query} of the account's row, or {@code unknown} for an account this model
     * does not know; asks again when the model was cleared meanwhile, since what the query read
     * may then be another account's row and records, or none.
     */
    private <T> T consistently(long accountNumber, T unknown, IntFunction<T> query) {
        while (true) {
            int before = generation;
            int row = byNumber.get(accountNumber);
            try {
                T answer = row == RowIndex.ABSENT ? unknown : query.apply(row);
                if (generation == before) {
                    return answer;
                }
            } catch (RuntimeException e) {
                if (generation == before) {
                    throw e;
                }
            }
        }
    }

    /**
     * A cursor on the newest entry with a seq below {@code beforeSeq}, or null when there is
     * none. From the newest record, a jump is taken when its record's seq is still at or above
     * {@code beforeSeq} (no entry it passes over is sought), else the previous record is read:
     * O(log n) reads (Myers), two at most per step.
     */
    private StatementEntriesFile.Cursor newestBefore(int row, long account, long beforeSeq) {
        long newest = rows.newest(row);
        if (newest == NONE) {
            return null;
        }
        StatementEntriesFile.Cursor cursor = entries.new Cursor().read(newest, account);
        StatementEntriesFile.Cursor probe = null;
        while (cursor.seq() >= beforeSeq) {
            long jump = cursor.jump();
            if (jump != NONE && jump != cursor.previous()) {
                probe = probe == null ? entries.new Cursor() : probe;
                if (probe.read(jump, account).seq() >= beforeSeq) {
                    StatementEntriesFile.Cursor jumped = probe;
                    probe = cursor;
                    cursor = jumped;
                    continue;
                }
            }
            if (cursor.previous() == NONE) {
                return null;
            }
            cursor.read(cursor.previous(), account);
        }
        return cursor;
    }

    private static StatementEntry entryOf(StatementEntriesFile.Cursor record) {
        long typeAndCounterparty = record.typeAndCounterparty();
        StatementEntry.Type type = TYPES[(int) (typeAndCounterparty >>> TYPE_SHIFT)];
        boolean toOutside = type == StatementEntry.Type.WITHDRAWAL || type == StatementEntry.Type.FORFEIT;
        Long counterparty = toOutside ? null : typeAndCounterparty & COUNTERPARTY_MASK;
        return new StatementEntry(record.seq(), record.timeMicros(), type, record.amount(), counterparty,
                record.balanceAfter());
    }
}
