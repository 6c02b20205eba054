package eventbank.engine.keys;

import java.io.IOException;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The key store in a database table ({@link KeyTable}), as {@link PersonalKeys} uses a store:
 * written slots wait in memory until {@link #force()} writes them in one transaction, fenced at
 * the epoch they were written at ({@link #leadAt}); reads ask the table, except replay's
 * ({@link #readAhead}), which reads the slots after the one asked for with it, since a replay
 * asks for them in ascending order.
 */
final class TableSlotStore implements SlotStore {
    /** How many slots one read ahead fetches: one query per this many openings replayed. */
    static final int READ_AHEAD_SLOTS = 4096;

    private final KeyTable table;
    private final StoreHeader header;
    /** The header as read at the start: a write checks that the table still holds it (no rotation since). */
    private final byte[] headerBytes;
    /** The writer epoch new writes are fenced at; guarded by this, as are the pending writes. */
    private long epoch = KeyTable.UNFENCED;
    private final TreeMap<Integer, byte[]> pending = new TreeMap<>();
    /** The slots read ahead, from {@code aheadFrom} on; replaced whole. */
    private volatile ReadAhead ahead = new ReadAhead(0, 0, Map.of());

    private record ReadAhead(int from, int to, Map<Integer, byte[]> slots) {}

    TableSlotStore(KeyTable table, StoreHeader header) {
        this.table = table;
        this.header = header;
        this.headerBytes = header.encode();
    }

    /**
     * From now on, slots are written only while the journal's head is at {@code epoch}: this node
     * leads at it. Writes of an earlier epoch not yet forced are dropped: their openings can no
     * longer be recorded.
     */
    synchronized void leadAt(long epoch) {
        if (epoch != this.epoch) {
            pending.clear();
            this.epoch = epoch;
            table.leading();
        }
    }

    @Override
    public StoreHeader header() {
        return header;
    }

    @Override
    public KeySlot read(int slot) throws IOException {
        checkSlot(slot);
        synchronized (this) {
            byte[] written = pending.get(slot);
            if (written != null) {
                return decode(slot, written);
            }
        }
        byte[] bytes = table.read(slot);
        return bytes == null ? KeySlot.EMPTY : decode(slot, bytes);
    }

    @Override
    public KeySlot readAhead(int slot) throws IOException {
        checkSlot(slot);
        ReadAhead held = ahead;
        byte[] bytes = slot >= held.from() && slot < held.to() ? held.slots().get(slot) : null;
        if (bytes == null) {
            // Not read ahead, or empty then: the slot's opening is read now, so its key was written since.
            int to = (int) Math.min(Integer.MAX_VALUE, (long) slot + READ_AHEAD_SLOTS);
            held = new ReadAhead(slot, to, table.readRange(slot, to));
            ahead = held;
            bytes = held.slots().get(slot);
        }
        return bytes == null ? KeySlot.EMPTY : decode(slot, bytes);
    }

    private KeySlot decode(int slot, byte[] bytes) throws PersonalKeysException {
        KeySlot content = bytes.length == KeySlot.BYTES ? KeySlot.decode(bytes) : null;
        if (content == null) {
            throw new PersonalKeysException(KeySlot.damaged(table.describe(), slot));
        }
        return content;
    }

    @Override
    public synchronized void write(int slot, KeySlot content) {
        checkSlot(slot);
        pending.put(slot, content.encode());
    }

    @Override
    public void force() throws IOException {
        SortedMap<Integer, byte[]> writes;
        long fence;
        synchronized (this) {
            if (pending.isEmpty()) {
                return;
            }
            writes = new TreeMap<>(pending);
            fence = epoch;
        }
        try {
            table.write(writes, fence, headerBytes);
        } catch (KeysFencedException e) {
            synchronized (this) {
                writes.forEach((slot, bytes) -> pending.remove(slot, bytes));
            }
            throw e;
        }
        synchronized (this) {
            writes.forEach((slot, bytes) -> pending.remove(slot, bytes));
        }
        ahead = new ReadAhead(0, 0, Map.of());
    }

    @Override
    public int slotsBound() throws IOException {
        return table.slotsBound();
    }

    @Override
    public String describe() {
        return table.describe();
    }

    @Override
    public void close() throws IOException {
        table.close();
    }

    private static void checkSlot(int slot) {
        if (slot < 0) {
            throw new IllegalArgumentException("a slot is 0 or more, not " + slot);
        }
    }
}
