package eventbank.core;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The accounts of the write model, kept in parallel arrays indexed by the order in which they
 * were opened, with two open-addressing indexes: by account number and by email digest.
 *
 * <p>Why not a {@code HashMap<Long, Account>} and a {@code HashSet<String>}: with boxed keys,
 * entry objects and the email strings, those cost about 200 bytes an account; these arrays
 * cost about 60 (88 under G1, whose large arrays take whole regions; see BENCHMARKS.md), so
 * ten million accounts fit in a modest heap. Emails are compared by a 128-bit digest of their
 * lower-cased form: two different addresses sharing one is as likely as guessing a random
 * 128-bit key.
 */
final class AccountTable {
    private static final int CAPACITY_INITIAL = 16;
    /** The digest of an account whose email is forgotten: both halves 0, never looked up. */
    static final long NO_EMAIL = 0;

    private int size;
    private long[] numbers = new long[CAPACITY_INITIAL];
    private long[] balances = new long[CAPACITY_INITIAL];
    private long[] openedSeqs = new long[CAPACITY_INITIAL];
    private long[] emailDigestsHigh = new long[CAPACITY_INITIAL];
    private long[] emailDigestsLow = new long[CAPACITY_INITIAL];
    private final BitSet verified = new BitSet();
    private final BitSet closed = new BitSet();
    /** Opened with sealed personal fields ({@link Personal#sealed}): it can be forgotten. */
    private final BitSet sealed = new BitSet();
    private final BitSet forgotten = new BitSet();

    /** Slot holds index + 1; 0 is empty. Length is a power of two, at most half full. */
    private int[] byNumber = new int[CAPACITY_INITIAL * 2];
    private int[] byEmail = new int[CAPACITY_INITIAL * 2];

    int size() {
        return size;
    }

    /** An independent copy: the same accounts at the same indexes, its arrays cloned whole. */
    AccountTable copy() {
        AccountTable copy = new AccountTable();
        copy.size = size;
        copy.numbers = numbers.clone();
        copy.balances = balances.clone();
        copy.openedSeqs = openedSeqs.clone();
        copy.emailDigestsHigh = emailDigestsHigh.clone();
        copy.emailDigestsLow = emailDigestsLow.clone();
        copy.verified.or(verified);
        copy.closed.or(closed);
        copy.sealed.or(sealed);
        copy.forgotten.or(forgotten);
        copy.byNumber = byNumber.clone();
        copy.byEmail = byEmail.clone();
        return copy;
    }

    /** The index of the account, or -1 when there is none. */
    int indexOf(long number) {
        int mask = byNumber.length - 1;
        for (int slot = mix(number) & mask; ; slot = (slot + 1) & mask) {
            int entry = byNumber[slot];
            if (entry == 0) {
                return -1;
            }
            if (numbers[entry - 1] == number) {
                return entry - 1;
            }
        }
    }

    boolean containsEmail(long digestHigh, long digestLow) {
        return emailSlotOf(digestHigh, digestLow) >= 0;
    }

    /** The slot in {@link #byEmail} of the account with this digest, or -1. */
    private int emailSlotOf(long digestHigh, long digestLow) {
        int mask = byEmail.length - 1;
        for (int slot = mix(digestHigh) & mask; ; slot = (slot + 1) & mask) {
            int entry = byEmail[slot];
            if (entry == 0) {
                return -1;
            }
            if (emailDigestsHigh[entry - 1] == digestHigh && emailDigestsLow[entry - 1] == digestLow) {
                return slot;
            }
        }
    }

    /**
     * Makes room for {@code count} accounts while empty, so that restoring them (from a
     * snapshot, {@link #addUnindexed}) never grows an array: a million accounts added one by one
     * grew the arrays and rebuilt both indexes some twenty times over. {@link #indexRestored}
     * makes the indexes to size.
     */
    void reserve(int count) {
        if (size != 0) {
            throw new IllegalStateException("room is made while empty, not with " + size + " accounts");
        }
        int capacity = Math.max(CAPACITY_INITIAL, count);
        numbers = new long[capacity];
        balances = new long[capacity];
        openedSeqs = new long[capacity];
        emailDigestsHigh = new long[capacity];
        emailDigestsLow = new long[capacity];
        verified.set(capacity - 1); // grows the set's words once, not one word at a time
        verified.clear(capacity - 1);
    }

    /**
     * Adds an account restored from a snapshot and answers its index, without indexing it:
     * {@link #indexRestored} indexes them all once every one is added. Indexing each as it came
     * made each account wait for its probes' cache misses in a loop too long for the processor to
     * overlap them with the next account's (most of a snapshot's load, BENCHMARKS.md "Issue 15");
     * the two tight loops of {@link #indexRestored} overlap them.
     */
    int addUnindexed(long number, long balance, long openedSeq, boolean isVerified, long digestHigh,
                     long digestLow) {
        if (size == numbers.length) {
            growArrays();
        }
        int index = size++;
        numbers[index] = number;
        balances[index] = balance;
        openedSeqs[index] = openedSeq;
        emailDigestsHigh[index] = digestHigh;
        emailDigestsLow[index] = digestLow;
        if (isVerified) {
            verified.set(index);
        }
        return index;
    }

    /**
     * Indexes every account {@link #addUnindexed} added, by number and by email digest (one
     * without an email by number only, as {@link #add} does); answers false, the indexes left
     * unusable, when a number or a digest is there twice (a damaged snapshot).
     */
    boolean indexRestored() {
        int slots = Integer.highestOneBit(Math.max(CAPACITY_INITIAL, 2 * size) - 1) << 1;
        int[] numberSlots = new int[slots];
        int[] emailSlots = new int[slots];
        int mask = slots - 1;
        for (int index = 0; index < size; index++) {
            long number = numbers[index];
            int slot = mix(number) & mask;
            for (int entry = numberSlots[slot]; entry != 0; entry = numberSlots[slot]) {
                if (numbers[entry - 1] == number) {
                    return false;
                }
                slot = (slot + 1) & mask;
            }
            numberSlots[slot] = index + 1;
        }
        for (int index = 0; index < size; index++) {
            long high = emailDigestsHigh[index];
            long low = emailDigestsLow[index];
            if (high == NO_EMAIL && low == NO_EMAIL) {
                continue;
            }
            int slot = mix(high) & mask;
            for (int entry = emailSlots[slot]; entry != 0; entry = emailSlots[slot]) {
                if (emailDigestsHigh[entry - 1] == high && emailDigestsLow[entry - 1] == low) {
                    return false;
                }
                slot = (slot + 1) & mask;
            }
            emailSlots[slot] = index + 1;
        }
        byNumber = numberSlots;
        byEmail = emailSlots;
        return true;
    }

    /** The free slot where the number would go, or -1 when it is there. */
    private int freeNumberSlot(long number) {
        int mask = byNumber.length - 1;
        for (int slot = mix(number) & mask; ; slot = (slot + 1) & mask) {
            int entry = byNumber[slot];
            if (entry == 0) {
                return slot;
            }
            if (numbers[entry - 1] == number) {
                return -1;
            }
        }
    }

    /** The free slot where the digest would go, or -1 when it is there. */
    private int freeEmailSlot(long digestHigh, long digestLow) {
        int mask = byEmail.length - 1;
        for (int slot = mix(digestHigh) & mask; ; slot = (slot + 1) & mask) {
            int entry = byEmail[slot];
            if (entry == 0) {
                return slot;
            }
            if (emailDigestsHigh[entry - 1] == digestHigh && emailDigestsLow[entry - 1] == digestLow) {
                return -1;
            }
        }
    }

    /**
     * Adds an account and answers its index. The caller has checked both keys are new. An
     * account without an email (forgotten) has the digest {@link #NO_EMAIL}, which no lookup finds.
     */
    int add(long number, long balance, long openedSeq, boolean isVerified, long digestHigh, long digestLow) {
        if (size == numbers.length) {
            growArrays();
        }
        int index = size++;
        numbers[index] = number;
        balances[index] = balance;
        openedSeqs[index] = openedSeq;
        emailDigestsHigh[index] = digestHigh;
        emailDigestsLow[index] = digestLow;
        verified.set(index, isVerified);
        if (size * 2 > byNumber.length) {
            rehash(byNumber.length * 2);
        } else {
            insertNumber(byNumber, index);
            if (hasEmail(index)) {
                insertEmail(byEmail, index);
            }
        }
        return index;
    }

    long number(int index) {
        return numbers[index];
    }

    long balance(int index) {
        return balances[index];
    }

    void setBalance(int index, long balance) {
        assert balance >= 0 : "a balance never goes below zero";
        balances[index] = balance;
    }

    long openedSeq(int index) {
        return openedSeqs[index];
    }

    boolean isVerified(int index) {
        return verified.get(index);
    }

    void setVerified(int index) {
        verified.set(index);
    }

    boolean isClosed(int index) {
        return closed.get(index);
    }

    void setClosed(int index) {
        closed.set(index);
    }

    boolean isSealed(int index) {
        return sealed.get(index);
    }

    void setSealed(int index) {
        sealed.set(index);
    }

    boolean isForgotten(int index) {
        return forgotten.get(index);
    }

    /** The account's holder is forgotten: its email digest leaves the table, so the email is free again. */
    void setForgotten(int index) {
        forgotten.set(index);
        if (hasEmail(index)) {
            removeEmail(emailSlotOf(emailDigestsHigh[index], emailDigestsLow[index]));
            emailDigestsHigh[index] = NO_EMAIL;
            emailDigestsLow[index] = NO_EMAIL;
        }
    }

    private boolean hasEmail(int index) {
        return emailDigestsHigh[index] != NO_EMAIL || emailDigestsLow[index] != NO_EMAIL;
    }

    /**
     * Empties a slot of {@link #byEmail} and moves back the entries after it that linear probing
     * had pushed past it (Knuth's algorithm R), so that no lookup stops at the hole too early.
     */
    private void removeEmail(int slot) {
        int mask = byEmail.length - 1;
        int hole = slot;
        byEmail[hole] = 0;
        for (int next = (hole + 1) & mask; byEmail[next] != 0; next = (next + 1) & mask) {
            int home = mix(emailDigestsHigh[byEmail[next] - 1]) & mask;
            // The entry may fill the hole when its home is not cyclically within (hole, next].
            boolean stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
            if (!stays) {
                byEmail[hole] = byEmail[next];
                byEmail[next] = 0;
                hole = next;
            }
        }
    }

    long emailDigestHigh(int index) {
        return emailDigestsHigh[index];
    }

    long emailDigestLow(int index) {
        return emailDigestsLow[index];
    }

    private void growArrays() {
        int capacity = numbers.length * 2;
        numbers = Arrays.copyOf(numbers, capacity);
        balances = Arrays.copyOf(balances, capacity);
        openedSeqs = Arrays.copyOf(openedSeqs, capacity);
        emailDigestsHigh = Arrays.copyOf(emailDigestsHigh, capacity);
        emailDigestsLow = Arrays.copyOf(emailDigestsLow, capacity);
    }

    private void rehash(int slots) {
        int[] numberSlots = new int[slots];
        int[] emailSlots = new int[slots];
        for (int index = 0; index < size; index++) {
            insertNumber(numberSlots, index);
            if (hasEmail(index)) {
                insertEmail(emailSlots, index);
            }
        }
        byNumber = numberSlots;
        byEmail = emailSlots;
    }

    private void insertNumber(int[] slots, int index) {
        int mask = slots.length - 1;
        int slot = mix(numbers[index]) & mask;
        while (slots[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        slots[slot] = index + 1;
    }

    private void insertEmail(int[] slots, int index) {
        int mask = slots.length - 1;
        int slot = mix(emailDigestsHigh[index]) & mask;
        while (slots[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        slots[slot] = index + 1;
    }

    /** The finaliser of MurmurHash3: spreads account numbers, which share their high digits. */
    private static int mix(long key) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h;
    }
}
