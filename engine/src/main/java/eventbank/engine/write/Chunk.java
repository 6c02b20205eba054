package eventbank.engine.write;

import eventbank.engine.journal.EventCodec;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Records decided by the sequencer thread and the replies waiting on them, handed to the journal
 * thread in one piece. A fixed number of chunks go round between the two threads (see {@link
 * SequencerLimits#chunksMax}), so handing records on allocates nothing.
 */
final class Chunk {
    final ByteBuffer records;
    final int commandsMax;
    final Object[] replies;
    final Outcome[] outcomes;
    int replyCount;
    int eventCount;
    /**
     * The data keys to erase once the chunk is durable, two longs each (slot, account number):
     * of the holders its AccountForgotten events forgot. Rare: allocated when needed.
     */
    long[] erasures = NO_ERASURES;
    int erasureCount;
    private static final long[] NO_ERASURES = new long[0];
    long firstSeq;
    boolean last;

    Chunk(SequencerLimits limits) {
        records = ByteBuffer.allocate(limits.chunkBytesMax());
        commandsMax = limits.chunkCommandsMax();
        replies = new Object[commandsMax];
        outcomes = new Outcome[commandsMax];
    }

    void reset(long nextSeq) {
        records.clear();
        replyCount = 0;
        eventCount = 0;
        erasureCount = 0;
        firstSeq = nextSeq;
        last = false;
    }

    void eraseAfterCommit(int slot, long accountNumber) {
        if (erasures.length < 2 * (erasureCount + 1)) {
            erasures = java.util.Arrays.copyOf(erasures, Math.max(8, erasures.length * 2));
        }
        erasures[2 * erasureCount] = slot;
        erasures[2 * erasureCount + 1] = accountNumber;
        erasureCount++;
    }

    boolean hasRoom() {
        return replyCount < commandsMax && records.remaining() >= EventCodec.RECORD_BYTES_MAX;
    }

    /** Whether {@code recordBytes}, every byte a command's events may take, fit in what is left. */
    boolean fits(int recordBytes) {
        return records.remaining() >= recordBytes;
    }

    void add(CompletableFuture<Outcome> reply, Outcome outcome) {
        replies[replyCount] = reply;
        outcomes[replyCount] = outcome;
        replyCount++;
    }

    @SuppressWarnings("unchecked")
    void answer() {
        for (int i = 0; i < replyCount; i++) {
            ((CompletableFuture<Outcome>) replies[i]).complete(outcomes[i]);
        }
    }

    @SuppressWarnings("unchecked")
    void answerAll(Outcome outcome) {
        for (int i = 0; i < replyCount; i++) {
            ((CompletableFuture<Outcome>) replies[i]).complete(outcome);
        }
    }

    void clearReplies() {
        Arrays.fill(replies, 0, replyCount, null);
        Arrays.fill(outcomes, 0, replyCount, null);
    }
}
