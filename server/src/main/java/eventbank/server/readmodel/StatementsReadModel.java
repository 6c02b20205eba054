package eventbank.server.readmodel;

import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every account's statement: one entry per transfer in or out and per withdrawal, for
 * {@code GET /api/account/transactions?limit=&before_seq=}.
 *
 * <p>Memory: there may be tens of millions of entries, so an entry is not an object but four
 * {@code long}s in its account's chunks of 256 entries: seq, time, balance after, and the type
 * (top byte) with the counterparty's account number (the low 56 bits; 0 for a withdrawal). The
 * amount is not stored: it is the difference between the entry's balance and the one before it
 * (the opening balance for the first entry). That is 32 bytes an entry; an account's first
 * chunk grows by half from 4 entries (39 bytes an entry were measured with such growth slack, 20
 * million entries over a million accounts), a long statement wastes at most one partly filled
 * chunk. An account costs about 150 bytes more: its holder (with the opening and verification
 * the history needs), the chunk array, and its slots in a {@link NumberIndex} (a long and a
 * reference, at most half full; a map's node, table slot and boxed key took about 56). One object
 * per entry would cost about 60 bytes (a record of six fields, a boxed counterparty, a
 * reference in a list).
 *
 * <p>Concurrency: only the subscription thread appends, and statements are read without locks.
 * An account's holder publishes an entry by writing its count (a release store) after the entry's
 * words, and a new or grown chunk (and the chunk array holding it) before the count, so a reader
 * that reads the count and then the chunks finds at least that many whole entries. Each
 * account's statement is read consistently on its own; a page does not need the other accounts.
 */
public final class StatementsReadModel extends ReadModel {
    public static final int PAGE_LIMIT_MIN = 1;
    public static final int PAGE_LIMIT_MAX = 100;
    public static final int PAGE_LIMIT_DEFAULT = 20;

    static final int LONGS_PER_ENTRY = 4;
    private static final int SEQ = 0;
    private static final int TIME = 1;
    private static final int BALANCE_AFTER = 2;
    private static final int TYPE_AND_COUNTERPARTY = 3;
    private static final int TYPE_SHIFT = 56;
    private static final long COUNTERPARTY_MASK = (1L << TYPE_SHIFT) - 1;
    private static final StatementEntry.Type[] TYPES = StatementEntry.Type.values();
    /** Entries per chunk: 256 (8 KiB); only an account's first chunk starts smaller and grows. */
    private static final int CHUNK_SHIFT = 8;
    private static final int CHUNK_ENTRIES = 1 << CHUNK_SHIFT;
    private static final int CHUNK_MASK = CHUNK_ENTRIES - 1;
    private static final int FIRST_CHUNK_ENTRIES_INITIAL = 4;
    private static final long[][] NO_CHUNKS = new long[0][];

    /**
     * One account's entries, oldest first, in chunks: the first grows by half up to
     * {@link #CHUNK_ENTRIES} (an account with few entries wastes little), the next ones are
     * allocated whole. A long statement so never moves: one array grown by half, as before,
     * copied each entry about twice more and took 15% of the server's CPU under batch load.
     * Written by the subscription thread only.
     */
    private static final class Statement {
        private static final VarHandle COUNT =
                FieldHandles.of(MethodHandles.lookup(), "count", int.class);

        final long openingBalance;
        final long openedSeq;
        final long openedMicros;
        /** The seq of the account's AccountVerified, 0 until then; its time is written first. */
        volatile long verifiedSeq;
        long verifiedMicros;
        /** Grown (or its first chunk replaced by a larger copy) before {@link #count} is raised. */
        volatile long[][] chunks = NO_CHUNKS;
        /** Raised with a release store ({@link #COUNT}): readers read it, and only then the chunks. */
        volatile int count;
        /**
         * The balance after the newest entry, the writer's own: reading it from the newest entry
         * instead (the count, the chunk array, the chunk: a cache miss or more, per side of a
         * transfer) took a third of the read models' thread.
         */
        long balance;
        /**
         * The chunk the newest entry went into, the writer's own: an entry goes there without a
         * look at {@link #chunks} (one cache miss less per side of a transfer) unless it is full.
         */
        long[] tail;

        Statement(long openingBalance, long openedSeq, long openedMicros) {
            this.openingBalance = openingBalance;
            this.openedSeq = openedSeq;
            this.openedMicros = openedMicros;
            this.balance = openingBalance;
        }

        static long word(long[][] chunks, int index, int field) {
            return chunks[index >>> CHUNK_SHIFT][(index & CHUNK_MASK) * LONGS_PER_ENTRY + field];
        }

        void append(long seq, long timeMicros, StatementEntry.Type type, long counterparty, long balanceAfter) {
            int n = count;
            if (n == Integer.MAX_VALUE) {
                throw new IllegalStateException("an account's statement holds at most " + n + " entries");
            }
            int at = (n & CHUNK_MASK) * LONGS_PER_ENTRY;
            long[] chunk = tail;
            if (chunk == null || (n & CHUNK_MASK) == 0 || at + LONGS_PER_ENTRY > chunk.length) {
                chunk = chunkFor(n);
                tail = chunk;
            }
            chunk[at + SEQ] = seq;
            chunk[at + TIME] = timeMicros;
            chunk[at + BALANCE_AFTER] = balanceAfter;
            chunk[at + TYPE_AND_COUNTERPARTY] = (long) type.ordinal() << TYPE_SHIFT | counterparty;
            balance = balanceAfter;
            // Publishes the entry. A release store orders the words, chunks and chunk array
            // before it as a volatile write does, without the full fence that write costs.
            COUNT.setRelease(this, n + 1);
        }

        /**
         * A chunk with room for entry {@code n}, which does not fit in {@link #tail}: the first
         * chunk, grown by half, or a new whole one; published in {@link #chunks} before the
         * entry's count is.
         */
        private long[] chunkFor(int n) {
            long[][] all = chunks;
            int chunkIndex = n >>> CHUNK_SHIFT;
            long[] chunk = chunkIndex < all.length ? all[chunkIndex] : null;
            int entries = chunkIndex > 0 ? CHUNK_ENTRIES
                    : Math.min(CHUNK_ENTRIES, Math.max(FIRST_CHUNK_ENTRIES_INITIAL, n + (n >> 1)));
            chunk = chunk == null ? new long[entries * LONGS_PER_ENTRY]
                    : Arrays.copyOf(chunk, entries * LONGS_PER_ENTRY);
            if (chunkIndex == all.length) {
                all = Arrays.copyOf(all, Math.max(1, all.length + (all.length >> 1) + 1));
            }
            all[chunkIndex] = chunk;
            chunks = all;
            return chunk;
        }
    }

    private final NumberIndex<Statement> statements = new NumberIndex<>();
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();

    @Override
    void clear() {
        statements.clear();
    }

    @Override
    public String name() {
        return "statements";
    }

    @Override
    public void onEvent(Recorded recorded) {
        applied.requireNext(recorded.seq());
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
        applied.advance(recorded.seq());
    }

    /** Applies one event: an entry for each account a movement debits or credits, but the outside. */
    private final class Applier implements Movements.Sink {
        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            Statement opened = new Statement(e.openingBalance(), seq, timeMicros);
            if (statements.putIfAbsent(e.accountNumber(), opened) != null) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            Statement statement = existing(e.accountNumber(), seq);
            if (statement.verifiedSeq != 0) {
                throw new IllegalStateException("account " + e.accountNumber() + " verified twice, at seq " + seq);
            }
            statement.verifiedMicros = timeMicros;
            statement.verifiedSeq = seq; // publishes the time written before it
        }

        /** Amounts are recovered from consecutive balances: {@link Movements#of} saw that they are positive. */
        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            Statement from = existing(debitAccount, seq);
            switch (kind) {
                case TRANSFER -> {
                    Statement to = existing(creditAccount, seq); // before either entry
                    from.append(seq, timeMicros, StatementEntry.Type.TRANSFER_OUT, creditAccount,
                            from.balance - amount);
                    to.append(seq, timeMicros, StatementEntry.Type.TRANSFER_IN, debitAccount,
                            Math.addExact(to.balance, amount));
                }
                case WITHDRAWAL -> from.append(seq, timeMicros, StatementEntry.Type.WITHDRAWAL, 0,
                        from.balance - amount);
            }
        }
    }

    private Statement existing(long accountNumber, long seq) {
        Statement statement = statements.get(accountNumber);
        if (statement == null) {
            throw Movements.unknownAccount(accountNumber, seq);
        }
        return statement;
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
        Statement statement = statements.get(accountNumber);
        if (statement == null) {
            return StatementPage.EMPTY;
        }
        int count = statement.count; // the count first, then the chunks: see the class comment
        long[][] chunks = statement.chunks;
        int end = beforeSeq == null ? count : firstIndexAtOrAfter(chunks, count, beforeSeq);
        int start = Math.max(0, end - limit);
        List<StatementEntry> entries = new ArrayList<>(end - start);
        for (int index = end - 1; index >= start; index--) {
            entries.add(entryAt(statement, chunks, index));
        }
        return new StatementPage(entries, start > 0 ? Statement.word(chunks, start, SEQ) : null);
    }

    /**
     * The account's whole history, oldest first: its opening, its verification, then every
     * entry of its statement, each with its signed change and the balance after it. Empty for an
     * account this model does not know (yet).
     */
    public List<HistoryItem> history(long accountNumber) {
        Statement statement = statements.get(accountNumber);
        if (statement == null) {
            return List.of();
        }
        // Money moves only between verified accounts, so every entry comes after the
        // verification, which is published before the first entry: reading the count first and
        // then the verification sees the verification whenever it sees an entry.
        int count = statement.count;
        long[][] chunks = statement.chunks;
        long verifiedSeq = statement.verifiedSeq;
        List<HistoryItem> items = new ArrayList<>(count + 2);
        items.add(new HistoryItem(statement.openedSeq, statement.openedMicros, HistoryItem.Type.OPENED,
                statement.openingBalance, statement.openingBalance));
        if (verifiedSeq != 0) {
            items.add(new HistoryItem(verifiedSeq, statement.verifiedMicros, HistoryItem.Type.VERIFIED, 0,
                    statement.openingBalance));
        }
        for (int index = 0; index < count; index++) {
            StatementEntry entry = entryAt(statement, chunks, index);
            assert entry.seq() > verifiedSeq && verifiedSeq != 0 : "an entry before the verification";
            items.add(new HistoryItem(entry.seq(), entry.timeMicros(), HistoryItem.Type.of(entry.type()),
                    entry.type().signed(entry.amount()), entry.balanceAfter()));
        }
        return items;
    }

    /** The number of entries in the account's statement; 0 for an unknown account. */
    public int entryCount(long accountNumber) {
        Statement statement = statements.get(accountNumber);
        return statement == null ? 0 : statement.count;
    }

    /** Seqs within one statement rise strictly (an event touches an account at most once). */
    private static int firstIndexAtOrAfter(long[][] chunks, int count, long seq) {
        int low = 0;
        int high = count;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (Statement.word(chunks, middle, SEQ) < seq) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        return low;
    }

    private static StatementEntry entryAt(Statement statement, long[][] chunks, int index) {
        long balanceAfter = Statement.word(chunks, index, BALANCE_AFTER);
        long balanceBefore = index == 0 ? statement.openingBalance
                : Statement.word(chunks, index - 1, BALANCE_AFTER);
        long typeAndCounterparty = Statement.word(chunks, index, TYPE_AND_COUNTERPARTY);
        StatementEntry.Type type = TYPES[(int) (typeAndCounterparty >>> TYPE_SHIFT)];
        long amount = type == StatementEntry.Type.TRANSFER_IN ? balanceAfter - balanceBefore
                : balanceBefore - balanceAfter;
        Long counterparty = type == StatementEntry.Type.WITHDRAWAL ? null : typeAndCounterparty & COUNTERPARTY_MASK;
        return new StatementEntry(Statement.word(chunks, index, SEQ), Statement.word(chunks, index, TIME), type,
                amount, counterparty, balanceAfter);
    }
}
