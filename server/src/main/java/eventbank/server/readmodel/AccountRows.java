package eventbank.server.readmodel;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The accounts of {@link AccountsReadModel}, in the order they were opened: each a row of eight
 * longs (64 bytes) in pages of {@link #PAGE_ROWS} rows, its email and password hash in {@link
 * ProfileBytes}. What its opening fixed never changes; its balance, last activity and
 * verification are changed in place by the subscription thread. No object per account: a start
 * that loads a million accounts from a checkpoint fills a few hundred arrays, where a million
 * objects (and four million for their strings) were all copied by the young collections while
 * they filled the heap, which took longer than reading them.
 *
 * <p>A row: a version, the balance, the last activity, the flags (verified, the email's and the
 * hash's lengths), the account number, the opening seq and time, and the profile's location.
 *
 * <p>Readers copy a row into an {@link AccountView} under a sequence lock: the writer makes the
 * version odd before it changes the row and even again after, and a reader that sees the same
 * even version before and after reading the row saw it whole, or reads again. The writer's
 * fences are free on x86 (they only keep the compiler from reordering); a read that races a
 * change retries, which happens rarely and, unless the writer is preempted, never for long.
 *
 * <p>One thread writes (the subscription thread); any thread reads a row it found through an
 * index ({@link RowIndex}, {@link EmailIndex}), which publishes it after it was written. A new
 * page is published with the directory of pages, a volatile field, before any row in it.
 *
 * <p>In a checkpoint ({@link #write}, {@link #read}) the pages are as they are in memory, and the
 * profiles' chunks after them: a start that loads a million accounts reads a few hundred arrays
 * in bulk.
 */
final class AccountRows {
    /** Rows a page holds: a page of 256 KiB is no humongous object in G1. */
    static final int PAGE_ROWS = 1 << 12;
    private static final int PAGE_SHIFT = 12;
    private static final int ROW_LONGS = 8;
    private static final int VERSION = 0;
    private static final int BALANCE = 1;
    private static final int LAST_ACTIVITY = 2;
    private static final int FLAGS = 3;
    private static final int NUMBER = 4;
    private static final int OPENED_SEQ = 5;
    private static final int OPENED_AT = 6;
    private static final int PROFILE = 7;
    /** The flags: the email's length in bytes, the hash's after it, and whether the account is verified. */
    private static final int LENGTH_BITS = 16;
    private static final long LENGTH_MASK = (1L << LENGTH_BITS) - 1;
    private static final long VERIFIED = 1L << (2 * LENGTH_BITS);
    private static final long CLOSED = VERIFIED << 1;
    /** The holder is forgotten: the profile's bytes are zeros and its lengths 0. */
    private static final long FORGOTTEN = CLOSED << 1;
    private static final int PAGES_INITIAL = 16;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Failed reads a reader spins through before it yields between tries. */
    private static final int SPINS_BEFORE_YIELD = 100;

    private volatile long[][] pages = new long[PAGES_INITIAL][];
    private final ProfileBytes profiles = new ProfileBytes();
    /** The writer's. */
    private int count;

    /** Drops every row; readers that find none through the indexes see none. */
    void clear() {
        pages = new long[PAGES_INITIAL][];
        profiles.clear();
        count = 0;
    }

    /** The rows written, for the writer and readers that hold the model's lock. */
    int count() {
        return count;
    }

    /** Adds an account opened with {@code openingBalance} and answers its row. The writer's. */
    int add(long accountNumber, String email, String passwordHash, long openingBalance, long openedSeq,
            long openedAtMicros) {
        byte[] emailBytes = email.getBytes(StandardCharsets.UTF_8);
        byte[] hashBytes = passwordHash.getBytes(StandardCharsets.UTF_8);
        byte[] profile = Arrays.copyOf(emailBytes, emailBytes.length + hashBytes.length);
        System.arraycopy(hashBytes, 0, profile, emailBytes.length, hashBytes.length);
        long location = profiles.append(profile, emailBytes.length);
        return add(accountNumber, openedSeq, openedAtMicros, openingBalance, AccountView.NO_ACTIVITY,
                flags(emailBytes.length, hashBytes.length, false), location);
    }

    private int add(long accountNumber, long openedSeq, long openedAtMicros, long balance, long lastActivityMicros,
                    long flags, long location) {
        int row = count;
        long[] page = pageFor(row);
        int at = (row & (PAGE_ROWS - 1)) * ROW_LONGS;
        page[at + BALANCE] = balance;
        page[at + LAST_ACTIVITY] = lastActivityMicros;
        page[at + FLAGS] = flags;
        page[at + NUMBER] = accountNumber;
        page[at + OPENED_SEQ] = openedSeq;
        page[at + OPENED_AT] = openedAtMicros;
        page[at + PROFILE] = location;
        count = row + 1;
        return row;
    }

    private static long flags(int emailBytes, int hashBytes, boolean verified) {
        if (emailBytes > LENGTH_MASK || hashBytes > LENGTH_MASK) {
            throw new IllegalStateException("an email of " + emailBytes + " bytes or a hash of " + hashBytes);
        }
        return emailBytes | (long) hashBytes << LENGTH_BITS | (verified ? VERIFIED : 0);
    }

    /** The page of a new row: a new one at the start of a page, published with the directory. */
    private long[] pageFor(int row) {
        int index = row >>> PAGE_SHIFT;
        long[][] directory = pages;
        if ((row & (PAGE_ROWS - 1)) != 0) {
            return directory[index];
        }
        if (index == directory.length) {
            directory = Arrays.copyOf(directory, index * 2);
        }
        directory[index] = new long[PAGE_ROWS * ROW_LONGS];
        pages = directory; // publishes the page, and a grown directory
        return directory[index];
    }

    private long[] page(int row) {
        return pages[row >>> PAGE_SHIFT];
    }

    private static int at(int row) {
        return (row & (PAGE_ROWS - 1)) * ROW_LONGS;
    }

    /** The account number of a row, which never changes. */
    long accountNumber(int row) {
        return page(row)[at(row) + NUMBER];
    }

    long openedSeq(int row) {
        return page(row)[at(row) + OPENED_SEQ];
    }

    /** The balance, for the writer (which needs no lock to read what only it writes). */
    long balance(int row) {
        return page(row)[at(row) + BALANCE];
    }

    /** The writer's: the account's email address is confirmed. */
    void verify(int row) {
        long[] page = page(row);
        int at = at(row);
        long before = beginChange(page, at);
        page[at + FLAGS] |= VERIFIED;
        endChange(page, at, before);
    }

    /** Whether the row's holder is forgotten (no email, no hash). */
    boolean isForgotten(int row) {
        return (page(row)[at(row) + FLAGS] & FORGOTTEN) != 0;
    }

    /** The writer's: the account is closed. */
    void close(int row) {
        long[] page = page(row);
        int at = at(row);
        long before = beginChange(page, at);
        page[at + FLAGS] |= CLOSED;
        endChange(page, at, before);
    }

    /**
     * The writer's: the holder is forgotten. The profile's lengths become 0 (under the row's
     * version, so a reader sees the row before or after), then its bytes are overwritten with
     * zeros: the email and hash are gone from memory, and from the next checkpoint. The email
     * index keeps the row in its slot, where no email matches it any more.
     */
    void forget(int row) {
        long[] page = page(row);
        int at = at(row);
        long flags = page[at + FLAGS];
        long location = page[at + PROFILE];
        int bytes = (int) (flags & LENGTH_MASK) + (int) (flags >>> LENGTH_BITS & LENGTH_MASK)
                + ProfileBytes.normalizedBytes(location);
        long before = beginChange(page, at);
        page[at + FLAGS] = flags & ~(LENGTH_MASK | LENGTH_MASK << LENGTH_BITS) | FORGOTTEN;
        page[at + PROFILE] = ProfileBytes.withoutNormalized(location);
        endChange(page, at, before);
        int from = ProfileBytes.at(location);
        Arrays.fill(profiles.chunk(location), from, from + bytes, (byte) 0);
    }

    /** The writer's: money moved in or out at {@code timeMicros}, leaving {@code newBalance}. */
    void moved(int row, long newBalance, long timeMicros) {
        long[] page = page(row);
        int at = at(row);
        long before = beginChange(page, at);
        page[at + BALANCE] = newBalance;
        page[at + LAST_ACTIVITY] = timeMicros;
        endChange(page, at, before);
    }

    private static long beginChange(long[] page, int at) {
        long before = page[at + VERSION];
        LONGS.setOpaque(page, at + VERSION, before + 1);
        VarHandle.storeStoreFence(); // the odd version before any field
        return before;
    }

    private static void endChange(long[] page, int at, long before) {
        LONGS.setRelease(page, at + VERSION, before + 2); // every field before the even version
    }

    /**
     * The account as a whole value, from any thread. A reader that keeps missing (the writer was
     * preempted in the middle of a change) yields its core after {@link #SPINS_BEFORE_YIELD} tries,
     * so that the writer can finish.
     */
    AccountView view(int row) {
        long[] page = page(row);
        int at = at(row);
        for (int tries = 1; ; tries++) {
            long before = (long) LONGS.getVolatile(page, at + VERSION);
            long balance = page[at + BALANCE];
            long lastActivity = page[at + LAST_ACTIVITY];
            long flags = page[at + FLAGS];
            VarHandle.loadLoadFence(); // the fields before the version is read again
            if ((before & 1) == 0 && (long) LONGS.getVolatile(page, at + VERSION) == before) {
                long location = page[at + PROFILE];
                byte[] chunk = profiles.chunk(location);
                int from = ProfileBytes.at(location);
                int emailBytes = (int) (flags & LENGTH_MASK);
                int hashBytes = (int) (flags >>> LENGTH_BITS & LENGTH_MASK);
                boolean forgotten = (flags & FORGOTTEN) != 0;
                return new AccountView(page[at + NUMBER],
                        forgotten ? null : new String(chunk, from, emailBytes, StandardCharsets.UTF_8),
                        forgotten ? null : new String(chunk, from + emailBytes, hashBytes, StandardCharsets.UTF_8),
                        (flags & VERIFIED) != 0, (flags & CLOSED) != 0, balance, page[at + OPENED_SEQ],
                        page[at + OPENED_AT], lastActivity);
            }
            if (tries < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    // ---- The normalized email, for EmailIndex; from any thread (none of it changes) ----

    /** The hash code of the row's normalized email's bytes. */
    int normalizedEmailHash(int row) {
        long location = page(row)[at(row) + PROFILE];
        return hashOf(profiles.chunk(location), normalizedFrom(row, location), normalizedLength(row, location));
    }

    /** Whether the row's normalized email is {@code email}'s bytes. */
    boolean hasNormalizedEmail(int row, byte[] email) {
        long location = page(row)[at(row) + PROFILE];
        int from = normalizedFrom(row, location);
        return Arrays.equals(profiles.chunk(location), from, from + normalizedLength(row, location), email, 0,
                email.length);
    }

    /** Whether two rows have the same normalized email. */
    boolean sameNormalizedEmail(int row, int other) {
        long location = page(row)[at(row) + PROFILE];
        long otherLocation = page(other)[at(other) + PROFILE];
        int from = normalizedFrom(row, location);
        int otherFrom = normalizedFrom(other, otherLocation);
        return Arrays.equals(profiles.chunk(location), from, from + normalizedLength(row, location),
                profiles.chunk(otherLocation), otherFrom, otherFrom + normalizedLength(other, otherLocation));
    }

    /** Where the normalized email starts: the email itself, or after the hash. */
    private int normalizedFrom(int row, long location) {
        if (ProfileBytes.normalizedBytes(location) == 0) {
            return ProfileBytes.at(location);
        }
        long flags = page(row)[at(row) + FLAGS];
        return ProfileBytes.at(location) + (int) (flags & LENGTH_MASK) + (int) (flags >>> LENGTH_BITS & LENGTH_MASK);
    }

    private int normalizedLength(int row, long location) {
        int normalized = ProfileBytes.normalizedBytes(location);
        return normalized != 0 ? normalized : (int) (page(row)[at(row) + FLAGS] & LENGTH_MASK);
    }

    /** The hash code of {@code length} bytes from {@code from}, as {@link EmailIndex} spreads them. */
    static int hashOf(byte[] bytes, int from, int length) {
        int hash = 1;
        for (int at = from; at < from + length; at++) {
            hash = 31 * hash + bytes[at];
        }
        return hash;
    }

    // ---- Checkpoints ----

    /**
     * Every row as it is in its page, in bulk, then the profiles' chunks ({@link
     * ProfileBytes#write}): a start reads them back into arrays without a call per account. The
     * writer's (it reads what only it writes, without the lock).
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        output.writeInt(count);
        output.writePages(pages, count, PAGE_ROWS, ROW_LONGS);
        profiles.write(output);
    }

    /**
     * Replaces every row with those {@link #write} wrote and answers their count; the indexes are
     * the caller's. Each row is checked as a rebuild would have made it: an account number, no
     * change under way, only known flags, a forgotten holder's profile empty, and its profile's
     * bytes within the chunks. The writer's, before readers find any row.
     */
    int read(ModelCheckpoint.Input input) throws IOException {
        int rows = input.count(ROW_LONGS * Long.BYTES);
        long[][] directory = input.readPages(rows, PAGE_ROWS, ROW_LONGS, PAGES_INITIAL);
        profiles.read(input);
        long known = LENGTH_MASK | LENGTH_MASK << LENGTH_BITS | VERIFIED | CLOSED | FORGOTTEN;
        for (int row = 0; row < rows; row++) {
            long[] page = directory[row >>> PAGE_SHIFT];
            int at = at(row);
            long flags = page[at + FLAGS];
            int bytes = (int) (flags & LENGTH_MASK) + (int) (flags >>> LENGTH_BITS & LENGTH_MASK)
                    + ProfileBytes.normalizedBytes(page[at + PROFILE]);
            if (page[at + NUMBER] == 0 || (page[at + VERSION] & 1) != 0 || (flags & ~known) != 0
                    || (flags & FORGOTTEN) != 0 && bytes != 0 || !profiles.holds(page[at + PROFILE], bytes)) {
                throw new IOException("the row of account " + page[at + NUMBER] + " is not one a rebuild makes");
            }
        }
        count = rows;
        pages = directory;
        return rows;
    }
}
