package eventbank.engine.keys;

import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.SortedMap;

/**
 * The key store kept as rows of a database shared by a cluster's nodes (the PostgreSQL module's
 * {@code eventbank_key_store} and {@code eventbank_data_keys}): the same 128-byte header and
 * 128-byte slots as the file ({@link FileSlotStore}), one row each, overwritten in place. A table
 * only keeps bytes; {@link PersonalKeys} makes and checks them.
 *
 * <p>Writes are fenced by the journal's writer epoch: a leader that was deposed while it held
 * written slots must not overwrite the slots its successor gave to other accounts.
 */
public interface KeyTable extends Closeable {
    /** Writes with this epoch are not fenced: the store's creation and the copy of {@code eventbank migrate}. */
    long UNFENCED = -1;

    /** The header's bytes, or null when the table holds none yet. */
    byte[] header() throws IOException;

    /**
     * {@link #header()} as the primary holds it once no transaction that changes it is under way
     * (it waits for one): what a rotation cut by a crash committed, or not.
     */
    byte[] committedHeader() throws IOException;

    /**
     * Stores {@code header} when the table holds none; answers the header the table holds
     * afterwards, which is another node's when it made one first.
     */
    byte[] createHeader(byte[] header) throws IOException;

    /** The bytes of {@code slot}, or null when it was never written. */
    byte[] read(int slot) throws IOException;

    /** Every written slot from {@code from} (inclusive) to {@code to} (exclusive). */
    Map<Integer, byte[]> readRange(int from, int to) throws IOException;

    /**
     * Writes {@code slots} in one transaction, all or none, only while the journal's head is still
     * at writer epoch {@code epoch} and the table's header is still {@code header} (a rotation
     * since would leave these keys wrapped by a KEK no node has); {@link #UNFENCED} and a null
     * header check nothing.
     *
     * @throws KeysFencedException when the head is at another epoch or the header is another
     */
    void write(SortedMap<Integer, byte[]> slots, long epoch, byte[] header) throws IOException;

    /** A rotation's re-wrapping, applied inside {@link #rewrite}'s transaction. */
    interface Rewrap {
        /** The new header, given the one the table holds. */
        byte[] header(byte[] held) throws IOException;

        /** The new bytes of {@code slot}, given the ones the table holds. */
        byte[] slot(int slot, byte[] held) throws IOException;
    }

    /**
     * A rotation, in one transaction: the journal's head locked (refused while a leader's lease
     * holds: every node is stopped for a rotation), every row read and replaced by what
     * {@code rewrap} makes of it, and the writer epoch raised by one, so that no leader of the old
     * epoch writes a key under the old KEK afterwards.
     */
    void rewrite(Rewrap rewrap) throws IOException;

    /** This node leads from now on: a session a takeover ended is opened again before the next write. */
    default void leading() {
    }

    /** One more than the highest slot written. */
    int slotsBound() throws IOException;

    /** The table's name in messages. */
    String describe();
}
