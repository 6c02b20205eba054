package eventbank.engine.journal;

import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The journal's high-water mark, {@code journal/high-water}: a durable record that the journal
 * once held every event up to a seq, with the chain hash after it. It is what lets recovery tell
 * a torn write (a batch nobody was told about) from damage to a batch that was acknowledged:
 * a batch at or below the mark was committed, so recovery never cuts it (see {@code DurableEvidence}).
 *
 * <p>Written off the commit path, at a fixed interval and at a clean close, by the engine's
 * {@code HighWaterMarker}; so any batch older than that interval is provably committed. The
 * file is two 64-byte slots, 4 KiB apart, overwritten in place, in turn, each forced before
 * the next write: a crash can tear only the slot being written, and the other still holds the
 * mark before it (TigerBeetle keeps redundant copies of its superblock for the same reason). The file is
 * created once and kept open, so writing it needs no new file descriptor.
 *
 * <p>A slot, big-endian: the magic {@code EVHW}, the format version (1), the number of the
 * write (so the newer slot wins), the seq, the chain hash after it (32 bytes), four reserved
 * bytes, and a CRC32C of bytes 0..59. A slot of zeros was never written.
 */
public final class HighWaterMark implements Closeable {
    public static final String FILE_NAME = "high-water";
    static final int SLOT_BYTES = 64;
    private static final int SLOTS = 2;
    /**
     * The slots are a disk block apart, so that no single sector or page write (a device that
     * tears within one) can touch both.
     */
    private static final int SLOT_STRIDE = 4096;
    private static final int FILE_BYTES = SLOT_STRIDE * SLOTS;
    private static final int MAGIC = 0x45564857; // "EVHW"
    private static final int VERSION = 1;
    private static final int CRC_AT = SLOT_BYTES - 4;

    /** A mark as read: the journal held seq with this chain hash after it. */
    public record Mark(long seq, byte[] chainHash, long writeNumber) {}

    private final StorageFile file;
    private final Path path;
    private long writeNumber;

    private HighWaterMark(StorageFile file, Path path, long writeNumber) {
        this.file = file;
        this.path = path;
        this.writeNumber = writeNumber;
    }

    public static Path pathIn(Path journalDirectory) {
        return journalDirectory.resolve(FILE_NAME);
    }

    /**
     * The newest sound mark, or null when none was ever written. A file whose slots are both
     * damaged is a {@link DamagedException}: the evidence it held cannot be read.
     */
    public static Mark read(Storage storage, Path journalDirectory) throws IOException {
        Path path = pathIn(journalDirectory);
        if (!storage.exists(path)) {
            return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate(FILE_BYTES);
        long size;
        try (StorageFile file = storage.openReadOnly(path)) {
            size = file.size();
            file.read(bytes, 0);
        }
        bytes.flip();
        Mark newest = null;
        int damaged = 0;
        for (int slot = 0; slot < SLOTS; slot++) {
            int at = slot * SLOT_STRIDE;
            ByteBuffer view = at >= bytes.limit() ? ByteBuffer.allocate(0)
                    : bytes.slice(at, Math.min(SLOT_BYTES, bytes.limit() - at));
            if (isZero(view)) {
                continue; // never written (or not yet, in a file whose creation a crash cut short)
            }
            Mark mark = view.limit() == SLOT_BYTES ? parse(view) : null;
            if (mark == null) {
                damaged++;
            } else if (newest == null || mark.writeNumber() > newest.writeNumber()) {
                newest = mark;
            }
        }
        // A crash tears at most the slot being written: one damaged slot beside one never written
        // was the first write, which nobody relied on. Two damaged slots are damage.
        if (newest == null && damaged == SLOTS) {
            throw new DamagedException(path, "neither of its two slots is sound (" + size + " bytes)");
        }
        return newest;
    }

    /**
     * Opens the mark for writing, creating the file when missing; it goes on from the newest
     * sound slot. The file's name is made durable here, once, so a later write is one write and
     * one fsync of a file already open.
     */
    public static HighWaterMark open(Storage storage, Path journalDirectory) throws IOException {
        Mark newest;
        try {
            newest = read(storage, journalDirectory);
        } catch (DamagedException e) {
            newest = null; // recovery judged the journal without it; the next write makes it whole
        }
        Path path = pathIn(journalDirectory);
        boolean existed = storage.exists(path);
        StorageFile file = storage.open(path, true);
        try {
            if (!existed || file.size() != FILE_BYTES) {
                file.truncate(0);
                file.write(ByteBuffer.allocate(FILE_BYTES), 0);
                if (newest != null) {
                    file.write(slot(newest.seq(), newest.chainHash(), newest.writeNumber()),
                            (newest.writeNumber() % SLOTS) * SLOT_STRIDE);
                }
                file.force();
                storage.syncDirectory(journalDirectory);
            }
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
        return new HighWaterMark(file, path, newest == null ? 0 : newest.writeNumber());
    }

    public Path path() {
        return path;
    }

    /** Records durably that the journal holds every event up to {@code seq}. */
    public void write(long seq, byte[] chainHash) throws IOException {
        long number = writeNumber + 1;
        file.write(slot(seq, chainHash, number), (number % SLOTS) * SLOT_STRIDE);
        file.force();
        writeNumber = number;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    private static ByteBuffer slot(long seq, byte[] chainHash, long number) {
        ByteBuffer bytes = ByteBuffer.allocate(SLOT_BYTES);
        bytes.putInt(MAGIC).putInt(VERSION).putLong(number).putLong(seq).put(chainHash).putInt(0);
        bytes.putInt(JournalFormat.crc(bytes, 0, CRC_AT));
        return bytes.flip();
    }

    private static Mark parse(ByteBuffer slot) {
        if (slot.getInt(CRC_AT) != JournalFormat.crc(slot, 0, CRC_AT)
                || slot.getInt(0) != MAGIC || slot.getInt(4) != VERSION) {
            return null;
        }
        byte[] hash = new byte[JournalFormat.HASH_BYTES];
        slot.get(24, hash);
        long seq = slot.getLong(16);
        return seq < 0 ? null : new Mark(seq, hash, slot.getLong(8));
    }

    private static boolean isZero(ByteBuffer slot) {
        for (int index = 0; index < slot.limit(); index++) {
            if (slot.get(index) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The mark's file exists but neither slot reads back: what it proved is unknown. */
    public static final class DamagedException extends IOException {
        public DamagedException(Path file, String problem) {
            super("the journal's high-water mark " + file + " is damaged: " + problem);
        }
    }
}
