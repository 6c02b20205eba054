package eventbank.engine.journal;

import java.io.IOException;

/**
 * A journal as the history tools read it (time travel, what-if, verify, the command line's
 * {@code events}): readers of the committed log from any seq, and the few questions about it
 * as a whole that they ask. Read-only: nothing here writes, locks or takes a journal over, so
 * a source works beside a running server or cluster. {@link FileJournalSource} reads the
 * segment files of a data directory; the PostgreSQL module reads the journal's table.
 *
 * <p>Whatever keeps the journal, its readers hand out the same checked batches (see {@link
 * Journal}): a history rebuilt from either is the same to the byte.
 */
public interface JournalSource {

    /**
     * The head a journal records apart from its batches (a database's head row), read at one
     * moment: the last seq and the chain hash after it.
     */
    record Head(long lastSeq, byte[] chainHash) {}

    /**
     * A reader positioned nowhere until it seeks, checking each batch's checksums and, with
     * {@code verifyChain}, recomputing the hash chain.
     */
    Journal.Reader newReader(boolean verifyChain);

    /** Whether the journal holds no batch at all (nothing was ever committed). */
    boolean isEmpty() throws IOException;

    /** The last seq of the last whole batch, as the journal is now; 0 when it holds none. */
    long lastSeq() throws IOException;

    /**
     * The seq of the last event stamped at or before {@code timeMicros} (microseconds since the
     * epoch); 0 when there is none (the journal is empty or starts later). Event times never go
     * backwards, so this is the state "as it was at" that instant.
     */
    long seqAtTimeMicros(long timeMicros) throws IOException;

    /**
     * The head the journal records apart from its batches, read now; null when it keeps none
     * (the files: their head is their last batch). Read before the batches, a verification can
     * check that the batches reach it with the same hash, even while a writer goes on.
     */
    Head recordedHead() throws IOException;

    /**
     * For {@link #seqAtTimeMicros} once the search has narrowed it down: {@code seq} is an event
     * known to be stamped at or before {@code timeMicros}; reads on after it and answers the seq
     * of the last event stamped at or before that time, stopping at the first event after it.
     */
    static long lastSeqAtOrBefore(Journal.Reader reader, long seq, long timeMicros) throws IOException {
        long[] answer = {seq};
        boolean[] past = {false};
        reader.seek(seq);
        JournalReader.Batch batch;
        while (!past[0] && (batch = reader.next(Long.MAX_VALUE)) != null) {
            batch.forEach(recorded -> {
                if (past[0]) {
                    return;
                }
                if (recorded.timeMicros() <= timeMicros) {
                    answer[0] = Math.max(answer[0], recorded.seq());
                } else {
                    past[0] = true;
                }
            });
        }
        return answer[0];
    }
}
