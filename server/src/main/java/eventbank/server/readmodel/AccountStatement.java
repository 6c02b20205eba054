package eventbank.server.readmodel;

import static eventbank.server.readmodel.StatementEntriesFile.NONE;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * One account in {@link StatementsReadModel}: what its opening fixed, its verification, its
 * balance, and where its entries are in the {@link StatementEntriesFile}. Its size depends on
 * the account, not on how many entries it has (but for a logarithm: see the spine below).
 *
 * <p>Each record names the account's previous record and a jump record further back, Myers'
 * jump pointers ("An applicative random-access stack", 1983): the first record has none; a
 * new record with parent p jumps to jump(jump(p)) when depth(p) - depth(jump(p)) equals
 * depth(jump(p)) - depth(jump(jump(p))), else to p. Following a jump whenever it does not pass
 * what is sought, and the previous record otherwise, finds any earlier record in O(log n) reads.
 *
 * <p>To make that choice without reading the file, the writer keeps the <em>spine</em>: the
 * records reached by jumps from the newest, newest last, each with the exponent k of its
 * distance (2<sup>k</sup> - 1 entries) to the one before it in the spine (the distances are
 * the skew-binary digits of the count, so the spine holds at most log2(n) + 2 records, and the
 * first record is always its bottom). A new record pops two records and jumps to the third
 * when the top two distances are equal, else it jumps to the newest; either way it is pushed.
 *
 * <p>Concurrency: the writer publishes {@link #newest} and {@link #count} with release stores
 * at a batch's end, after the records were written to the file; readers read them and then
 * the records. The verification is published by its seq, written after its time.
 */
final class AccountStatement {
    private static final VarHandle NEWEST = FieldHandles.of(MethodHandles.lookup(), "newest", long.class);
    private static final VarHandle COUNT = FieldHandles.of(MethodHandles.lookup(), "count", int.class);
    /** A spine slot: the distance's exponent in the top bits, the record's index below. */
    private static final int INDEX_BITS = 58;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    /** A distance of 2^k - 1 entries needs k below 32: an account has fewer than 2^31 entries. */
    private static final int EXPONENT_MAX = 32;
    /**
     * Room for the spine of up to 248 entries, allocated with the account, so that it lies just
     * after the account in memory: the spine made at the first entry, elsewhere in the heap, was a
     * cache miss more per entry (a third more CPU per entry, measured with StatementsBenchmark).
     */
    private static final int SPINE_INITIAL = 8;

    final long accountNumber;
    final long openingBalance;
    final long openedSeq;
    final long openedMicros;
    /** The seq of the account's AccountVerified, 0 until then; its time is written first. */
    volatile long verifiedSeq;
    long verifiedMicros;
    /** The newest record readers may read; {@link StatementEntriesFile#NONE} before the first. */
    private volatile long newest = NONE;
    /** The entries readers may read. */
    private volatile int count;

    // The writer's own:
    /** The balance after the newest entry written. */
    long balance;
    /** Entries written, published or not. */
    private int entries;
    private long[] spine;
    private int spineLength;
    /** Whether it is in the model's list of accounts to publish at the batch's end. */
    boolean dirty;

    AccountStatement(long accountNumber, long openingBalance, long openedSeq, long openedMicros) {
        this.accountNumber = accountNumber;
        this.openingBalance = openingBalance;
        this.openedSeq = openedSeq;
        this.openedMicros = openedMicros;
        this.balance = openingBalance;
        this.spine = new long[SPINE_INITIAL];
    }

    /** The newest record readers may read, or {@link StatementEntriesFile#NONE}. From any thread. */
    long newest() {
        return newest;
    }

    /** The entries readers may read. From any thread. */
    int count() {
        return count;
    }

    /** The newest record written, or {@link StatementEntriesFile#NONE}. The writer's. */
    long newestWritten() {
        return spineLength == 0 ? NONE : spine[spineLength - 1] & INDEX_MASK;
    }

    /**
     * Takes {@code record} as the account's newest entry (its index in the file) and answers the
     * record it jumps to. The writer's; readers see it once {@link #publish}ed.
     */
    long push(long record) {
        if (entries == Integer.MAX_VALUE) {
            throw new IllegalStateException("an account's statement holds at most " + entries + " entries");
        }
        int length = spineLength;
        long jump;
        int exponent;
        if (length == 0) {
            jump = NONE;
            exponent = 0;
        } else if (length >= 3 && exponentOf(spine[length - 1]) == exponentOf(spine[length - 2])) {
            jump = spine[length - 3] & INDEX_MASK;
            exponent = exponentOf(spine[length - 1]) + 1;
            length -= 2;
        } else {
            jump = spine[length - 1] & INDEX_MASK;
            exponent = 1;
        }
        if (length == spine.length) {
            spine = Arrays.copyOf(spine, length * 2);
        }
        spine[length] = (long) exponent << INDEX_BITS | record;
        spineLength = length + 1;
        entries++;
        return jump;
    }

    private static int exponentOf(long slot) {
        return (int) (slot >>> INDEX_BITS);
    }

    /** Lets readers see every entry written so far: their records must be in the file. The writer's. */
    void publish() {
        NEWEST.setRelease(this, newestWritten());
        COUNT.setRelease(this, entries);
    }

    /** The account's part of a checkpoint; {@link #read} reads it back. The writer's. */
    void write(ModelCheckpoint.Output output) throws IOException {
        output.writeLong(accountNumber);
        output.writeLong(openingBalance);
        output.writeLong(openedSeq);
        output.writeLong(openedMicros);
        output.writeLong(verifiedSeq);
        output.writeLong(verifiedMicros);
        output.writeLong(balance);
        output.writeInt(entries);
        output.writeInt(spineLength);
        for (int at = 0; at < spineLength; at++) {
            output.writeLong(spine[at]);
        }
    }

    /** The least a checkpoint holds for an account (one without entries). */
    static final int CHECKPOINT_BYTES_MIN = 7 * 8 + 2 * 4;

    /**
     * An account from a checkpoint, published; its spine is checked against its count and the
     * {@code records} of the entries file, so that a damaged checkpoint is refused.
     */
    static AccountStatement read(ModelCheckpoint.Input input, long records) throws IOException {
        AccountStatement account = new AccountStatement(input.readLong(), input.readLong(), input.readLong(),
                input.readLong());
        account.verifiedSeq = input.readLong();
        account.verifiedMicros = input.readLong();
        account.balance = input.readLong();
        account.entries = input.readInt();
        int length = input.count(8);
        if (account.entries < 0 || (length == 0) != (account.entries == 0) || length > 2 * EXPONENT_MAX) {
            throw new IOException("account " + account.accountNumber + " has " + account.entries
                    + " entries and a spine of " + length);
        }
        if (length > account.spine.length) {
            account.spine = new long[length];
        }
        long covered = 0;
        long below = NONE;
        for (int at = 0; at < length; at++) {
            long slot = input.readLong();
            long record = slot & INDEX_MASK;
            int exponent = exponentOf(slot);
            if (record <= below || record >= records || (at == 0) != (exponent == 0) || exponent > EXPONENT_MAX) {
                throw new IOException("account " + account.accountNumber + "'s spine is damaged at " + at);
            }
            covered += exponent == 0 ? 0 : (1L << exponent) - 1;
            account.spine[at] = slot;
            below = record;
        }
        if (length > 0 && covered != account.entries - 1) {
            throw new IOException("account " + account.accountNumber + "'s spine covers " + (covered + 1)
                    + " entries, not " + account.entries);
        }
        account.spineLength = length;
        account.publish();
        return account;
    }
}
