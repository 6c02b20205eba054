package eventbank.server.readmodel;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * Normalized email ({@code Bank.normalizeEmail}) to the account's row in {@link AccountRows},
 * in an open-addressing table (linear probing, at most half full) of longs, each the hash code
 * of an email's UTF-8 bytes and the row, which holds those bytes (one cache line per probe, not
 * one per array): no node, no boxed value and no
 * string per account, as the {@code ConcurrentHashMap<String, Long>} before it made (loading a
 * million accounts from a checkpoint spent half its time putting them into that map). One
 * thread writes (the read models' subscription thread); any thread reads, without a lock.
 * Entries are never removed, only all of them at once.
 *
 * <p>The writer puts an entry in its slot with release semantics, after the row it names, and a
 * reader reads it with acquire semantics; a grown table is filled whole before it is published
 * through a volatile field.
 */
final class EmailIndex {
    private static final VarHandle ENTRIES = MethodHandles.arrayElementVarHandle(long[].class);
    /** A slot holds the hash code (high half) and the row plus one (low half): 0 marks a free slot. */
    private static final long FREE = 0;
    private static final int CAPACITY_INITIAL = 1 << 10;

    private final AccountRows accounts;
    private volatile long[] table = new long[CAPACITY_INITIAL];
    private int size;

    EmailIndex(AccountRows accounts) {
        this.accounts = accounts;
    }

    /** Drops every entry; readers see an empty index from then on. */
    void clear() {
        table = new long[CAPACITY_INITIAL];
        size = 0;
    }

    /** The row of the account whose normalized email is {@code normalizedEmail}, or {@link RowIndex#ABSENT}. */
    int get(String normalizedEmail) {
        byte[] email = normalizedEmail.getBytes(StandardCharsets.UTF_8);
        int hash = AccountRows.hashOf(email, 0, email.length);
        long[] current = table;
        int mask = current.length - 1;
        for (int slot = slotOf(hash, mask); ; slot = (slot + 1) & mask) {
            long entry = (long) ENTRIES.getAcquire(current, slot);
            if (entry == FREE) {
                return RowIndex.ABSENT;
            }
            if (hashOf(entry) == hash && accounts.hasNormalizedEmail(rowOf(entry), email)) {
                return rowOf(entry);
            }
        }
    }

    /**
     * Adds the row under its normalized email and answers {@link RowIndex#ABSENT}, or answers the
     * row already there and changes nothing. The writer's only.
     */
    int putIfAbsent(int row) {
        return putIfAbsent(row, accounts.normalizedEmailHash(row));
    }

    /** {@link #putIfAbsent(int)} with the hash code of the row's normalized email, computed before. */
    int putIfAbsent(int row, int hash) {
        long[] current = table;
        int slot = freeSlotOrSame(current, hash, row);
        if (current[slot] != FREE) {
            return rowOf(current[slot]);
        }
        long entry = (long) hash << 32 | (row + 1L);
        if ((size + 1) * 2 > current.length) {
            current = grown(current);
            current[freeSlotOrSame(current, hash, row)] = entry;
            table = current; // publishes the whole grown table, the new entry with it
        } else {
            ENTRIES.setRelease(current, slot, entry);
        }
        size++;
        return RowIndex.ABSENT;
    }

    /**
     * The table as it is, for a checkpoint: its length, then its entries in bulk, so that {@link
     * #read} fills it again without a probe (nor a comparison of emails). The writer's.
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        long[] current = table;
        output.writeInt(current.length);
        output.writeInt(size);
        output.writeLongs(current, 0, current.length);
    }

    /**
     * Fills the index, empty, with what {@link #write} wrote, whose entries must name rows below
     * {@code rows}: the length a power of two, at most half full, and the count of entries the one
     * written. The writer's, before readers find it.
     */
    void read(ModelCheckpoint.Input input, int rows) throws IOException {
        if (size != 0) {
            throw new IllegalStateException("an index is read while empty, not with " + size + " entries");
        }
        int length = input.count(Long.BYTES);
        int written = input.readInt();
        if (Integer.bitCount(length) != 1 || written < 0 || written > rows || length < 2L * written) {
            throw new IOException("an email index of " + length + " slots for " + written + " of " + rows
                    + " accounts");
        }
        long[] read = new long[length];
        input.readLongs(read, 0, length);
        int found = 0;
        for (long entry : read) {
            if (entry != FREE) {
                if (rowOf(entry) < 0 || rowOf(entry) >= rows) {
                    throw new IOException("an email is indexed at row " + rowOf(entry) + " of " + rows);
                }
                found++;
            }
        }
        if (found != written) {
            throw new IOException("an email index of " + found + " entries, not " + written);
        }
        table = read;
        size = found;
    }

    private static int hashOf(long entry) {
        return (int) (entry >>> 32);
    }

    private static int rowOf(long entry) {
        return (int) entry - 1;
    }

    private static long[] grown(long[] old) {
        long[] grown = new long[old.length * 2];
        int mask = grown.length - 1;
        for (long entry : old) {
            if (entry != FREE) {
                int slot = slotOf(hashOf(entry), mask);
                while (grown[slot] != FREE) {
                    slot = (slot + 1) & mask;
                }
                grown[slot] = entry;
            }
        }
        return grown;
    }

    /** The writer's probe: the slot holding the row's email, or the free slot where it would go. */
    private int freeSlotOrSame(long[] table, int hash, int row) {
        int mask = table.length - 1;
        int slot = slotOf(hash, mask);
        while (table[slot] != FREE
                && (hashOf(table[slot]) != hash || !accounts.sameNormalizedEmail(rowOf(table[slot]), row))) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    /** Spreads a hash code over the table: MurmurHash3's 32-bit finaliser. */
    private static int slotOf(int hash, int mask) {
        int h = hash;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h & mask;
    }
}
