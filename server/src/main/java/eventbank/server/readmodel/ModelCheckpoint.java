package eventbank.server.readmodel;

import eventbank.engine.journal.Journal;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * A read model's checkpoint, {@code data/readmodels/<model>.checkpoint}: its whole state as of a
 * seq that ends a commit batch, so that a start reads only the journal after it. Big-endian:
 *
 * <pre>
 *   header (68 bytes)  magic "EBRM", file format (1), the model's own format, 0,
 *                      seq, the journal's chain hash after it (32 bytes), payload length,
 *                      CRC32C of the 64 bytes before it
 *   payload            the model's state ({@link Output}, {@link Input})
 *   CRC32C of the payload
 * </pre>
 *
 * The header has a CRC of its own so that {@link #claim} (evidence, read at every start) reads
 * 68 bytes, not the whole state. Written to a temporary file, fsynced, renamed over the old one,
 * and the directory fsynced, so a crash leaves the old checkpoint or the new one, never a mix.
 *
 * <p>A checkpoint is only a shortcut: {@link #read} answers an {@link Unusable} saying why it
 * cannot be used (damaged, of another format, past the journal's end, or with a chain hash that
 * is not the journal's at its seq: made for another journal), and the model is rebuilt from seq
 * 0; the file is {@linkplain #setAside set aside} for whoever looks into it, never trusted.
 *
 * <p>Public for the mail outbox, which keeps its state (each account's email and balance) in a
 * checkpoint of this format of its own, in its own directory ({@link #at}).
 */
public final class ModelCheckpoint {
    static final String DIRECTORY = "readmodels";
    static final String SUFFIX = ".checkpoint";
    /** What a checkpoint that could not be used is renamed to end with. */
    public static final String SET_ASIDE_SUFFIX = ".unusable";
    private static final int MAGIC = 0x4542524D; // "EBRM"
    private static final int FILE_FORMAT = 1;
    private static final int HASH_BYTES = 32;
    static final int HEADER_BYTES = 4 + 4 + 4 + 4 + 8 + HASH_BYTES + 8 + 4;
    private static final int CRC_BYTES = 4;
    private static final int BUFFER_BYTES = 1 << 20;

    /** Why a checkpoint cannot be used: the model rebuilds from seq 0 instead. */
    public static final class Unusable extends IOException {
        Unusable(String message) {
            super(message);
        }
    }

    /** Reads a model's state from a checkpoint's payload. */
    @FunctionalInterface
    public interface Loader {
        void load(Input input) throws IOException;
    }

    /** Writes a model's state as a checkpoint's payload. */
    @FunctionalInterface
    public interface Payload {
        void write(Output output) throws IOException;
    }

    private final Storage storage;
    private final Path path;
    private final String model;
    /** What the checkpoint is called as evidence ({@link #claim}). */
    private final String evidenceName;
    private final int modelFormat;
    /** Reads the journal the checkpoint is checked against. */
    private final Supplier<Journal.Reader> journal;

    /** A read model's: {@code dataDirectory/readmodels/<model>.checkpoint}. */
    ModelCheckpoint(Storage storage, Path dataDirectory, String model, int modelFormat,
                    Supplier<Journal.Reader> journal) {
        this(storage, pathOf(dataDirectory, model), model, "the " + model + " read model's checkpoint", modelFormat,
                journal);
    }

    private ModelCheckpoint(Storage storage, Path path, String model, String evidenceName, int modelFormat,
                            Supplier<Journal.Reader> journal) {
        this.storage = storage;
        this.path = path;
        this.model = model;
        this.evidenceName = evidenceName;
        this.modelFormat = modelFormat;
        this.journal = journal;
    }

    /**
     * A checkpoint of this format kept at {@code file} by a subscriber that is not a read model,
     * called {@code model} in messages ("the {@code model} checkpoint {@code file} cannot be
     * used: ...").
     */
    public static ModelCheckpoint at(Storage storage, Path file, String model, int modelFormat,
                                     Supplier<Journal.Reader> journal) {
        return new ModelCheckpoint(storage, file, model, "the " + model + " checkpoint", modelFormat, journal);
    }

    static Path pathOf(Path dataDirectory, String model) {
        return dataDirectory.resolve(DIRECTORY).resolve(model + SUFFIX);
    }

    public Path path() {
        return path;
    }

    /**
     * Loads the checkpoint through {@code loader} and answers its seq; 0 when there is none. The
     * whole file's CRCs are checked before the loader sees a byte (the loader must read the whole
     * payload), and its seq and chain hash against the journal (whose committed end is {@code
     * committedSeq}) after: {@link #load}, then {@link #check}.
     *
     * @throws Unusable when it cannot be used (the caller drops what the loader loaded)
     */
    public long read(long committedSeq, Loader loader) throws IOException {
        Loaded loaded = load(loader);
        if (loaded == null) {
            return 0;
        }
        check(loaded, committedSeq);
        return loaded.seq();
    }

    /** A checkpoint's state loaded, of the seq it names, not yet checked against the journal ({@link #check}). */
    public record Loaded(long seq, byte[] chainHash) {}

    /**
     * The first half of {@link #read}, which needs no journal: loads the checkpoint through
     * {@code loader} once both CRCs and the formats hold, and answers the seq and chain hash it
     * names; null when there is none. A read model loads while the engine recovers, and checks
     * what it loaded against the journal once the engine is ready.
     *
     * @throws Unusable when it cannot be used (the caller drops what the loader loaded)
     */
    public Loaded load(Loader loader) throws IOException {
        if (!storage.exists(path)) {
            return null;
        }
        try (StorageFile file = storage.openReadOnly(path)) {
            ByteBuffer header = header(file);
            if (header.getInt(8) != modelFormat) {
                throw unusable("it is of the " + model + " model's format " + header.getInt(8) + ", not "
                        + modelFormat);
            }
            long seq = header.getLong(16);
            byte[] chainHash = new byte[HASH_BYTES];
            header.get(24, chainHash);
            long payloadBytes = header.getLong(24 + HASH_BYTES);
            if (payloadBytes < 0 || file.size() != HEADER_BYTES + payloadBytes + CRC_BYTES) {
                throw unusable("it has " + file.size() + " bytes, not the " + (HEADER_BYTES + payloadBytes + CRC_BYTES)
                        + " its header gives");
            }
            checkPayloadCrc(file, payloadBytes);
            Input input = new Input(file, payloadBytes);
            try {
                loader.load(input);
            } catch (Unusable e) {
                throw e;
            } catch (IOException e) {
                throw unusable("its state is not one the model makes: " + e.getMessage());
            } catch (RuntimeException e) {
                throw unusable("its state cannot be loaded: " + e);
            }
            if (input.remaining() != 0) {
                throw unusable(input.remaining() + " bytes of its state were left unread");
            }
            return new Loaded(seq, chainHash);
        }
    }

    /**
     * The checkpoint as evidence of a committed seq (see {@code DurableEvidence}): its seq and
     * chain hash, from its header alone; nothing when there is none.
     */
    public Optional<DurableEvidence.Claim> claim() throws IOException {
        if (!storage.exists(path)) {
            return Optional.empty();
        }
        try (StorageFile file = storage.openReadOnly(path)) {
            ByteBuffer header = header(file);
            byte[] chainHash = new byte[HASH_BYTES];
            header.get(24, chainHash);
            return Optional.of(new DurableEvidence.Claim(header.getLong(16), chainHash, path, evidenceName));
        }
    }

    /** The header, its CRC, magic and file format checked. */
    private ByteBuffer header(StorageFile file) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        if (file.read(header, 0) != HEADER_BYTES) {
            throw unusable("it is shorter than its header (" + file.size() + " bytes)");
        }
        if (header.getInt(HEADER_BYTES - CRC_BYTES) != crc(header.array(), 0, HEADER_BYTES - CRC_BYTES)) {
            throw unusable("its header fails its CRC32C");
        }
        if (header.getInt(0) != MAGIC || header.getInt(4) != FILE_FORMAT) {
            throw unusable("it is not a read-model checkpoint of file format " + FILE_FORMAT);
        }
        return header;
    }

    private void checkPayloadCrc(StorageFile file, long payloadBytes) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(BUFFER_BYTES, Math.max(CRC_BYTES, payloadBytes)));
        long position = HEADER_BYTES;
        long end = HEADER_BYTES + payloadBytes;
        while (position < end) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), end - position));
            int read = file.read(buffer, position);
            if (read <= 0) {
                throw unusable("it ended while being read");
            }
            crc.update(buffer.array(), 0, read);
            position += read;
        }
        ByteBuffer stored = ByteBuffer.allocate(CRC_BYTES);
        if (file.read(stored, end) != CRC_BYTES || stored.getInt(0) != (int) crc.getValue()) {
            throw unusable("its state fails its CRC32C");
        }
    }

    /**
     * The second half of {@link #read}: what {@link #load} loaded must lie within the journal,
     * whose committed end is {@code committedSeq}, at the end of a batch with the same chain hash.
     *
     * @throws Unusable when it does not (the caller drops what was loaded)
     */
    public void check(Loaded loaded, long committedSeq) throws IOException {
        long seq = loaded.seq();
        byte[] chainHash = loaded.chainHash();
        if (seq < 1 || seq > committedSeq) {
            throw unusable("its seq " + seq + " is not within the journal, which ends at seq " + committedSeq);
        }
        try (Journal.Reader reader = journal.get()) {
            reader.seek(seq);
            if (reader.nextSeq() != seq + 1 || !Arrays.equals(reader.chainHash(), chainHash)) {
                throw unusable("its chain hash at seq " + seq + " is not the journal's (made for another "
                        + "journal, or not at the end of a batch)");
            }
        } catch (RuntimeException e) {
            throw unusable("the journal cannot be read at its seq " + seq + ": " + e.getMessage());
        }
    }

    /** Makes the state {@code payload} writes the checkpoint at {@code seq}, durably. */
    public void write(long seq, byte[] chainHash, Payload payload) throws IOException {
        if (chainHash.length != HASH_BYTES) {
            throw new IllegalArgumentException("a chain hash has " + HASH_BYTES + " bytes");
        }
        Path directory = path.getParent();
        storage.createDirectories(directory);
        Path temporary = directory.resolve(path.getFileName() + Storage.TEMPORARY_SUFFIX);
        try (StorageFile file = storage.open(temporary, true)) {
            file.truncate(0);
            Output output = new Output(file);
            payload.write(output);
            long payloadBytes = output.finish();
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
            header.putInt(MAGIC).putInt(FILE_FORMAT).putInt(modelFormat).putInt(0).putLong(seq).put(chainHash)
                    .putLong(payloadBytes);
            header.putInt(crc(header.array(), 0, header.position()));
            file.write(header.flip(), 0);
            file.force();
        }
        storage.rename(temporary, path);
        storage.syncDirectory(directory);
    }

    /**
     * Renames the checkpoint to end in {@code .unusable} (replacing an older one), so that the
     * next checkpoint does not overwrite what an operator may want to look at, and no start
     * reads it again. Best effort: the model is rebuilt whether or not this succeeds.
     */
    public void setAside() throws IOException {
        if (storage.exists(path)) {
            storage.rename(path, path.resolveSibling(path.getFileName() + SET_ASIDE_SUFFIX));
            storage.syncDirectory(path.getParent());
        }
    }

    /**
     * Deletes the checkpoint set aside as unusable, if any: it may hold what was just erased (a
     * forgotten holder's email and hash). Logged, not thrown, when it cannot be.
     */
    public void deleteSetAside() {
        Path setAside = path.resolveSibling(path.getFileName() + SET_ASIDE_SUFFIX);
        try {
            if (storage.exists(setAside)) {
                storage.delete(setAside);
                storage.syncDirectory(path.getParent());
            }
        } catch (IOException e) {
            System.getLogger(ModelCheckpoint.class.getName()).log(System.Logger.Level.WARNING,
                    "the set-aside checkpoint " + setAside + " could not be deleted: " + e);
        }
    }

    private Unusable unusable(String why) {
        return new Unusable("the " + model + " checkpoint " + path + " cannot be used: " + why);
    }

    private static int crc(byte[] bytes, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, from, length);
        return (int) crc.getValue();
    }

    /** Copies {@code n} values between a buffer at its position and an array from its {@code done}th value on. */
    @FunctionalInterface
    private interface Bulk {
        void copy(ByteBuffer buffer, int done, int n);
    }

    /** A checkpoint's payload as it is written: buffered, its CRC32C kept on the way. */
    public static final class Output {
        private final StorageFile file;
        private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        private final CRC32C crc = new CRC32C();
        private long position = HEADER_BYTES;

        private Output(StorageFile file) {
            this.file = file;
        }

        public void writeLong(long value) throws IOException {
            room(8).putLong(value);
        }

        public void writeInt(int value) throws IOException {
            room(4).putInt(value);
        }

        /** The bytes with their length before them (an int). */
        public void writeBytes(byte[] bytes) throws IOException {
            writeBytes(bytes, 0, bytes.length);
        }

        /** The {@code length} bytes from {@code from}, as {@link #writeBytes(byte[])} writes an array of them. */
        public void writeBytes(byte[] bytes, int from, int length) throws IOException {
            writeInt(length);
            int at = 0;
            while (at < length) {
                int n = Math.min(length - at, room(1).remaining());
                buffer.put(bytes, from + at, n);
                at += n;
            }
        }

        /**
         * {@code length} longs of {@code values} from {@code from}, without a count: in bulk, for
         * a model that keeps its state in arrays and writes them as they are ({@link
         * Input#readLongs} reads them back without a call per value).
         */
        public void writeLongs(long[] values, int from, int length) throws IOException {
            writeBulk(Long.BYTES, length, (into, done, n) -> into.asLongBuffer().put(values, from + done, n));
        }

        /** {@code length} ints of {@code values} from {@code from}, without a count, as {@link #writeLongs}. */
        public void writeInts(int[] values, int from, int length) throws IOException {
            writeBulk(Integer.BYTES, length, (into, done, n) -> into.asIntBuffer().put(values, from + done, n));
        }

        /**
         * The first {@code rows} rows of {@code rowLongs} longs each of a table kept in pages of
         * {@code pageRows} rows, each page's rows in bulk, without a count: {@link
         * Input#readPages} reads them back.
         */
        public void writePages(long[][] pages, int rows, int pageRows, int rowLongs) throws IOException {
            for (int first = 0; first < rows; first += pageRows) {
                writeLongs(pages[first / pageRows], 0, Math.min(pageRows, rows - first) * rowLongs);
            }
        }

        /** Copies {@code length} values of {@code elementBytes} each into the buffer, as many at a time as it has room for. */
        private void writeBulk(int elementBytes, int length, Bulk copy) throws IOException {
            int done = 0;
            while (done < length) {
                ByteBuffer into = room(elementBytes);
                int n = Math.min(length - done, into.remaining() / elementBytes);
                copy.copy(into, done, n);
                into.position(into.position() + n * elementBytes);
                done += n;
            }
        }

        private ByteBuffer room(int bytes) throws IOException {
            if (buffer.remaining() < bytes) {
                flush();
            }
            return buffer;
        }

        private void flush() throws IOException {
            crc.update(buffer.array(), 0, buffer.position());
            buffer.flip();
            int length = buffer.remaining();
            file.write(buffer, position);
            position += length;
            buffer.clear();
        }

        /** Writes what is buffered and the payload's CRC; answers the payload's length. */
        private long finish() throws IOException {
            flush();
            long payloadBytes = position - HEADER_BYTES;
            buffer.putInt((int) crc.getValue()).flip();
            file.write(buffer, position);
            return payloadBytes;
        }
    }

    /** A checkpoint's payload as it is read, after its CRC was checked. */
    public static final class Input {
        private final StorageFile file;
        private final ByteBuffer buffer;
        private long position = HEADER_BYTES;
        private long remaining;

        private Input(StorageFile file, long payloadBytes) {
            this.file = file;
            this.remaining = payloadBytes;
            this.buffer = ByteBuffer.allocate((int) Math.min(BUFFER_BYTES, Math.max(8, payloadBytes))).limit(0);
        }

        public long readLong() throws IOException {
            return have(8).getLong();
        }

        public int readInt() throws IOException {
            return have(4).getInt();
        }

        /** Bytes written by {@link Output#writeBytes}. */
        public byte[] readBytes() throws IOException {
            return readBytes(count(1));
        }

        /**
         * Bytes written by {@link Output#writeBytes}, as UTF-8 text: decoded from the buffer when
         * they are in it whole, without an array of their own on the way (a checkpoint of a
         * million accounts holds two million strings).
         */
        public String readString() throws IOException {
            int length = count(1);
            if (length == 0) {
                return "";
            }
            if (length > buffer.capacity()) {
                return new String(readBytes(length), StandardCharsets.UTF_8);
            }
            ByteBuffer source = have(length);
            String text = new String(source.array(), source.arrayOffset() + source.position(), length,
                    StandardCharsets.UTF_8);
            source.position(source.position() + length);
            return text;
        }

        private byte[] readBytes(int length) throws IOException {
            byte[] bytes = new byte[length];
            readFully(bytes, 0, length);
            return bytes;
        }

        /**
         * The next {@code length} bytes, into {@code bytes} from {@code at}: the bytes of {@link
         * Output#writeBytes} after their length ({@link #count}) was read.
         */
        public void readFully(byte[] bytes, int at, int length) throws IOException {
            int done = 0;
            while (done < length) {
                ByteBuffer source = have(1);
                int n = Math.min(length - done, source.remaining());
                source.get(bytes, at + done, n);
                done += n;
            }
        }

        /** {@code length} longs written by {@link Output#writeLongs}, into {@code values} from {@code from}. */
        public void readLongs(long[] values, int from, int length) throws IOException {
            readBulk(Long.BYTES, length, (source, done, n) -> source.asLongBuffer().get(values, from + done, n));
        }

        /** {@code length} ints written by {@link Output#writeInts}, into {@code values} from {@code from}. */
        public void readInts(int[] values, int from, int length) throws IOException {
            readBulk(Integer.BYTES, length, (source, done, n) -> source.asIntBuffer().get(values, from + done, n));
        }

        /**
         * {@code rows} rows written by {@link Output#writePages}, into new pages of {@code
         * pageRows} rows of {@code rowLongs} longs each, in a directory of at least {@code
         * directoryMin} pages.
         */
        public long[][] readPages(int rows, int pageRows, int rowLongs, int directoryMin) throws IOException {
            long[][] pages = new long[Math.max(directoryMin, rows / pageRows + 1)][];
            for (int first = 0; first < rows; first += pageRows) {
                long[] page = new long[pageRows * rowLongs];
                readLongs(page, 0, Math.min(pageRows, rows - first) * rowLongs);
                pages[first / pageRows] = page;
            }
            return pages;
        }

        /** Copies {@code length} values of {@code elementBytes} each out of the buffer, as many at a time as it holds. */
        private void readBulk(int elementBytes, int length, Bulk copy) throws IOException {
            if ((long) length * elementBytes > remaining()) {
                throw new IOException(length + " values of " + elementBytes + " bytes do not fit the " + remaining()
                        + " bytes left");
            }
            int done = 0;
            while (done < length) {
                ByteBuffer source = have(elementBytes);
                int n = Math.min(length - done, source.remaining() / elementBytes);
                copy.copy(source, done, n);
                source.position(source.position() + n * elementBytes);
                done += n;
            }
        }

        /**
         * A count read from the payload, of things at least {@code bytesEach} long each: refused
         * when the rest of the payload cannot hold that many, so that a damaged count never makes
         * a huge allocation.
         */
        public int count(int bytesEach) throws IOException {
            int count = readInt();
            if (count < 0 || (long) count * bytesEach > remaining()) {
                throw new IOException("a count of " + count + " does not fit the " + remaining() + " bytes left");
            }
            return count;
        }

        /** The payload's bytes not read yet. */
        public long remaining() {
            return remaining + buffer.remaining();
        }

        private ByteBuffer have(int bytes) throws IOException {
            if (buffer.remaining() >= bytes) {
                return buffer;
            }
            buffer.compact();
            int want = (int) Math.min(buffer.remaining(), remaining);
            buffer.limit(buffer.position() + want);
            while (buffer.hasRemaining()) {
                int read = file.read(buffer, position);
                if (read <= 0) {
                    throw new IOException("the checkpoint ended while being read");
                }
                position += read;
                remaining -= read;
            }
            buffer.flip();
            if (buffer.remaining() < bytes) {
                throw new IOException("the checkpoint's state ends in the middle of a value");
            }
            return buffer;
        }
    }
}
