package eventbank.server.readmodel;

import java.io.IOException;

/**
 * Where an account number's probe starts in the read models' open-addressing tables of primitive
 * longs ({@link RowIndex}, {@link NumberLongs}). Their checkpoints hold the tables as they are,
 * so a change here is a change of those checkpoints' formats.
 */
public final class NumberSlots {
    private NumberSlots() {}

    /**
     * A table of account numbers and rows, two longs a slot (0 a free slot), as a checkpoint holds
     * it: its slots' count, then the slots in bulk ({@link RowIndex}, and the outbox's index).
     */
    public static void writeRowTable(ModelCheckpoint.Output output, long[] table) throws IOException {
        output.writeInt(table.length / 2);
        output.writeLongs(table, 0, table.length);
    }

    /**
     * Reads what {@link #writeRowTable} wrote, which must index {@code rows} rows: refused unless
     * its slots' count is a power of two from {@code slotsMin} to {@code slotsMax}, and it holds
     * {@code rows} numbers, each at a row below {@code rows}.
     */
    public static long[] readRowTable(ModelCheckpoint.Input input, int rows, long slotsMin, int slotsMax)
            throws IOException {
        int slots = input.count(2 * Long.BYTES);
        if (Integer.bitCount(slots) != 1 || slots < slotsMin || slots > slotsMax) {
            throw new IOException("an index of " + slots + " slots for " + rows + " accounts");
        }
        long[] table = new long[2 * slots];
        input.readLongs(table, 0, table.length);
        int found = 0;
        for (int at = 0; at < table.length; at += 2) {
            if (table[at] != 0) {
                if (table[at + 1] < 0 || table[at + 1] >= rows) {
                    throw new IOException("account " + table[at] + " is indexed at row " + table[at + 1] + " of "
                            + rows);
                }
                found++;
            }
        }
        if (found != rows) {
            throw new IOException("an index of " + found + " accounts, not " + rows);
        }
        return table;
    }

    /** Where the probe for a number starts in a table of {@code mask + 1} slots. */
    public static int slotOf(long number, int mask) {
        return (int) mix(number) & mask;
    }

    /**
     * Spreads sequential or random account numbers evenly over a table: MurmurHash3's finaliser,
     * as the write model's {@code AccountTable} (package-private in core) spreads them.
     */
    private static long mix(long key) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
