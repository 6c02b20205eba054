package eventbank.engine.write;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * When the sequencer thread takes the next commands: at once while the journal thread is idle,
 * but only once the journal's batch is durable while it is writing one, unless a chunk's worth
 * is waiting before that.
 *
 * <p>Why: a command that comes while a batch is being forced waits for the next batch whatever
 * the sequencer does, yet a sequencer that takes each as it comes is woken for each (a futex
 * call on the request's thread, a context switch): under HTTP load, most of eventbank's context
 * switches beyond the bare handler's. Waiting for the batch's end, it is woken once a batch, by
 * the journal thread, and decides every command that came meanwhile in one go; the journal
 * thread then waits the few microseconds that takes before it writes them. Under heavy load
 * nothing changes: the queue holds a chunk's worth before the batch ends, and the sequencer is
 * woken to decide it while the journal writes, as before (group commit, decided in parallel).
 *
 * <p>No wake-up is lost: each side writes its own flag before it reads the other's (all
 * volatile), and an unpark that comes before the park leaves a permit.
 */
final class HandOff {
    /** How many commands waiting wake the sequencer while the journal writes. */
    private final int wakeAt;
    /** The thread that waits in {@link #awaitTurn}, set before it first does. */
    private volatile Thread sequencer;
    /** Set by the journal thread from taking a batch's chunks until it has answered them. */
    private volatile boolean journalWriting;
    /**
     * The batches the journal thread has ended; only it writes this. The sequencer waits for it
     * to move, not for {@link #journalWriting} to be false: the journal may end a batch and take
     * the next one before the woken sequencer runs, and the commands that came during the first
     * would then wait out the second too.
     */
    private volatile long batchesEnded;
    /** Set by the sequencer thread while it waits for the journal's batch to end. */
    private volatile boolean sequencerWaiting;

    HandOff(int wakeAt) {
        this.wakeAt = wakeAt;
    }

    /** The journal thread takes chunks for a batch. */
    void journalWrites() {
        journalWriting = true;
    }

    /** The journal thread has answered its batch and looks for the next chunks. */
    void journalIdle() {
        batchesEnded++;
        journalWriting = false;
        if (sequencerWaiting) {
            LockSupport.unpark(sequencer);
        }
    }

    /** A submitter queued a command: a chunk's worth waiting wakes a sequencer that waits for the journal. */
    void queued(ArrayBlockingQueue<Submission> commands) {
        if (sequencerWaiting && commands.size() >= wakeAt) {
            LockSupport.unpark(sequencer);
        }
    }

    /**
     * On the sequencer thread, before it takes the next command: returns at once while the
     * journal is idle; while it writes, once a batch has ended or a chunk's worth is waiting.
     */
    void awaitTurn(ArrayBlockingQueue<Submission> commands) {
        // Read before the flag: a batch that ends after this moves the count, whatever comes next.
        long ended = batchesEnded;
        if (!journalWriting) {
            return;
        }
        sequencer = Thread.currentThread();
        sequencerWaiting = true;
        while (batchesEnded == ended && commands.size() < wakeAt && !Thread.currentThread().isInterrupted()) {
            LockSupport.park(this);
        }
        sequencerWaiting = false;
    }
}
