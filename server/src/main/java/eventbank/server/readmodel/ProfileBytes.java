package eventbank.server.readmodel;

import eventbank.core.Bank;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The emails and password hashes of the accounts read model, as UTF-8 bytes one after the other
 * in chunks of {@link #CHUNK_BYTES}: an account's profile is its email, its password hash, and
 * its normalized email ({@link Bank#normalizeEmail}) when that differs from the email as typed
 * (an email in lower case is its own). {@link AccountRows} keeps where each profile is, a
 * {@link #location} of one long; two strings per account were four objects, about 100 bytes of
 * headers and lengths, which a start that loads a million accounts from a checkpoint made and
 * every young collection then copied while they were all alive.
 *
 * <p>One thread appends (the subscription thread, which appends an account's profile before it
 * publishes the account); any thread reads. Bytes once written never change (but a forgotten
 * holder's, overwritten with zeros: {@link AccountRows#forget}) and are never
 * removed but all at once ({@link #clear}); a new chunk is published with the directory of
 * chunks, a volatile field, before the account whose bytes are in it.
 */
final class ProfileBytes {
    /**
     * The size of a chunk: small enough not to be a humongous object in G1 (half a region of at
     * least 1 MiB), big enough that its end wastes little (less than one profile).
     */
    static final int CHUNK_BYTES = 256 * 1024;
    private static final int CHUNKS_INITIAL = 16;
    /** A location: the chunk's index, where the profile starts in it, and the normalized email's length. */
    private static final int AT_SHIFT = 16;
    private static final int CHUNK_SHIFT = 40;
    private static final long AT_MASK = (1L << (CHUNK_SHIFT - AT_SHIFT)) - 1;
    private static final int NORMALIZED_MASK = 0xFFFF;

    private volatile byte[][] chunks = new byte[CHUNKS_INITIAL][];
    // The writer's.
    private int chunkCount;
    private byte[] chunk;
    private int used;

    ProfileBytes() {
        clear();
    }

    void clear() {
        byte[][] empty = new byte[CHUNKS_INITIAL][];
        empty[0] = new byte[CHUNK_BYTES];
        chunk = empty[0];
        chunkCount = 1;
        used = 0;
        chunks = empty;
    }

    /**
     * Appends a profile: {@code profile} holds the email's {@code emailBytes} bytes and the
     * password hash's after them. Answers its location.
     */
    /** The location of the same profile without its normalized email (a forgotten holder's). */
    static long withoutNormalized(long location) {
        return location & ~(long) NORMALIZED_MASK;
    }

    long append(byte[] profile, int emailBytes) {
        byte[] into = room(profile.length + emailBytes);
        System.arraycopy(profile, 0, into, used, profile.length);
        return placed(profile.length, emailBytes);
    }

    /**
     * The chunks as they are, for a checkpoint: their count, then each chunk's bytes (the last
     * one's up to where it is used), so that {@link #read} restores every location as it was. The
     * writer's.
     */
    void write(ModelCheckpoint.Output output) throws IOException {
        byte[][] directory = chunks;
        output.writeInt(chunkCount);
        for (int index = 0; index < chunkCount; index++) {
            byte[] written = directory[index];
            output.writeBytes(written, 0, index == chunkCount - 1 ? used : written.length);
        }
    }

    /** Replaces every chunk with those {@link #write} wrote; the writer's, before readers find any. */
    void read(ModelCheckpoint.Input input) throws IOException {
        int count = input.count(4);
        if (count < 1) {
            throw new IOException("the profiles have no chunk");
        }
        byte[][] directory = new byte[Math.max(CHUNKS_INITIAL, count)][];
        int lastUsed = 0;
        for (int index = 0; index < count; index++) {
            int length = input.count(1);
            directory[index] = new byte[Math.max(CHUNK_BYTES, length)];
            input.readFully(directory[index], 0, length);
            lastUsed = length;
        }
        chunkCount = count;
        chunk = directory[count - 1];
        used = lastUsed;
        chunks = directory;
    }

    /** Whether {@code bytes} bytes from the location's start lie within a chunk: for a checkpoint's rows. */
    boolean holds(long location, int bytes) {
        int index = (int) (location >>> CHUNK_SHIFT);
        return index < chunkCount && at(location) + (long) bytes <= (index == chunkCount - 1 ? used
                : chunks[index].length);
    }

    /**
     * The profile's {@code length} bytes are at {@link #used} in the current chunk, with room for
     * {@code emailBytes} more after them: appends the normalized email there when it differs from
     * the email, and takes the bytes. Without a string for an email in ASCII (lowering its
     * letters is all {@link Bank#normalizeEmail} does to it); through one otherwise.
     */
    private long placed(int length, int emailBytes) {
        int at = used;
        int normalizedBytes = lowerAscii(chunk, at, emailBytes, at + length);
        if (normalizedBytes < 0) {
            String email = new String(chunk, at, emailBytes, StandardCharsets.UTF_8);
            String normalized = Bank.normalizeEmail(email);
            byte[] bytes = normalized.equals(email) ? new byte[0] : normalized.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > emailBytes && bytes.length > chunk.length - at - length) {
                // Longer than the room kept for it (lower case may take more bytes), and the chunk is full.
                byte[] profile = Arrays.copyOfRange(chunk, at, at + length);
                System.arraycopy(profile, 0, room(length + bytes.length), 0, length);
                at = used;
            }
            System.arraycopy(bytes, 0, chunk, at + length, bytes.length);
            normalizedBytes = bytes.length;
        }
        if (normalizedBytes > NORMALIZED_MASK) {
            throw new IllegalStateException("a normalized email of " + normalizedBytes + " bytes");
        }
        used = at + length + normalizedBytes;
        return (long) (chunkCount - 1) << CHUNK_SHIFT | (long) at << AT_SHIFT | normalizedBytes;
    }

    /**
     * Writes the email from {@code from} in lower case at {@code to} when it is in ASCII and has
     * capitals, and answers its length; 0 when it is in ASCII in lower case already; -1 when it is
     * not in ASCII.
     */
    private static int lowerAscii(byte[] bytes, int from, int length, int to) {
        boolean capitals = false;
        for (int at = from; at < from + length; at++) {
            byte b = bytes[at];
            if (b < 0) {
                return -1;
            }
            capitals |= b >= 'A' && b <= 'Z';
        }
        if (!capitals) {
            return 0;
        }
        for (int at = 0; at < length; at++) {
            byte b = bytes[from + at];
            bytes[to + at] = b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
        }
        return length;
    }

    /** The chunk where {@code length} bytes go from {@link #used}: the current one, or a new one. */
    private byte[] room(int length) {
        if (length > chunk.length - used) {
            chunk = new byte[Math.max(CHUNK_BYTES, length)];
            used = 0;
            byte[][] directory = chunks;
            if (chunkCount == directory.length) {
                directory = Arrays.copyOf(directory, chunkCount * 2);
            }
            directory[chunkCount++] = chunk;
            chunks = directory; // publishes the chunk, and a grown directory
        }
        return chunk;
    }

    /** The chunk of the profile at {@code location}. From any thread that found the location published. */
    byte[] chunk(long location) {
        return chunks[(int) (location >>> CHUNK_SHIFT)];
    }

    /** Where the profile at {@code location} starts in its chunk. */
    static int at(long location) {
        return (int) (location >>> AT_SHIFT & AT_MASK);
    }

    /** The length of the normalized email after the password hash; 0 when the email is its own. */
    static int normalizedBytes(long location) {
        return (int) (location & NORMALIZED_MASK);
    }
}
