package eventbank.server.readmodel;

/**
 * Where an account number's probe starts in the read models' open-addressing tables of primitive
 * longs ({@link RowIndex}, {@link NumberLongs}). Their checkpoints hold the tables as they are,
 * so a change here is a change of those checkpoints' formats.
 */
public final class NumberSlots {
    private NumberSlots() {}

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
