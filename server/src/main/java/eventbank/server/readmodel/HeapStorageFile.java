package eventbank.server.readmodel;

import eventbank.engine.storage.StorageFile;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A {@link StorageFile} in the heap, for a statements model that keeps no checkpoints (tests,
 * benchmarks): its entries go through the same records as the file's, and nothing is left on
 * disk by a model that is never stopped. A model has no close (a subscription that fails never
 * calls {@code stopped}), so a temporary file would outlive it. Its bytes grow with the entries,
 * as the model's heap did before entries went to a file: not for a server.
 *
 * <p>In chunks, so that growing never copies what was written; every method is synchronized, so
 * that readers on any thread and the one writer may use it at once.
 */
final class HeapStorageFile implements StorageFile {
    private static final int CHUNK_SHIFT = 16;
    private static final int CHUNK_BYTES = 1 << CHUNK_SHIFT;
    private static final int CHUNK_MASK = CHUNK_BYTES - 1;

    /** Null for a chunk nothing was written to since it was cut off: it reads as zeros. */
    private byte[][] chunks = new byte[0][];
    private long size;

    @Override
    public synchronized long size() {
        return size;
    }

    @Override
    public synchronized int read(ByteBuffer destination, long position) {
        int total = 0;
        for (long at = position; destination.hasRemaining() && at < size; ) {
            int offset = (int) (at & CHUNK_MASK);
            int length = (int) Math.min(Math.min(destination.remaining(), CHUNK_BYTES - offset), size - at);
            byte[] chunk = chunks[(int) (at >>> CHUNK_SHIFT)];
            if (chunk == null) {
                destination.put(destination.position(), new byte[length]).position(destination.position() + length);
            } else {
                destination.put(chunk, offset, length);
            }
            at += length;
            total += length;
        }
        return total;
    }

    @Override
    public synchronized void write(ByteBuffer source, long position) {
        long end = position + source.remaining();
        int chunksNeeded = (int) ((end + CHUNK_MASK) >>> CHUNK_SHIFT);
        if (chunksNeeded > chunks.length) {
            chunks = Arrays.copyOf(chunks, Math.max(chunksNeeded, chunks.length + (chunks.length >> 1)));
        }
        for (long at = position; source.hasRemaining(); ) {
            int index = (int) (at >>> CHUNK_SHIFT);
            if (chunks[index] == null) {
                chunks[index] = new byte[CHUNK_BYTES];
            }
            int offset = (int) (at & CHUNK_MASK);
            int length = Math.min(source.remaining(), CHUNK_BYTES - offset);
            source.get(chunks[index], offset, length);
            at += length;
        }
        size = Math.max(size, end);
    }

    @Override
    public void force() {}

    /**
     * Shrinks to {@code newSize} (never grows, as a file's truncate); what was cut off reads as
     * zeros if the file grows past it again.
     */
    @Override
    public synchronized void truncate(long newSize) {
        if (newSize >= size) {
            return;
        }
        int kept = (int) ((newSize + CHUNK_MASK) >>> CHUNK_SHIFT);
        int offset = (int) (newSize & CHUNK_MASK);
        if (offset != 0 && chunks[kept - 1] != null) {
            Arrays.fill(chunks[kept - 1], offset, CHUNK_BYTES, (byte) 0);
        }
        Arrays.fill(chunks, kept, chunks.length, null);
        size = newSize;
    }

    @Override
    public void close() {}
}
