package eventbank.server.readmodel;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Account number to its row in {@link AccountRows} or {@link StatementRows} (its index in the
 * order accounts were opened), in an open-addressing table of primitive longs (linear probing,
 * at most half full), each slot the number and the row side by side, so that a probe misses the
 * cache once, not once per array, and an account is no object at all. One thread writes (the read models'
 * subscription thread); any thread reads, without a lock. Entries are never removed, only all of
 * them at once.
 *
 * <p>The writer puts the row in its slot before the number, the number with release semantics,
 * and a reader reads the number with acquire semantics before the row: a reader that finds the
 * number finds its row, and the row's contents written before. A grown table is filled whole
 * before it is published through a volatile field.
 */
final class RowIndex {
    /** What {@link #get} answers for an account that is not there. */
    static final int ABSENT = -1;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Account numbers are 16 digits, never 0: 0 marks a free slot. */
    private static final long FREE = 0;
    private static final int CAPACITY_INITIAL = 1 << 10;

    /** Slot i is the number at 2i and the row at 2i + 1. */
    private volatile long[] table = new long[2 * CAPACITY_INITIAL];
    private volatile int size;

    void clear() {
        table = new long[2 * CAPACITY_INITIAL];
        size = 0;
    }

    int size() {
        return size;
    }

    /** The row of this account number, or {@link #ABSENT}. From any thread. */
    int get(long number) {
        if (number == FREE) {
            return ABSENT;
        }
        long[] current = table;
        int mask = current.length / 2 - 1;
        for (int slot = NumberSlots.slotOf(number, mask); ; slot = (slot + 1) & mask) {
            long found = (long) LONGS.getAcquire(current, 2 * slot);
            if (found == number) {
                return (int) current[2 * slot + 1];
            }
            if (found == FREE) {
                return ABSENT;
            }
        }
    }

    /**
     * Adds the account's row and answers {@link #ABSENT}, or answers the row already there and
     * changes nothing. The writer's only.
     */
    int putIfAbsent(long number, int row) {
        if (number == FREE) {
            throw new IllegalArgumentException("account number 0");
        }
        long[] current = table;
        int slot = freeSlotOrSame(current, number);
        if (current[2 * slot] == number) {
            return (int) current[2 * slot + 1];
        }
        int grownSize = size + 1;
        if (grownSize * 4 > current.length) {
            current = grown(current);
            slot = freeSlotOrSame(current, number);
            current[2 * slot + 1] = row;
            current[2 * slot] = number;
            table = current; // publishes the whole grown table, the new entry with it
        } else {
            current[2 * slot + 1] = row;
            LONGS.setRelease(current, 2 * slot, number);
        }
        size = grownSize;
        return ABSENT;
    }

    /**
     * The table as it is, for a checkpoint: its slots' count, then the slots in bulk, so that
     * {@link #read} fills it again without a probe. The writer's.
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        NumberSlots.writeRowTable(output, table);
    }

    /**
     * Fills the index, empty, with what {@link #write} wrote, which must index {@code rows} rows:
     * the slots' count a power of two, at most half full, each row below {@code rows} and the
     * count of numbers {@code rows}. The writer's, before readers find it.
     */
    void read(ModelCheckpoint.Input input, int rows) throws IOException {
        if (size != 0) {
            throw new IllegalStateException("an index is read while empty, not with " + size + " entries");
        }
        table = NumberSlots.readRowTable(input, rows, 2L * rows, Integer.MAX_VALUE);
        size = rows;
    }

    private static long[] grown(long[] old) {
        long[] grown = new long[old.length * 2];
        for (int at = 0; at < old.length; at += 2) {
            if (old[at] != FREE) {
                int slot = freeSlotOrSame(grown, old[at]);
                grown[2 * slot] = old[at];
                grown[2 * slot + 1] = old[at + 1];
            }
        }
        return grown;
    }

    /** The writer's probe: the slot holding the number, or the free slot where it would go. */
    private static int freeSlotOrSame(long[] table, long number) {
        int mask = table.length / 2 - 1;
        int slot = NumberSlots.slotOf(number, mask);
        while (table[2 * slot] != FREE && table[2 * slot] != number) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }
}
