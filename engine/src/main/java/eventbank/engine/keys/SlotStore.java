package eventbank.engine.keys;

import java.io.Closeable;
import java.io.IOException;

/**
 * Where the key store's header and slots are kept: a file of fixed slots overwritten in place
 * ({@link FileSlotStore}); in cluster mode the rows of a database table ({@link TableSlotStore}
 * over a {@link KeyTable}). {@link PersonalKeys} does the cryptography; a slot store only keeps bytes.
 *
 * <p>Writes come from one thread at a time ({@link PersonalKeys} holds its lock); reads may come
 * from any thread at any time and must be cheap, since replay reads a slot for every opening.
 */
interface SlotStore extends Closeable {
    StoreHeader header();

    /**
     * What {@code slot} holds: {@link KeySlot#EMPTY} when it was never written, or a
     * {@link PersonalKeysException} naming the slot when its bytes fail their checksum.
     */
    KeySlot read(int slot) throws IOException;

    /**
     * {@link #read}, for a replay, which asks for slots in ascending order: a store may answer
     * from slots it read ahead of time, so long as a slot it held empty is read again.
     */
    default KeySlot readAhead(int slot) throws IOException {
        return read(slot);
    }

    /** Overwrites {@code slot} in place; durable at the next {@link #force()}. */
    void write(int slot, KeySlot content) throws IOException;

    /** Makes every write so far durable; does nothing when nothing was written since the last. */
    void force() throws IOException;

    /** One more than the highest slot that may be other than empty. */
    int slotsBound() throws IOException;

    /** The store's name in messages: its file, or its table. */
    String describe();
}
