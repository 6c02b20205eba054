package eventbank.server.readmodel;

import static eventbank.server.readmodel.StatementEntriesFile.NONE;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The accounts of {@link StatementsReadModel}, by index in the order they were opened (the index
 * {@link FeedBatch} resolves): each a row of {@value #ROW_LONGS} longs in pages of {@link
 * #PAGE_ROWS} rows, no object per account. A row holds what its opening fixed, its verification,
 * its balance, where its entries are in the {@link StatementEntriesFile}, and the spine its next
 * jump pointer is chosen from. What appending an entry touches (the number, the balance, the
 * counts, the newest records and the top of the spine) lies in the row's first two cache lines:
 * as an object with its spine in an array of its own, the spine was a cache miss more per entry,
 * the read side's most sampled line (BENCHMARKS.md, "Issue 15").
 *
 * <p>Each record names the account's previous record and a jump record further back, Myers' jump
 * pointers ("An applicative random-access stack", 1983): the first record has none; a new record
 * with parent p jumps to jump(jump(p)) when depth(p) - depth(jump(p)) equals depth(jump(p)) -
 * depth(jump(jump(p))), else to p. Following a jump whenever it does not pass what is sought, and
 * the previous record otherwise, finds any earlier record in O(log n) reads.
 *
 * <p>To make that choice without reading the file, the writer keeps the <em>spine</em>: the
 * records reached by jumps from the newest, newest last, each with the exponent k of its distance
 * (2<sup>k</sup> - 1 entries) to the one before it in the spine (the distances are the skew-binary
 * digits of the count, so the spine holds at most log2(n) + 2 records, and the first record is
 * always its bottom). A new record pops two records and jumps to the third when the top two
 * distances are equal, else it jumps to the newest; either way it is pushed. The row holds the
 * spine's first {@value #SPINE_INLINE} slots, enough for every account of up to 2<sup>12</sup>
 * entries; an account with a deeper spine keeps the rest in an array of its own.
 *
 * <p>Concurrency: one thread writes (the subscription thread); any thread reads a row it found
 * through the model's {@link RowIndex}, which publishes the row after it was written. A new page
 * is published with the directory of pages, a volatile field, before any row in it. The writer
 * publishes the newest record and the count with release stores at a batch's end, after the
 * records were written to the file; readers read them with acquire loads and then the records.
 * The verification is published by its seq, written after its time.
 */
final class StatementRows {
    /** Rows a page holds: a page of 384 KiB is no humongous object in G1. */
    static final int PAGE_ROWS = 1 << 11;
    private static final int PAGE_SHIFT = 11;
    private static final int ROW_LONGS = 24;
    // The first two cache lines of a row: what an entry touches.
    private static final int NUMBER = 0;
    /** The writer's: the balance after the newest entry written. */
    private static final int BALANCE = 1;
    /** The writer's: the entries written (published or not), the spine's length, and the dirty flag. */
    private static final int STATE = 2;
    /** The newest record readers may read; {@link StatementEntriesFile#NONE} before the first. */
    private static final int NEWEST = 3;
    /** The entries readers may read. */
    private static final int COUNT = 4;
    private static final int SPINE = 5;
    private static final int SPINE_INLINE = 14;
    // Then what only queries, the verification and checkpoints read.
    private static final int OPENING_BALANCE = SPINE + SPINE_INLINE;
    private static final int OPENED_SEQ = OPENING_BALANCE + 1;
    private static final int OPENED_MICROS = OPENED_SEQ + 1;
    /** The seq of the account's AccountVerified, 0 until then; its time is written first. */
    private static final int VERIFIED_SEQ = OPENED_MICROS + 1;
    private static final int VERIFIED_MICROS = VERIFIED_SEQ + 1;

    /** The state: entries in the low 32 bits, the spine's length above, and the dirty flag on top. */
    private static final int SPINE_LENGTH_SHIFT = 32;
    private static final long SPINE_LENGTH_MASK = 0xFF;
    private static final long DIRTY = 1L << 62;
    private static final long ENTRIES_MASK = 0xFFFF_FFFFL;

    /** A spine slot: the distance's exponent in the top bits, the record's index below. */
    private static final int INDEX_BITS = 58;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    /** A distance of 2^k - 1 entries needs k below 32: an account has fewer than 2^31 entries. */
    private static final int EXPONENT_MAX = 32;

    private static final int PAGES_INITIAL = 16;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private volatile long[][] pages = new long[PAGES_INITIAL][];
    /** The writer's: the rows written. */
    private int count;
    /** The writer's: by row, the spine's slots past the row's, or null; null while no spine is that deep. */
    private long[][] deepSpines;

    /** Drops every row; readers that find none through the index see none. */
    void clear() {
        pages = new long[PAGES_INITIAL][];
        count = 0;
        deepSpines = null;
    }

    /** The rows written: the writer's. */
    int count() {
        return count;
    }

    /** Adds an account opened with no entries and answers its row. The writer's. */
    int add(long accountNumber, long openingBalance, long openedSeq, long openedMicros) {
        int row = count;
        long[] page = pageFor(row);
        int at = at(row);
        page[at + NUMBER] = accountNumber;
        page[at + BALANCE] = openingBalance;
        page[at + NEWEST] = NONE;
        page[at + OPENING_BALANCE] = openingBalance;
        page[at + OPENED_SEQ] = openedSeq;
        page[at + OPENED_MICROS] = openedMicros;
        count = row + 1;
        return row;
    }

    /** The page of a new row: a new one at the start of a page, published with the directory. */
    private long[] pageFor(int row) {
        int index = row >>> PAGE_SHIFT;
        long[][] directory = pages;
        if ((row & (PAGE_ROWS - 1)) != 0) {
            return directory[index];
        }
        if (index == directory.length) {
            directory = Arrays.copyOf(directory, index * 2);
        }
        directory[index] = new long[PAGE_ROWS * ROW_LONGS];
        pages = directory; // publishes the page, and a grown directory
        return directory[index];
    }

    private long[] page(int row) {
        return pages[row >>> PAGE_SHIFT];
    }

    private static int at(int row) {
        return (row & (PAGE_ROWS - 1)) * ROW_LONGS;
    }

    // ---- From any thread (none of it changes, or it is published) ----

    long accountNumber(int row) {
        return page(row)[at(row) + NUMBER];
    }

    long openingBalance(int row) {
        return page(row)[at(row) + OPENING_BALANCE];
    }

    long openedSeq(int row) {
        return page(row)[at(row) + OPENED_SEQ];
    }

    long openedMicros(int row) {
        return page(row)[at(row) + OPENED_MICROS];
    }

    /** The seq of the verification, 0 until then; read before {@link #verifiedMicros}. */
    long verifiedSeq(int row) {
        return (long) LONGS.getAcquire(page(row), at(row) + VERIFIED_SEQ);
    }

    long verifiedMicros(int row) {
        return page(row)[at(row) + VERIFIED_MICROS];
    }

    /** The newest record readers may read, or {@link StatementEntriesFile#NONE}. */
    long newest(int row) {
        return (long) LONGS.getAcquire(page(row), at(row) + NEWEST);
    }

    /** The entries readers may read. */
    int count(int row) {
        return (int) (long) LONGS.getAcquire(page(row), at(row) + COUNT);
    }

    // ---- The writer's ----

    /** The account's email address is confirmed at {@code seq}; false when it was already. */
    boolean verify(int row, long seq, long timeMicros) {
        long[] page = page(row);
        int at = at(row);
        if (page[at + VERIFIED_SEQ] != 0) {
            return false;
        }
        page[at + VERIFIED_MICROS] = timeMicros;
        LONGS.setRelease(page, at + VERIFIED_SEQ, seq); // publishes the time written before it
        return true;
    }

    long balance(int row) {
        return page(row)[at(row) + BALANCE];
    }

    /**
     * Takes {@code record} as the account's newest entry (its index in the file), leaving {@code
     * balanceAfter}, and answers the record it jumps to; the account's previous record is {@link
     * #newestWritten}, read before. Readers see it once {@link #publish}ed.
     */
    long push(int row, long record, long balanceAfter) {
        long[] page = page(row);
        int at = at(row);
        long state = page[at + STATE];
        int entries = (int) (state & ENTRIES_MASK);
        if (entries == Integer.MAX_VALUE) {
            throw new IllegalStateException("an account's statement holds at most " + entries + " entries");
        }
        int length = (int) (state >>> SPINE_LENGTH_SHIFT & SPINE_LENGTH_MASK);
        long jump;
        int exponent;
        if (length == 0) {
            jump = NONE;
            exponent = 0;
        } else {
            long top = slot(page, at, row, length - 1);
            long second = length >= 3 ? slot(page, at, row, length - 2) : 0;
            if (length >= 3 && exponentOf(top) == exponentOf(second)) {
                jump = slot(page, at, row, length - 3) & INDEX_MASK;
                exponent = exponentOf(top) + 1;
                length -= 2;
            } else {
                jump = top & INDEX_MASK;
                exponent = 1;
            }
        }
        setSlot(page, at, row, length, (long) exponent << INDEX_BITS | record);
        page[at + STATE] = (entries + 1) | (long) (length + 1) << SPINE_LENGTH_SHIFT | (state & DIRTY);
        page[at + BALANCE] = balanceAfter;
        return jump;
    }

    /**
     * Reads what an entry changes in the row (its number and state, and the top of its spine),
     * and answers what it read: to bring the row into the cache before a run of entries (see
     * {@link FeedBatch}).
     */
    long touch(int row) {
        long[] page = page(row);
        int at = at(row);
        long state = page[at + STATE];
        int length = (int) (state >>> SPINE_LENGTH_SHIFT & SPINE_LENGTH_MASK);
        return page[at + NUMBER] + state + page[at + SPINE + Math.min(length, SPINE_INLINE - 1)];
    }

    /** Marks the row as holding entries not yet published; answers false when it was already. */
    boolean markDirty(int row) {
        long[] page = page(row);
        int at = at(row);
        long state = page[at + STATE];
        if ((state & DIRTY) != 0) {
            return false;
        }
        page[at + STATE] = state | DIRTY;
        return true;
    }

    /** The newest record written, or {@link StatementEntriesFile#NONE}. */
    long newestWritten(int row) {
        long[] page = page(row);
        int at = at(row);
        int length = (int) (page[at + STATE] >>> SPINE_LENGTH_SHIFT & SPINE_LENGTH_MASK);
        return length == 0 ? NONE : slot(page, at, row, length - 1) & INDEX_MASK;
    }

    /** Lets readers see every entry written so far, and clears the dirty flag: their records must be in the file. */
    void publish(int row) {
        long[] page = page(row);
        int at = at(row);
        long state = page[at + STATE] & ~DIRTY;
        page[at + STATE] = state;
        int length = (int) (state >>> SPINE_LENGTH_SHIFT & SPINE_LENGTH_MASK);
        long newest = length == 0 ? NONE : slot(page, at, row, length - 1) & INDEX_MASK;
        LONGS.setRelease(page, at + NEWEST, newest);
        LONGS.setRelease(page, at + COUNT, state & ENTRIES_MASK);
    }

    private long slot(long[] page, int at, int row, int index) {
        return index < SPINE_INLINE ? page[at + SPINE + index] : deepSpines[row][index - SPINE_INLINE];
    }

    private void setSlot(long[] page, int at, int row, int index, long slot) {
        if (index < SPINE_INLINE) {
            page[at + SPINE + index] = slot;
        } else {
            deepSpine(row, index - SPINE_INLINE + 1)[index - SPINE_INLINE] = slot;
        }
    }

    /** The row's deep spine, with room for at least {@code slots} slots. */
    private long[] deepSpine(int row, int slots) {
        if (deepSpines == null) {
            deepSpines = new long[Math.max(PAGE_ROWS, count)][];
        } else if (row >= deepSpines.length) {
            deepSpines = Arrays.copyOf(deepSpines, Math.max(row + 1, deepSpines.length * 2));
        }
        long[] deep = deepSpines[row];
        if (deep == null || deep.length < slots) {
            deep = deep == null ? new long[Math.max(8, slots)] : Arrays.copyOf(deep, Math.max(slots, deep.length * 2));
            deepSpines[row] = deep;
        }
        return deep;
    }

    private static int exponentOf(long slot) {
        return (int) (slot >>> INDEX_BITS);
    }

    // ---- Checkpoints ----

    /**
     * Every row as it is in its page, in bulk, then the deep spines (their count, and each one's
     * row, length and slots): a start reads them back without a call per account. The writer's,
     * at a batch's end (no row is dirty then).
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        output.writeInt(count);
        output.writePages(pages, count, PAGE_ROWS, ROW_LONGS);
        int deep = 0;
        for (int row = 0; row < count; row++) {
            deep += spineLength(row) > SPINE_INLINE ? 1 : 0;
        }
        output.writeInt(deep);
        for (int row = 0; row < count; row++) {
            int length = spineLength(row);
            if (length > SPINE_INLINE) {
                output.writeInt(row);
                output.writeInt(length - SPINE_INLINE);
                output.writeLongs(deepSpines[row], 0, length - SPINE_INLINE);
            }
        }
    }

    private int spineLength(int row) {
        return (int) (page(row)[at(row) + STATE] >>> SPINE_LENGTH_SHIFT & SPINE_LENGTH_MASK);
    }

    /**
     * Replaces every row with those {@link #write} wrote, publishes each, and answers their count;
     * each spine is checked against its row's count and the {@code records} of the entries file,
     * so that a damaged checkpoint is refused. The index is the caller's; the writer's, before
     * readers find any row.
     */
    int read(ModelCheckpoint.Input input, long records) throws IOException {
        int rows = input.count(ROW_LONGS * Long.BYTES);
        pages = input.readPages(rows, PAGE_ROWS, ROW_LONGS, PAGES_INITIAL);
        count = rows;
        deepSpines = null;
        int deep = input.count(8);
        for (int index = 0, previous = -1; index < deep; index++) {
            int row = input.readInt();
            int slots = input.count(Long.BYTES);
            if (row <= previous || row >= rows || slots < 1 || SPINE_INLINE + slots != spineLength(row)) {
                throw new IOException("a deep spine of " + slots + " slots at row " + row + " of " + rows);
            }
            input.readLongs(deepSpine(row, slots), 0, slots);
            previous = row;
        }
        for (int row = 0; row < rows; row++) {
            check(row, records);
            publish(row);
        }
        return rows;
    }

    /** Refuses a row no rebuild makes: no account number, or a spine that does not fit its count or the file. */
    private void check(int row, long records) throws IOException {
        long[] page = page(row);
        int at = at(row);
        long accountNumber = page[at + NUMBER];
        long state = page[at + STATE];
        int entries = (int) (state & ENTRIES_MASK);
        int length = (int) (state >>> SPINE_LENGTH_SHIFT & SPINE_LENGTH_MASK);
        if (accountNumber == 0 || entries < 0 || (length == 0) != (entries == 0) || length > 2 * EXPONENT_MAX
                || length > SPINE_INLINE && (deepSpines == null || deepSpines[row] == null)) {
            throw new IOException("account " + accountNumber + " has " + entries + " entries and a spine of "
                    + length);
        }
        long covered = 0;
        long below = NONE;
        for (int index = 0; index < length; index++) {
            long slot = slot(page, at, row, index);
            long record = slot & INDEX_MASK;
            int exponent = exponentOf(slot);
            if (record <= below || record >= records || (index == 0) != (exponent == 0) || exponent > EXPONENT_MAX) {
                throw new IOException("account " + accountNumber + "'s spine is damaged at " + index);
            }
            covered += exponent == 0 ? 0 : (1L << exponent) - 1;
            below = record;
        }
        if (length > 0 && covered != entries - 1) {
            throw new IOException("account " + accountNumber + "'s spine covers " + (covered + 1) + " entries, not "
                    + entries);
        }
    }
}
