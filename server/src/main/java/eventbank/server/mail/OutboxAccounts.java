package eventbank.server.mail;

import eventbank.server.readmodel.ModelCheckpoint;
import eventbank.server.readmodel.NumberSlots;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * What the outbox knows of each account, its email and its balance, in primitive arrays: rows in
 * the order accounts were opened, an open-addressing index from account number to row (linear
 * probing, at most half full, the number and the row side by side in one {@code long[]}), and the
 * emails as UTF-8 bytes one after the other in one array. A {@code HashMap<Long, Account>} cost
 * about 140 bytes and four objects an account (the boxed key, the entry, the account, its email
 * string); a start that loaded a million of them from the state checkpoint took two seconds of
 * its thread and a good part of the start's collections. These cost 52 to 84 bytes an account
 * (the index is a quarter to a half full) besides the email's bytes, and no object of its own.
 *
 * <p>The outbox's thread's only: no lock, no publication.
 */
final class OutboxAccounts {
    /** What {@link #rowOf} answers for an account that is not there. */
    static final int ABSENT = -1;
    /** Account numbers are 16 digits, never 0: 0 marks a free slot. */
    private static final long FREE = 0;
    private static final int ROWS_INITIAL = 1 << 10;
    /** The most slots of the index: it holds two longs a slot, in one array. */
    private static final int SLOTS_MAX = 1 << 29;

    private int size;
    private long[] numbers;
    private long[] balances;
    /** Where each row's email starts in {@link #emails}; its end is where the next row's starts. */
    private int[] emailStarts;
    private byte[] emails;
    private int emailBytes;
    /** The rows whose holder was forgotten: their email's bytes are zeroes, and read as no email. */
    private final BitSet erased = new BitSet();
    /** Slot i is the account number at 2i and its row at 2i + 1. */
    private long[] index;

    OutboxAccounts() {
        clear();
    }

    /** Forgets every account. */
    void clear() {
        size = 0;
        numbers = new long[ROWS_INITIAL];
        balances = new long[ROWS_INITIAL];
        emailStarts = new int[ROWS_INITIAL + 1];
        emails = new byte[ROWS_INITIAL * 32];
        emailBytes = 0;
        erased.clear();
        index = new long[2 * slotsFor(ROWS_INITIAL)];
    }

    /**
     * The arrays as they are, for the state checkpoint: the count, the numbers, balances and
     * where each email starts, the emails' bytes (a forgotten holder's are zeroes), the forgotten
     * rows, and the index's slots, each in bulk. {@link #read} fills the arrays again without a
     * probe: a million probes, each a cache miss, were most of what a load cost.
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        output.writeInt(size);
        output.writeLongs(numbers, 0, size);
        output.writeLongs(balances, 0, size);
        output.writeInts(emailStarts, 0, size + 1);
        output.writeBytes(emails, 0, emailBytes);
        long[] forgotten = erased.toLongArray();
        output.writeInt(forgotten.length);
        output.writeLongs(forgotten, 0, forgotten.length);
        NumberSlots.writeRowTable(output, index);
    }

    /**
     * Replaces every account with what {@link #write} wrote, checked as far as one pass over the
     * arrays can: the emails' starts in order within the bytes, forgotten rows among the rows, the
     * index's slots a power of two at most half full, holding every row once by count.
     */
    void read(ModelCheckpoint.Input input) throws IOException {
        int count = input.count(2 * Long.BYTES + Integer.BYTES);
        int rows = Math.max(ROWS_INITIAL, count);
        long[] readNumbers = new long[rows];
        long[] readBalances = new long[rows];
        int[] readStarts = new int[rows + 1];
        input.readLongs(readNumbers, 0, count);
        input.readLongs(readBalances, 0, count);
        input.readInts(readStarts, 0, count + 1);
        int bytes = input.count(1);
        byte[] readEmails = new byte[Math.max(bytes, ROWS_INITIAL * 32)];
        input.readFully(readEmails, 0, bytes);
        if (readStarts[0] != 0 || readStarts[count] != bytes) {
            throw new IOException("the emails take " + (readStarts[count] - readStarts[0]) + " bytes, not " + bytes);
        }
        for (int row = 0; row < count; row++) {
            if (readNumbers[row] == FREE || readStarts[row + 1] < readStarts[row]) {
                throw new IOException("the account at row " + row + " has number " + readNumbers[row]
                        + " or its email ends before it starts");
            }
        }
        long[] forgotten = new long[input.count(Long.BYTES)];
        input.readLongs(forgotten, 0, forgotten.length);
        BitSet readErased = BitSet.valueOf(forgotten);
        if (readErased.length() > count) {
            throw new IOException("row " + (readErased.length() - 1) + " is forgotten, of " + count);
        }
        long[] readIndex = NumberSlots.readRowTable(input, count, 2L * rows, SLOTS_MAX);
        size = count;
        numbers = readNumbers;
        balances = readBalances;
        emailStarts = readStarts;
        emails = readEmails;
        emailBytes = bytes;
        erased.clear();
        erased.or(readErased);
        index = readIndex;
    }

    int size() {
        return size;
    }

    /**
     * Adds an account and answers its row; answers {@link #ABSENT} and changes nothing when the
     * number is there already.
     */
    int add(long number, byte[] email, int emailOffset, int emailLength, long balance) {
        if (number == FREE) {
            throw new IllegalArgumentException("account number 0");
        }
        int slot = slotOf(index, number);
        if (index[2 * slot] == number) {
            return ABSENT;
        }
        if (size == balances.length) {
            growRows();
        }
        if (emailLength > emails.length - emailBytes) {
            growEmails(emailLength);
        }
        int row = size++;
        System.arraycopy(email, emailOffset, emails, emailBytes, emailLength);
        emailBytes += emailLength;
        emailStarts[row + 1] = emailBytes;
        numbers[row] = number;
        balances[row] = balance;
        index[2 * slot] = number;
        index[2 * slot + 1] = row;
        int slots = index.length / 2;
        if (2L * size > slots) {
            rehash(2 * slots);
        }
        return row;
    }

    /** Adds an account whose email is a string; see {@link #add(long, byte[], int, int, long)}. */
    int add(long number, String email, long balance) {
        byte[] bytes = email.getBytes(StandardCharsets.UTF_8);
        return add(number, bytes, 0, bytes.length, balance);
    }

    /** The row of this account, or {@link #ABSENT}. */
    int rowOf(long number) {
        if (number == FREE) {
            return ABSENT;
        }
        int slot = slotOf(index, number);
        return index[2 * slot] == number ? (int) index[2 * slot + 1] : ABSENT;
    }

    long balance(int row) {
        return balances[row];
    }

    void setBalance(int row, long balance) {
        balances[row] = balance;
    }

    /** The numbers of the accounts whose holders were forgotten. */
    List<Long> forgottenAccounts() {
        List<Long> forgotten = new ArrayList<>();
        for (int row = erased.nextSetBit(0); row >= 0; row = erased.nextSetBit(row + 1)) {
            forgotten.add(numbers[row]);
        }
        return forgotten;
    }

    /** The account's email; empty once its holder is forgotten ({@link #eraseEmail}). */
    String email(int row) {
        if (erased.get(row)) {
            return "";
        }
        return new String(emails, emailStarts[row], emailStarts[row + 1] - emailStarts[row], StandardCharsets.UTF_8);
    }

    /** The holder is forgotten: the email's bytes are overwritten with zeroes, and it reads as none from now on. */
    void eraseEmail(int row) {
        Arrays.fill(emails, emailStarts[row], emailStarts[row + 1], (byte) 0);
        erased.set(row);
    }

    /** Receives every account, for writing the state checkpoint. */
    @FunctionalInterface
    interface Visitor {
        void account(long number, long balance, byte[] emails, int emailOffset, int emailLength) throws IOException;
    }

    /** Every account, in the order they were added. */
    void forEach(Visitor visitor) throws IOException {
        for (int row = 0; row < size; row++) {
            int length = erased.get(row) ? 0 : emailStarts[row + 1] - emailStarts[row];
            visitor.account(numbers[row], balances[row], emails, emailStarts[row], length);
        }
    }

    private void growRows() {
        int rows = balances.length * 2;
        numbers = Arrays.copyOf(numbers, rows);
        balances = Arrays.copyOf(balances, rows);
        emailStarts = Arrays.copyOf(emailStarts, rows + 1);
    }

    private void growEmails(int needed) {
        long wanted = Math.max((long) emails.length * 2, (long) emailBytes + needed);
        if (wanted > Integer.MAX_VALUE - 16) {
            wanted = Integer.MAX_VALUE - 16;
            if (wanted - emailBytes < needed) {
                throw new IllegalStateException("the outbox's emails outgrew one array (" + emailBytes + " bytes)");
            }
        }
        emails = Arrays.copyOf(emails, (int) wanted);
    }

    private void rehash(int slots) {
        if (slots > SLOTS_MAX) {
            throw new IllegalStateException("too many accounts for the outbox's index: " + size);
        }
        long[] old = index;
        index = new long[2 * slots];
        for (int at = 0; at < old.length; at += 2) {
            if (old[at] != FREE) {
                int slot = slotOf(index, old[at]);
                index[2 * slot] = old[at];
                index[2 * slot + 1] = old[at + 1];
            }
        }
    }

    /** The slots of an index that holds {@code rows} accounts at most half full: a power of two. */
    private static int slotsFor(int rows) {
        long wanted = 2L * rows;
        if (wanted > SLOTS_MAX) {
            throw new IllegalArgumentException("too many accounts for the outbox's index: " + rows);
        }
        return Integer.highestOneBit((int) wanted - 1) << 1;
    }

    /** The slot holding the number, or the free slot where it would go. */
    private static int slotOf(long[] index, long number) {
        int mask = index.length / 2 - 1;
        int slot = NumberSlots.slotOf(number, mask);
        while (index[2 * slot] != FREE && index[2 * slot] != number) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }
}
