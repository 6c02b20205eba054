package eventbank.engine.write;

import eventbank.engine.journal.BatchNotRecordedException;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.keys.KeysFencedException;
import eventbank.engine.keys.PersonalKeys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;

/**
 * The journal thread's loop: takes every chunk waiting for it, writes them as one batch and
 * forces it once (group commit), then answers the callers in log order, publishes the committed
 * head and tells the commit listeners. While it waits for the disk, the sequencer thread decides
 * the next chunks. Only this thread writes to the {@link Journal}.
 *
 * <p>Fail-stop: when a write or fsync fails, the commands of that batch are answered
 * {@code commit_outcome_unknown} and every later one {@code journal_failed}; the fsync is never
 * retried (after a failed fsync the page cache can no longer be trusted). A journal that knows
 * the batch is not recorded ({@link BatchNotRecordedException}: read back after a failover)
 * answers its commands {@code journal_failed}: nothing of them was kept.
 */
final class JournalWriter {
    private final Journal journal;
    private final ArrayBlockingQueue<Chunk> freeChunks;
    private final ArrayBlockingQueue<Chunk> writtenChunks;
    private final int chunksMax;
    /** The data keys the batch's openings were sealed under, or null: forced before the batch is written. */
    private final PersonalKeys keys;
    private final ByteBuffer batchBuffer;
    private final SequencerStatistics statistics;
    private final FailStop failStop;
    private final HandOff handOff;
    private final CopyOnWriteArrayList<LongConsumer> commitListeners = new CopyOnWriteArrayList<>();
    private final Thread thread;
    /** The last durable seq with the chain hash after it, published together by this thread. */
    private volatile Sequencer.Head committedHead;

    JournalWriter(Journal journal, PersonalKeys keys, SequencerLimits limits, ArrayBlockingQueue<Chunk> freeChunks,
                  ArrayBlockingQueue<Chunk> writtenChunks, SequencerStatistics statistics, FailStop failStop,
                  HandOff handOff) {
        this.journal = journal;
        this.keys = keys;
        this.freeChunks = freeChunks;
        this.writtenChunks = writtenChunks;
        this.chunksMax = limits.chunksMax();
        this.batchBuffer = ByteBuffer.allocateDirect(JournalFormat.BATCH_HEADER_BYTES
                + limits.chunksMax() * limits.chunkBytesMax());
        this.statistics = statistics;
        this.failStop = failStop;
        this.handOff = handOff;
        this.committedHead = new Sequencer.Head(journal.lastSeq(), journal.headHash());
        this.thread = new Thread(this::run, "eventbank-journal");
    }

    Thread thread() {
        return thread;
    }

    Sequencer.Head committedHead() {
        return committedHead;
    }

    void addCommitListener(LongConsumer listener) {
        commitListeners.add(listener);
    }

    private void run() {
        List<Chunk> group = new ArrayList<>(chunksMax);
        boolean last = false;
        while (!last) {
            try {
                group.add(writtenChunks.take());
            } catch (InterruptedException e) {
                failStop.fail(e);
                continue;
            }
            handOff.journalWrites();
            writtenChunks.drainTo(group);
            for (Chunk chunk : group) {
                last |= chunk.last;
            }
            commit(group);
            for (Chunk chunk : group) {
                chunk.clearReplies();
                freeChunks.add(chunk);
            }
            group.clear();
            handOff.journalIdle();
        }
    }

    /** Writes the group as one batch, forces it, and answers its callers in order. */
    private void commit(List<Chunk> group) {
        assert Thread.currentThread() == thread : "only the journal thread writes";
        if (failStop.failed()) {
            answerAll(group, failStop.journalFailed());
            return;
        }
        batchBuffer.clear().position(JournalFormat.BATCH_HEADER_BYTES);
        long firstSeq = 0;
        int count = 0;
        for (Chunk chunk : group) {
            if (chunk.eventCount > 0) {
                firstSeq = count == 0 ? chunk.firstSeq : firstSeq;
                count += chunk.eventCount;
                batchBuffer.put(chunk.records.flip());
            }
        }
        if (count > 0) {
            try {
                batchBuffer.flip();
                if (keys != null) {
                    // Before the batch is even written: the OS may write a journal page back
                    // before any fsync, and a start would take that batch up with its openings.
                    keys.force();
                }
                journal.append(batchBuffer, firstSeq, count);
                long started = System.nanoTime();
                journal.force();
                statistics.recordCommit(count, batchBuffer.limit(), System.nanoTime() - started);
                committedHead = new Sequencer.Head(journal.lastSeq(), journal.headHash());
            } catch (BatchNotRecordedException | KeysFencedException e) {
                failStop.fail(e);
                answerAll(group, new Outcome.Unavailable(Outcome.Failure.JOURNAL_FAILED, "This command was not"
                        + " recorded: the journal lost its batch in a failover. Retry with the same Idempotency-Key."));
                return;
            } catch (Throwable t) {
                failStop.fail(t);
                answerAll(group, new Outcome.Unavailable(Outcome.Failure.COMMIT_OUTCOME_UNKNOWN,
                        "The journal failed while writing this command; it may or may not be recorded. "
                                + "Retry with the same Idempotency-Key after the server restarts."));
                return;
            }
        }
        for (Chunk chunk : group) {
            erase(chunk);
            chunk.answer();
        }
        long seq = committedHead.seq();
        for (LongConsumer listener : commitListeners) {
            listener.accept(seq);
        }
    }

    /**
     * Erases the data keys of the holders the chunk's events forgot, now that the events are
     * durable. A failure is logged: the event stands, and the next start erases the key
     * ({@code Engine}'s sweep of forgotten accounts).
     */
    private void erase(Chunk chunk) {
        if (chunk.erasureCount > 0 && Boolean.getBoolean(Sequencer.HALT_BEFORE_ERASURE)) {
            Runtime.getRuntime().halt(Sequencer.HALT_BEFORE_ERASURE_STATUS); // the crash tests' fault only
        }
        for (int index = 0; index < chunk.erasureCount; index++) {
            int slot = (int) chunk.erasures[2 * index];
            long account = chunk.erasures[2 * index + 1];
            try {
                keys.erase(slot, account);
            } catch (IOException | RuntimeException e) {
                System.getLogger(JournalWriter.class.getName()).log(System.Logger.Level.ERROR, "the key of forgotten"
                        + " account " + account + " in slot " + slot + " could not be erased now; the next start"
                        + " (in a cluster, the next leader) erases it", e);
            }
        }
    }

    private static void answerAll(List<Chunk> group, Outcome outcome) {
        for (Chunk chunk : group) {
            chunk.answerAll(outcome);
        }
    }
}
