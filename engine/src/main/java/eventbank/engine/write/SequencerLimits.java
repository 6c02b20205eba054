package eventbank.engine.write;

import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.JournalFormat;

/**
 * The sequencer's bounds, kept together. Memory in flight is at most
 * {@code chunksMax * chunkBytesMax} of records plus {@code commandQueueCapacity} commands.
 *
 * @param commandQueueCapacity commands waiting for the sequencer; a full queue answers busy
 * @param chunkCommandsMax     commands the sequencer decides before handing a chunk on
 * @param chunkBytesMax        bytes of encoded records in one chunk; a command whose events may take
 *                             more ({@link eventbank.core.CommandPolicy#recordBytesMax}) is refused
 * @param chunksMax            chunks in flight; the journal thread writes all it finds in one
 *                             commit batch with one fsync (group commit)
 */
public record SequencerLimits(int commandQueueCapacity, int chunkCommandsMax, int chunkBytesMax, int chunksMax) {
    public static final SequencerLimits DEFAULT = new SequencerLimits(65_536, 1_024, 128 * 1024, 32);

    public SequencerLimits {
        if (commandQueueCapacity < 1 || chunkCommandsMax < 1 || chunksMax < 2) {
            throw new IllegalArgumentException("sequencer limits must be positive, with at least two chunks");
        }
        if (chunkBytesMax < EventCodec.RECORD_BYTES_MAX) {
            throw new IllegalArgumentException("a chunk must hold at least one record of the largest size");
        }
        // The journal thread writes every chunk waiting as one batch, and the reader takes a
        // body larger than this for a damaged header: a larger batch would be acknowledged, then
        // quarantined as a torn write (or refused as corruption) at the next start.
        if ((long) chunksMax * chunkBytesMax > JournalFormat.BATCH_BODY_BYTES_MAX) {
            throw new IllegalArgumentException("chunksMax * chunkBytesMax must be at most "
                    + JournalFormat.BATCH_BODY_BYTES_MAX + " bytes, the largest batch");
        }
    }
}
