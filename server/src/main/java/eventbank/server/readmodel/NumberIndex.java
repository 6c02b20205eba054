package eventbank.server.readmodel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * Account number to a value, in an open-addressing table of primitive longs (linear probing, at
 * most half full): a lookup neither boxes the number nor follows a node, as one in a {@code
 * ConcurrentHashMap<Long, V>} does. One thread writes (the read models' subscription thread);
 * any thread reads, without a lock. Entries are never removed, only all of them at once.
 *
 * <p>The writer puts the value in its slot before the number, the number with release
 * semantics, and a reader reads the number with acquire semantics before the value: a reader
 * that finds the number finds its value. A grown table is filled whole before it is published
 * through a volatile field; a reader still on the old table finds in it everything it held.
 */
final class NumberIndex<V> {
    private static final VarHandle NUMBERS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Account numbers are 16 digits, never 0: 0 marks a free slot. */
    private static final long FREE = 0;
    private static final int CAPACITY_INITIAL = 1 << 10;

    private record Table(long[] numbers, Object[] values) {
        Table(int capacity) {
            this(new long[capacity], new Object[capacity]);
        }
    }

    private volatile Table table = new Table(CAPACITY_INITIAL);
    private volatile int size;

    /** Drops every entry; readers see an empty index from then on. */
    void clear() {
        table = new Table(CAPACITY_INITIAL);
        size = 0;
    }

    int size() {
        return size;
    }

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

    /** The value of this account number, or null. From any thread. */
    @SuppressWarnings("unchecked")
    V get(long number) {
        if (number == FREE) {
            return null;
        }
        Table current = table;
        long[] numbers = current.numbers;
        int mask = numbers.length - 1;
        for (int slot = slotOf(number, mask); ; slot = (slot + 1) & mask) {
            long found = (long) NUMBERS.getAcquire(numbers, slot);
            if (found == number) {
                return (V) current.values[slot];
            }
            if (found == FREE) {
                return null;
            }
        }
    }

    /**
     * Adds the account's value and answers null, or answers the value already there and changes
     * nothing. The writer's only.
     */
    @SuppressWarnings("unchecked")
    V putIfAbsent(long number, V value) {
        if (number == FREE) {
            throw new IllegalArgumentException("account number 0");
        }
        Table current = table;
        int slot = freeSlotOrSame(current.numbers, number);
        if (current.numbers[slot] == number) {
            return (V) current.values[slot];
        }
        int grownSize = size + 1;
        if (grownSize * 2 > current.numbers.length) {
            current = grown(current);
            slot = freeSlotOrSame(current.numbers, number);
            current.values[slot] = value;
            current.numbers[slot] = number;
            table = current; // publishes the whole grown table, the new entry with it
        } else {
            current.values[slot] = value;
            NUMBERS.setRelease(current.numbers, slot, number);
        }
        size = grownSize;
        return null;
    }

    /** Every value, in no particular order. Readers racing the writer may or may not see the newest. */
    @SuppressWarnings("unchecked")
    void forEach(Consumer<? super V> action) {
        Table current = table;
        for (int slot = 0; slot < current.numbers.length; slot++) {
            if ((long) NUMBERS.getAcquire(current.numbers, slot) != FREE) {
                action.accept((V) current.values[slot]);
            }
        }
    }

    /** A copy twice the size, filled before anyone can see it. */
    private static Table grown(Table old) {
        Table grown = new Table(old.numbers.length * 2);
        for (int at = 0; at < old.numbers.length; at++) {
            if (old.numbers[at] != FREE) {
                int slot = freeSlotOrSame(grown.numbers, old.numbers[at]);
                grown.numbers[slot] = old.numbers[at];
                grown.values[slot] = old.values[at];
            }
        }
        return grown;
    }

    /** The writer's probe: the slot holding the number, or the free slot where it would go. */
    private static int freeSlotOrSame(long[] numbers, long number) {
        int mask = numbers.length - 1;
        int slot = slotOf(number, mask);
        while (numbers[slot] != FREE && numbers[slot] != number) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    /** Where the probe for a number starts in a table of {@code mask + 1} slots. */
    static int slotOf(long number, int mask) {
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
