package eventbank.server.mail;

import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The outbox's durable checkpoint, {@code data/outbox/checkpoint}: the seq up to which every mail
 * has been sent. Twenty bytes, big-endian: the magic {@code EBOX}, the format version (1), the
 * seq, and a CRC32C of the sixteen bytes before it. Written to a temporary file, fsynced,
 * renamed over the old one, and the directory fsynced, so a crash leaves the old checkpoint or
 * the new one, never a mix.
 */
final class OutboxCheckpoint {
    static final String FILE_NAME = "checkpoint";
    private static final int MAGIC = 0x45424F58; // "EBOX"
    private static final int VERSION = 1;
    private static final int BYTES = 20;

    private final Storage storage;
    private final Path directory;

    OutboxCheckpoint(Storage storage, Path directory) {
        this.storage = storage;
        this.directory = directory;
    }

    Path path() {
        return directory.resolve(FILE_NAME);
    }

    /**
     * The seq written last, or 0 when there is no checkpoint yet. A damaged checkpoint stops the
     * start: guessing would either send every mail again or skip some.
     */
    long read() throws IOException {
        Path path = path();
        if (!storage.exists(path)) {
            return 0;
        }
        ByteBuffer bytes = ByteBuffer.allocate(BYTES);
        try (StorageFile file = storage.openReadOnly(path)) {
            if (file.size() != BYTES || file.read(bytes, 0) != BYTES) {
                throw damaged(path, "it has " + file.size() + " bytes, not " + BYTES);
            }
        }
        bytes.flip();
        int magic = bytes.getInt(0);
        int version = bytes.getInt(4);
        long seq = bytes.getLong(8);
        if (bytes.getInt(16) != crcOf(bytes)) {
            throw damaged(path, "it fails its CRC32C");
        }
        if (magic != MAGIC || version != VERSION) {
            throw damaged(path, "it is not an outbox checkpoint of format version " + VERSION);
        }
        if (seq < 0) {
            throw damaged(path, "its seq " + seq + " is negative");
        }
        return seq;
    }

    /** The checkpoint as evidence of a committed seq (see {@code DurableEvidence}); nothing when there is none. */
    Optional<DurableEvidence.Claim> claim() throws IOException {
        return storage.exists(path())
                ? Optional.of(new DurableEvidence.Claim(read(), null, path(), "the outbox's checkpoint"))
                : Optional.empty();
    }

    /** Makes {@code seq} the checkpoint, durably. */
    void write(long seq) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(BYTES).putInt(MAGIC).putInt(VERSION).putLong(seq);
        bytes.putInt(crcOf(bytes)).flip();
        storage.replaceDurably(path(), bytes);
    }

    private static int crcOf(ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, 16);
        return (int) crc.getValue();
    }

    private static IOException damaged(Path path, String why) {
        return new IOException("the outbox checkpoint " + path + " is damaged: " + why
                + ". Mails are not sent until it is repaired; deleting it makes the outbox send every mail"
                + " of the log again");
    }
}
