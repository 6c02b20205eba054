package eventbank.server.readmodel;

/**
 * Account number to balance, in one open-addressing table of primitive longs (16 bytes a slot,
 * at most half full: about 32 to 64 bytes an account, against about 70 for a HashMap of boxed
 * values). Not thread-safe: it belongs to one subscription thread.
 */
final class Balances {
    /** Account numbers are 16 digits, never 0: 0 marks a free slot. */
    private static final long FREE = 0;
    private static final int CAPACITY_INITIAL = 1 << 10;

    private long[] numbers = new long[CAPACITY_INITIAL];
    private long[] balances = new long[CAPACITY_INITIAL];
    private int size;

    void clear() {
        numbers = new long[CAPACITY_INITIAL];
        balances = new long[CAPACITY_INITIAL];
        size = 0;
    }

    int size() {
        return size;
    }

    boolean contains(long number) {
        return numbers[slotOf(numbers, number)] == number;
    }

    /** The account's balance; the account must be there. */
    long get(long number) {
        int slot = slotOf(numbers, number);
        if (numbers[slot] != number) {
            throw new IllegalStateException("account " + number + " is unknown");
        }
        return balances[slot];
    }

    void put(long number, long balance) {
        if (number == FREE) {
            throw new IllegalArgumentException("account number 0");
        }
        int slot = slotOf(numbers, number);
        if (numbers[slot] == FREE) {
            numbers[slot] = number;
            size++;
        }
        balances[slot] = balance;
        if (size * 2 > numbers.length) {
            grow();
        }
    }

    private void grow() {
        long[] oldNumbers = numbers;
        long[] oldBalances = balances;
        numbers = new long[oldNumbers.length * 2];
        balances = new long[oldNumbers.length * 2];
        for (int old = 0; old < oldNumbers.length; old++) {
            if (oldNumbers[old] != FREE) {
                int slot = slotOf(numbers, oldNumbers[old]);
                numbers[slot] = oldNumbers[old];
                balances[slot] = oldBalances[old];
            }
        }
    }

    /** The slot holding the number, or the free slot where it would go (linear probing). */
    private static int slotOf(long[] table, long number) {
        int mask = table.length - 1;
        int slot = (int) mix(number) & mask;
        while (table[slot] != FREE && table[slot] != number) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    /** Spreads sequential or random account numbers evenly over the table (murmur3's finalizer). */
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
