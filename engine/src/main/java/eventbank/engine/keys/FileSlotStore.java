package eventbank.engine.keys;

import eventbank.engine.storage.OwnerOnly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Set;

/**
 * The key store as a file ({@code data/keys/data-keys}): a {@link StoreHeader}, then slot i at
 * byte {@code 128 + 128 * i}. Writes are positional writes in place; reads go through read-only
 * mappings of the file, so that reading a slot makes no system call (replay reads one for every
 * opening).
 *
 * <p>The file grows by regions of {@value #REGION_SLOTS} slots (4 MiB), each mapped once; the
 * file's length is always the header plus whole regions, its unwritten slots holes that read as
 * zeros (empty). A positional write and a mapping of the same file share the page cache, so a
 * read sees a write once it has returned.
 */
final class FileSlotStore implements SlotStore {
    static final int REGION_SLOTS = 1 << 15;
    static final long REGION_BYTES = (long) REGION_SLOTS * KeySlot.BYTES;

    private final Path file;
    private final FileChannel channel;
    private final StoreHeader header;
    /** The mapped regions, region r holding slots {@code r * REGION_SLOTS} on; replaced whole when one is added. */
    private volatile MappedByteBuffer[] regions;
    /** Writes since the last force, and whether the file grew; guarded by this. */
    private boolean written;
    private boolean grown;

    private FileSlotStore(Path file, FileChannel channel, StoreHeader header) {
        this.file = file;
        this.channel = channel;
        this.header = header;
        this.regions = new MappedByteBuffer[0];
    }

    /** Opens an existing store for reading and writing. */
    static FileSlotStore open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            FileSlotStore store = new FileSlotStore(file, channel, readHeader(channel, file));
            long regionCount = Math.max(1, (channel.size() - StoreHeader.BYTES + REGION_BYTES - 1) / REGION_BYTES);
            store.mapRegionsThrough((int) regionCount - 1);
            return store;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Creates a new store file (which must not exist), 0600, with {@code header} and one region of
     * empty slots, forced to disk; the caller renames it into place.
     */
    static FileSlotStore createNew(Path file, StoreHeader header) throws IOException {
        FileChannel channel = OwnerOnly.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE));
        try {
            writeFully(channel, ByteBuffer.wrap(header.encode()), 0);
            FileSlotStore store = new FileSlotStore(file, channel, header);
            store.mapRegionsThrough(0);
            store.written = true;
            store.force();
            return store;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The header of the store in {@code file}, read without mapping anything (recovery of a rotation). */
    static StoreHeader readHeader(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(channel, file);
        }
    }

    private static StoreHeader readHeader(FileChannel channel, Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(StoreHeader.BYTES);
        while (bytes.hasRemaining() && channel.read(bytes, bytes.position()) > 0) {
            // reads until the header is whole or the file ends
        }
        return StoreHeader.decode(Arrays.copyOf(bytes.array(), bytes.position()), file.toString());
    }

    @Override
    public StoreHeader header() {
        return header;
    }

    @Override
    public KeySlot read(int slot) throws IOException {
        KeySlot content = readUnlocked(slot);
        if (content != null) {
            return content;
        }
        // A checksum that fails may be a read that overlapped a write of the same slot (a slot
        // reused after an opening that never committed, or an erasure): read again once no write
        // is under way, and only then call it damaged.
        synchronized (this) {
            content = readUnlocked(slot);
        }
        if (content == null) {
            throw new PersonalKeysException(KeySlot.damaged(file.toString(), slot));
        }
        return content;
    }

    /** The slot, {@link KeySlot#EMPTY} beyond the file, or null when its checksum fails. */
    private KeySlot readUnlocked(int slot) {
        checkSlot(slot);
        MappedByteBuffer[] mapped = regions;
        int region = slot / REGION_SLOTS;
        if (region >= mapped.length) {
            return KeySlot.EMPTY;
        }
        byte[] bytes = new byte[KeySlot.BYTES];
        mapped[region].get((slot % REGION_SLOTS) * KeySlot.BYTES, bytes);
        return KeySlot.decode(bytes);
    }

    @Override
    public synchronized void write(int slot, KeySlot content) throws IOException {
        checkSlot(slot);
        mapRegionsThrough(slot / REGION_SLOTS);
        writeFully(channel, ByteBuffer.wrap(content.encode()), offsetOf(slot));
        written = true;
    }

    @Override
    public void force() throws IOException {
        boolean metadata;
        synchronized (this) {
            if (!written) {
                return;
            }
            metadata = grown;
            written = false;
            grown = false;
        }
        // Outside the lock, so that a write (the next opening's key) need not wait for the disk;
        // a write that lands meanwhile sets written again and is forced by the next call. A grown
        // file needs its new length on disk too, which fdatasync alone does not promise for holes.
        try {
            channel.force(metadata);
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                written = true;
                grown |= metadata;
            }
            throw e;
        }
    }

    @Override
    public int slotsBound() {
        return (int) Math.min(Integer.MAX_VALUE, (long) regions.length * REGION_SLOTS);
    }

    /** Grows the file (with holes) so that {@link #slotsBound()} is at least {@code bound}. */
    void growTo(int bound) throws IOException {
        if (bound > 0) {
            mapRegionsThrough((bound - 1) / REGION_SLOTS);
        }
    }

    @Override
    public String describe() {
        return file.toString();
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }

    private static long offsetOf(int slot) {
        return StoreHeader.BYTES + (long) slot * KeySlot.BYTES;
    }

    private static void checkSlot(int slot) {
        if (slot < 0) {
            throw new IllegalArgumentException("a slot is 0 or more, not " + slot);
        }
    }

    /** Grows the file to hold region {@code last} whole, and maps every region up to it. */
    private synchronized void mapRegionsThrough(int last) throws IOException {
        MappedByteBuffer[] mapped = regions;
        if (last < mapped.length) {
            return;
        }
        long length = StoreHeader.BYTES + (last + 1L) * REGION_BYTES;
        if (channel.size() < length) {
            // One zero byte at the end makes the rest a hole: nothing is written to the disk for it.
            writeFully(channel, ByteBuffer.allocate(1), length - 1);
            written = true;
            grown = true;
        }
        MappedByteBuffer[] more = Arrays.copyOf(mapped, last + 1);
        for (int region = mapped.length; region <= last; region++) {
            more[region] = channel.map(FileChannel.MapMode.READ_ONLY,
                    StoreHeader.BYTES + region * REGION_BYTES, REGION_BYTES);
        }
        regions = more;
    }

    static void writeFully(FileChannel channel, ByteBuffer bytes, long position) throws IOException {
        long at = position;
        while (bytes.hasRemaining()) {
            at += channel.write(bytes, at);
        }
    }
}
