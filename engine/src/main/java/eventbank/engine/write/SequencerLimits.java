package eventbank.engine.write;

/**
 * The sequencer's bounds, kept together. Memory in flight is at most
 * {@code chunksMax * chunkBytesMax} of records plus {@code commandQueueCapacity} commands.
 *
 * @param commandQueueCapacity commands waiting for the sequencer; a full queue answers busy
 * @param chunkCommandsMax     commands the sequencer decides before handing a chunk on
 * @param chunkBytesMax        bytes of encoded records in one chunk
 * @param chunksMax            chunks in flight; the journal thread writes all it finds in one
 *                             commit batch with one fsync (group commit)
 */
public record SequencerLimits(int commandQueueCapacity, int chunkCommandsMax, int chunkBytesMax, int chunksMax) {
    public static final SequencerLimits DEFAULT = new SequencerLimits(65_536, 1_024, 128 * 1024, 32);

    /**
     * The bytes a command's events may take at most: all of them go into one chunk, so that
     * they land in one commit batch. An all-or-none batch of n transfers takes one record of
     * the largest size (the first, which carries the key) and n - 1 records without a key.
     * Batches above {@link eventbank.core.Limits#BATCH_TRANSFERS_MAX} are refused by decide
     * and record nothing, so they are counted at that size.
     */
    public static int recordBytesMax(eventbank.core.Command command) {
        if (command instanceof eventbank.core.Command.TransferMoneyAtomically batch && batch.transfers().size() > 1) {
            int transfers = Math.min(batch.transfers().size(), eventbank.core.Limits.BATCH_TRANSFERS_MAX);
            return eventbank.engine.journal.EventCodec.RECORD_BYTES_MAX
                    + (transfers - 1) * eventbank.engine.journal.EventCodec.KEYLESS_TRANSFER_RECORD_BYTES;
        }
        return eventbank.engine.journal.EventCodec.RECORD_BYTES_MAX;
    }

    /**
     * The most transfers of an all-or-none batch one chunk holds; the sequencer refuses a
     * larger batch with {@code BATCH_SIZE_INVALID}. At least {@link eventbank.core.Limits#BATCH_TRANSFERS_MAX}
     * with the default limits.
     */
    public int batchTransfersMax() {
        int more = (chunkBytesMax - eventbank.engine.journal.EventCodec.RECORD_BYTES_MAX)
                / eventbank.engine.journal.EventCodec.KEYLESS_TRANSFER_RECORD_BYTES;
        return (int) Math.min(eventbank.core.Limits.BATCH_TRANSFERS_MAX, 1L + more);
    }

    public SequencerLimits {
        if (commandQueueCapacity < 1 || chunkCommandsMax < 1 || chunksMax < 2) {
            throw new IllegalArgumentException("sequencer limits must be positive, with at least two chunks");
        }
        if (chunkBytesMax < eventbank.engine.journal.EventCodec.RECORD_BYTES_MAX) {
            throw new IllegalArgumentException("a chunk must hold at least one record of the largest size");
        }
        // The journal thread writes every chunk waiting as one batch, and the reader takes a
        // body larger than this for a damaged header: a larger batch would be acknowledged, then
        // quarantined as a torn write (or refused as corruption) at the next start.
        if ((long) chunksMax * chunkBytesMax > eventbank.engine.journal.JournalFormat.BATCH_BODY_BYTES_MAX) {
            throw new IllegalArgumentException("chunksMax * chunkBytesMax must be at most "
                    + eventbank.engine.journal.JournalFormat.BATCH_BODY_BYTES_MAX + " bytes, the largest batch");
        }
    }
}
