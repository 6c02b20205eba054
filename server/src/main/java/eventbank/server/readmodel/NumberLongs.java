package eventbank.server.readmodel;

import java.io.IOException;

/**
 * Account number to a long (a balance, an index), in one open-addressing table of primitive
 * longs (16 bytes a slot, at most half full: about 32 to 64 bytes an account, against about 70
 * for a HashMap of boxed values). Not thread-safe: it belongs to one subscription thread.
 */
final class NumberLongs {
    /** Account numbers are 16 digits, never 0: 0 marks a free slot. */
    private static final long FREE = 0;
    private static final int CAPACITY_INITIAL = 1 << 10;

    private long[] numbers = new long[CAPACITY_INITIAL];
    private long[] values = new long[CAPACITY_INITIAL];
    private int size;

    void clear() {
        numbers = new long[CAPACITY_INITIAL];
        values = new long[CAPACITY_INITIAL];
        size = 0;
    }

    int size() {
        return size;
    }

    /** Whether the account is there; never {@link #FREE}, which a free slot holds. */
    boolean contains(long number) {
        return number != FREE && numbers[slotOf(numbers, number)] == number;
    }

    /** The account's value, or {@code absent} when the account is not there: one probe, not two. */
    long getOrDefault(long number, long absent) {
        int slot = slotOf(numbers, number);
        return numbers[slot] == number && number != FREE ? values[slot] : absent;
    }

    void put(long number, long value) {
        if (number == FREE) {
            throw new IllegalArgumentException("account number 0");
        }
        int slot = slotOf(numbers, number);
        if (numbers[slot] == FREE) {
            numbers[slot] = number;
            size++;
        }
        values[slot] = value;
        if (size * 2 > numbers.length) {
            grow();
        }
    }

    /**
     * The table as it is, for a checkpoint: its length, then its numbers and values in bulk, so
     * that {@link #read} fills it again without a probe (a million probes, each a cache miss, were
     * most of what loading a model's accounts cost).
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        output.writeInt(numbers.length);
        output.writeLongs(numbers, 0, numbers.length);
        output.writeLongs(values, 0, values.length);
    }

    /**
     * Replaces the table with what {@link #write} wrote, which must hold {@code expected} entries:
     * the length a power of two, at most half full, and the count of numbers the one expected.
     */
    void read(ModelCheckpoint.Input input, int expected) throws IOException {
        int length = input.count(2 * Long.BYTES);
        if (Integer.bitCount(length) != 1 || length < 2L * expected) {
            throw new IOException("an index of " + length + " slots for " + expected + " accounts");
        }
        long[] readNumbers = new long[length];
        long[] readValues = new long[length];
        input.readLongs(readNumbers, 0, length);
        input.readLongs(readValues, 0, length);
        int found = 0;
        for (long number : readNumbers) {
            found += number != FREE ? 1 : 0;
        }
        if (found != expected) {
            throw new IOException("an index of " + found + " accounts, not " + expected);
        }
        numbers = readNumbers;
        values = readValues;
        size = found;
    }

    private void grow() {
        long[] oldNumbers = numbers;
        long[] oldValues = values;
        numbers = new long[oldNumbers.length * 2];
        values = new long[oldNumbers.length * 2];
        for (int old = 0; old < oldNumbers.length; old++) {
            if (oldNumbers[old] != FREE) {
                int slot = slotOf(numbers, oldNumbers[old]);
                numbers[slot] = oldNumbers[old];
                values[slot] = oldValues[old];
            }
        }
    }

    /** The slot holding the number, or the free slot where it would go (linear probing). */
    private static int slotOf(long[] table, long number) {
        int mask = table.length - 1;
        int slot = NumberSlots.slotOf(number, mask);
        while (table[slot] != FREE && table[slot] != number) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }
}
