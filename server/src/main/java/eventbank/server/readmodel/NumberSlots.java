package eventbank.server.readmodel;

/**
 * Where an account number's probe starts in the read models' open-addressing tables of primitive
 * longs ({@link RowIndex}, {@link NumberLongs}, {@link EmailIndex}'s size), and how large such a
 * table is made for a known number of entries.
 */
public final class NumberSlots {
    private static final int CAPACITY_INITIAL = 1 << 10;

    private NumberSlots() {}

    /**
     * The table size that holds {@code count} entries at most half full, a power of two: for an
     * index made room in for what a checkpoint holds.
     */
    static int capacityFor(int count) {
        long wanted = Math.max(CAPACITY_INITIAL, 2L * count);
        if (wanted > 1 << 29) { // RowIndex holds two longs a slot
            throw new IllegalArgumentException("too many accounts: " + count);
        }
        return Integer.highestOneBit((int) wanted - 1) << 1;
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
