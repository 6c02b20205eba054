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

    private int size;
    private long[] numbers = new long[CAPACITY_INITIAL];
    private long[] balances = new long[CAPACITY_INITIAL];
    private long[] openedSeqs = new long[CAPACITY_INITIAL];
    private long[] emailDigestsHigh = new long[CAPACITY_INITIAL];
    private long[] emailDigestsLow = new long[CAPACITY_INITIAL];
    private final BitSet verified = new BitSet();

    /** Slot holds index + 1; 0 is empty. Length is a power of two, at most half full. */
    private int[] byNumber = new int[CAPACITY_INITIAL * 2];
    private int[] byEmail = new int[CAPACITY_INITIAL * 2];

    int size() {
        return size;
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
        int mask = byEmail.length - 1;
        for (int slot = mix(digestHigh) & mask; ; slot = (slot + 1) & mask) {
            int entry = byEmail[slot];
            if (entry == 0) {
                return false;
            }
            if (emailDigestsHigh[entry - 1] == digestHigh && emailDigestsLow[entry - 1] == digestLow) {
                return true;
            }
        }
    }

    /** Adds an account and answers its index. The caller has checked both keys are new. */
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
            insertEmail(byEmail, index);
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
            insertEmail(emailSlots, index);
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
