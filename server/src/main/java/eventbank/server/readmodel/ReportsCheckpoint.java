package eventbank.server.readmodel;

import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The reports read model's checkpoint, {@code data/readmodels/reports.checkpoint}: its whole
 * state as of a seq that ends a commit batch. Big-endian: the magic {@code EBRP}, the format
 * version (1), the seq, the journal's chain hash after it (32 bytes), the number of days and
 * for each its epoch day and cents (two longs), the number of accounts and for each its number
 * and last activity (two longs, in the order the accounts were opened), and a CRC32C of every
 * byte before it. Written to a temporary file, fsynced, renamed over the old one, and the
 * directory fsynced, so a crash leaves the old checkpoint or the new one, never a mix.
 *
 * <p>A checkpoint is only a shortcut: reading one that is damaged, past the journal's end or
 * whose chain hash differs from the journal's at its seq (the data directory was restored from
 * another backup, say) answers an IOException that says why, and the model rebuilds from 0.
 */
final class ReportsCheckpoint {
    static final String DIRECTORY = "readmodels";
    static final String FILE_NAME = "reports.checkpoint";
    private static final int MAGIC = 0x45425250; // "EBRP"
    private static final int VERSION = 1;
    private static final int HASH_BYTES = 32;
    private static final int HEADER_BYTES = 4 + 4 + 8 + HASH_BYTES;
    private static final int CRC_BYTES = 4;

    record Loaded(long seq, SortedMap<Long, Long> centsByDay, long[] accountNumbers, long[] lastActivityMicros) {}

    private final Storage storage;
    private final Path directory;
    /** Reads the journal the checkpoint is checked against. */
    private final Supplier<Journal.Reader> journal;

    /** A checkpoint in {@code dataDirectory}, checked against the file journal there. */
    ReportsCheckpoint(Storage storage, Path dataDirectory) {
        this(storage, dataDirectory, () -> new JournalReader(storage, dataDirectory.resolve("journal"), false));
    }

    /** A checkpoint in {@code dataDirectory}, checked against the journal {@code journal} reads (a shared one). */
    ReportsCheckpoint(Storage storage, Path dataDirectory, Supplier<Journal.Reader> journal) {
        this.storage = storage;
        this.directory = dataDirectory.resolve(DIRECTORY);
        this.journal = journal;
    }

    Path path() {
        return directory.resolve(FILE_NAME);
    }

    /** The checkpoint, or null when there is none; an IOException saying why it cannot be used. */
    Loaded read(long committedSeq) throws IOException {
        Path path = path();
        if (!storage.exists(path)) {
            return null;
        }
        ByteBuffer bytes = readChecked(path);
        int crcAt = bytes.limit() - CRC_BYTES;
        bytes.position(8); // past the magic and the version
        long seq = bytes.getLong();
        byte[] chainHash = new byte[HASH_BYTES];
        bytes.get(chainHash);
        TreeMap<Long, Long> centsByDay = new TreeMap<>();
        int days = bytes.getInt();
        if (days < 0 || (long) days * 16 + 4 > crcAt - bytes.position()) {
            throw unusable(path, "its day count " + days + " does not fit its size");
        }
        for (int day = 0; day < days; day++) {
            centsByDay.put(bytes.getLong(), bytes.getLong());
        }
        int accounts = bytes.getInt();
        if (accounts < 0 || (long) accounts * 16 != crcAt - bytes.position()) {
            throw unusable(path, "its account count " + accounts + " does not fit its size");
        }
        long[] numbers = new long[accounts];
        long[] times = new long[accounts];
        for (int index = 0; index < accounts; index++) {
            numbers[index] = bytes.getLong();
            times[index] = bytes.getLong();
        }
        checkAgainstJournal(path, seq, chainHash, committedSeq);
        return new Loaded(seq, centsByDay, numbers, times);
    }

    /**
     * The checkpoint as evidence of a committed seq (see {@code DurableEvidence}): its seq and
     * chain hash, read without looking at the journal; nothing when there is no checkpoint.
     */
    Optional<DurableEvidence.Claim> claim() throws IOException {
        Path path = path();
        if (!storage.exists(path)) {
            return Optional.empty();
        }
        ByteBuffer bytes = readChecked(path);
        byte[] chainHash = new byte[HASH_BYTES];
        bytes.get(16, chainHash);
        return Optional.of(new DurableEvidence.Claim(bytes.getLong(8), chainHash, path,
                "the reports read model's checkpoint"));
    }

    /** The whole file, its size, CRC32C, magic and version checked; from position 0 to its end. */
    private ByteBuffer readChecked(Path path) throws IOException {
        ByteBuffer bytes;
        try (StorageFile file = storage.openReadOnly(path)) {
            long size = file.size();
            if (size < HEADER_BYTES + 8 + CRC_BYTES || size > Integer.MAX_VALUE) {
                throw unusable(path, "it has " + size + " bytes");
            }
            bytes = ByteBuffer.allocate((int) size);
            while (bytes.hasRemaining()) {
                if (file.read(bytes, bytes.position()) <= 0) {
                    throw unusable(path, "it ended while being read");
                }
            }
        }
        bytes.flip();
        int crcAt = bytes.limit() - CRC_BYTES;
        if (bytes.getInt(crcAt) != crcOf(bytes, crcAt)) {
            throw unusable(path, "it fails its CRC32C");
        }
        if (bytes.getInt(0) != MAGIC || bytes.getInt(4) != VERSION) {
            throw unusable(path, "it is not a reports checkpoint of format version " + VERSION);
        }
        return bytes;
    }

    /** The checkpoint must lie within the journal, at the end of a batch with the same chain hash. */
    private void checkAgainstJournal(Path path, long seq, byte[] chainHash, long committedSeq) throws IOException {
        if (seq < 1 || seq > committedSeq) {
            throw unusable(path, "its seq " + seq + " is not within the journal, which ends at seq " + committedSeq);
        }
        try (Journal.Reader reader = journal.get()) {
            reader.seek(seq);
            if (reader.nextSeq() != seq + 1 || !Arrays.equals(reader.chainHash(), chainHash)) {
                throw unusable(path, "its chain hash at seq " + seq + " is not the journal's (made for another "
                        + "journal, or not at the end of a batch)");
            }
        } catch (RuntimeException e) {
            throw unusable(path, "the journal cannot be read at its seq " + seq + ": " + e.getMessage());
        }
    }

    /** Makes this state the checkpoint, durably. */
    void write(long seq, byte[] chainHash, SortedMap<Long, Long> centsByDay, long[] accountNumbers,
               long[] lastActivityMicros, int accountCount) throws IOException {
        if (chainHash.length != HASH_BYTES) {
            throw new IllegalArgumentException("a chain hash has " + HASH_BYTES + " bytes");
        }
        long size = HEADER_BYTES + 4 + 16L * centsByDay.size() + 4 + 16L * accountCount + CRC_BYTES;
        if (size > Integer.MAX_VALUE) {
            throw new IOException("the reports checkpoint would take " + size + " bytes, more than one buffer holds");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) size);
        bytes.putInt(MAGIC).putInt(VERSION).putLong(seq).put(chainHash);
        bytes.putInt(centsByDay.size());
        for (Map.Entry<Long, Long> day : centsByDay.entrySet()) {
            bytes.putLong(day.getKey()).putLong(day.getValue());
        }
        bytes.putInt(accountCount);
        for (int index = 0; index < accountCount; index++) {
            bytes.putLong(accountNumbers[index]).putLong(lastActivityMicros[index]);
        }
        bytes.putInt(crcOf(bytes, bytes.position()));
        storage.replaceDurably(path(), bytes.flip());
    }

    private static int crcOf(ByteBuffer bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, length);
        return (int) crc.getValue();
    }

    private static IOException unusable(Path path, String why) {
        return new IOException("the reports checkpoint " + path + " cannot be used: " + why);
    }
}
