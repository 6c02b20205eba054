package eventbank.server.readmodel;

import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.atomic.LongAdder;

/**
 * The statements model's entries, {@code data/readmodels/statements.entries}: every account's
 * entries in one append-only file, in seq order, each a record of {@value #RECORD_BYTES} bytes
 * (little-endian, so a record never straddles a 4 KiB page):
 *
 * <pre>
 *    0  seq                      32  amount (cents, positive)
 *    8  time (micros)            40  the account's previous record (-1 for its first)
 *   16  balance after            48  its jump record (-1 for its first; see StatementRows)
 *   24  type (top byte) and      56  the account number (checked on every read)
 *       counterparty (56 bits)
 * </pre>
 *
 * A record is named by its index (its position over {@value #RECORD_BYTES}). The writer (the
 * subscription thread) appends into a buffer of 1 MiB that reaches the file in one write when it
 * fills and at each batch's end ({@link #flush}); readers on any thread read records with
 * positional reads ({@link Cursor}), and only records the model published after they were
 * written. Only {@link StatementsReadModel#writeState} makes them durable ({@link #force}), just
 * before its checkpoint, which records how long the file was: a start cuts off what came after.
 */
final class StatementEntriesFile {
    static final String NAME = "statements.entries";
    static final int RECORD_BYTES = 64;
    /** No record: before an account's first. */
    static final long NONE = -1;
    private static final int SEQ = 0;
    private static final int TIME = 8;
    private static final int BALANCE_AFTER = 16;
    private static final int TYPE_AND_COUNTERPARTY = 24;
    private static final int AMOUNT = 32;
    private static final int PREVIOUS = 40;
    private static final int JUMP = 48;
    private static final int ACCOUNT = 56;
    /** 16,384 records: a batch of a few thousand transfers reaches the file in one write. */
    private static final int BUFFER_RECORDS = 1 << 14;

    /** Null for a file in the heap, which is never opened. */
    private final Storage storage;
    private final Path path;
    /** Opened at its first use; set once, read by readers after a record they read was published. */
    private volatile StorageFile file;
    // The writer's own:
    private final ByteBuffer buffer =
            ByteBuffer.allocateDirect(BUFFER_RECORDS * RECORD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    /** The records in the file, as far as the model knows: the buffer's go after them. */
    private long fileRecords;
    /**
     * Whether the file may hold more than {@link #fileRecords} (what a previous run wrote after
     * its checkpoint, or before a {@link #clear}): it is cut to that length before the next write.
     */
    private boolean lengthUnsure = true;
    /** Records read by queries, for tests that count them. */
    private final LongAdder recordsRead = new LongAdder();

    /** The file {@link #NAME} in {@code directory}, through {@code storage}; not opened yet. */
    StatementEntriesFile(Storage storage, Path directory) {
        this.storage = storage;
        this.path = directory.resolve(NAME);
    }

    /** Entries in the heap, for a model that keeps no checkpoints ({@link HeapStorageFile}). */
    StatementEntriesFile() {
        this.storage = null;
        this.path = null;
        this.file = new HeapStorageFile();
    }

    Path path() {
        return path;
    }

    /** The records appended so far, written or buffered: the index of the next one. The writer's. */
    long records() {
        return fileRecords + buffer.position() / RECORD_BYTES;
    }

    /** Appends a record and answers its index; the buffer reaches the file first when it is full. The writer's. */
    long append(long seq, long timeMicros, long balanceAfter, long typeAndCounterparty, long amount, long previous,
                long jump, long accountNumber) throws IOException {
        if (!buffer.hasRemaining()) {
            flush();
        }
        long index = records();
        int at = buffer.position();
        buffer.putLong(at + SEQ, seq)
                .putLong(at + TIME, timeMicros)
                .putLong(at + BALANCE_AFTER, balanceAfter)
                .putLong(at + TYPE_AND_COUNTERPARTY, typeAndCounterparty)
                .putLong(at + AMOUNT, amount)
                .putLong(at + PREVIOUS, previous)
                .putLong(at + JUMP, jump)
                .putLong(at + ACCOUNT, accountNumber)
                .position(at + RECORD_BYTES);
        return index;
    }

    /** Writes what is buffered to the file, in one write; a reader may read it once this returns. The writer's. */
    void flush() throws IOException {
        if (buffer.position() == 0 && !lengthUnsure) {
            return;
        }
        StorageFile to = file();
        if (lengthUnsure) {
            to.truncate(fileRecords * RECORD_BYTES);
            lengthUnsure = false;
        }
        long written = buffer.position() / RECORD_BYTES;
        to.write(buffer.flip(), fileRecords * RECORD_BYTES);
        buffer.clear();
        fileRecords += written;
    }

    /** Writes what is buffered and makes the whole file durable, as long as {@link #records()} says. The writer's. */
    void force() throws IOException {
        flush();
        file().force();
    }

    /**
     * Starts from a checkpoint that saw {@code records} records: the file must hold at least
     * that many (the checkpoint forced them), and is cut to them; what a previous run wrote after
     * the checkpoint is applied again from the journal.
     *
     * @throws IOException when the file is shorter (the checkpoint cannot be used)
     */
    void restore(long records) throws IOException {
        buffer.clear();
        StorageFile from = file();
        long size = from.size();
        if (records < 0 || size < records * RECORD_BYTES) {
            throw new IOException("the entries file " + path + " has " + size + " bytes, fewer than the "
                    + records + " records of " + RECORD_BYTES + " bytes its checkpoint saw");
        }
        from.truncate(records * RECORD_BYTES);
        fileRecords = records;
        lengthUnsure = false;
    }

    /** Drops every record: the file is cut to nothing before the next write. The writer's. */
    void clear() {
        buffer.clear();
        fileRecords = 0;
        lengthUnsure = true;
    }

    /** Records read by queries since the start. */
    long recordsRead() {
        return recordsRead.sum();
    }

    private StorageFile file() throws IOException {
        StorageFile opened = file;
        if (opened == null) {
            storage.createDirectories(path.getParent());
            opened = storage.open(path, true);
            file = opened;
        }
        return opened;
    }

    /** A reader's view of one record at a time; one per query, on the query's thread. */
    final class Cursor {
        private final ByteBuffer bytes = ByteBuffer.allocate(RECORD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private long index = NONE;

        /**
         * Reads the record at {@code index}, which must be of {@code accountNumber}'s statement.
         *
         * @throws IllegalStateException when it is not (or is past the file's end): the model was
         *                               cleared under the query, or the file is damaged
         * @throws UncheckedIOException  when the file cannot be read
         */
        Cursor read(long index, long accountNumber) {
            bytes.clear();
            int read;
            try {
                read = file.read(bytes, index * RECORD_BYTES);
            } catch (IOException e) {
                throw new UncheckedIOException("the statements' entries file cannot be read at record " + index, e);
            }
            recordsRead.increment();
            if (read != RECORD_BYTES || bytes.getLong(ACCOUNT) != accountNumber) {
                throw new IllegalStateException("record " + index + " of the statements' entries file is not one of "
                        + "account " + accountNumber + "'s (" + read + " bytes read)");
            }
            this.index = index;
            return this;
        }

        long index() {
            return index;
        }

        long seq() {
            return bytes.getLong(SEQ);
        }

        long timeMicros() {
            return bytes.getLong(TIME);
        }

        long balanceAfter() {
            return bytes.getLong(BALANCE_AFTER);
        }

        long typeAndCounterparty() {
            return bytes.getLong(TYPE_AND_COUNTERPARTY);
        }

        long amount() {
            return bytes.getLong(AMOUNT);
        }

        long previous() {
            return bytes.getLong(PREVIOUS);
        }

        long jump() {
            return bytes.getLong(JUMP);
        }
    }
}
