package eventbank.engine.write;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Decider;
import eventbank.core.Decision;
import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The single writer. Two threads, as in the LMAX architecture:
 *
 * <ol>
 *   <li>the <em>sequencer thread</em> takes commands from a bounded queue, stamps time and
 *       random values on them, decides and evolves each against the one {@link Bank}, encodes
 *       the events into a chunk and hands the chunk on;
 *   <li>the <em>journal thread</em> takes every chunk waiting for it, writes them as one batch
 *       and forces it to disk once (group commit), then answers the callers in log order.
 * </ol>
 *
 * While the journal thread waits for an fsync, the sequencer thread decides the next chunks,
 * so the disk and the CPU work side by side. Nobody hears of a command before the batch that
 * holds it, and every batch before it, is durable: rejections too wait, since they may depend
 * on events not yet durable.
 *
 * <p>Fail-stop: when a write or fsync fails, the commands of that batch are answered
 * {@code commit_outcome_unknown}, every later one {@code journal_failed}, and the fsync is
 * never retried (after a failed fsync the page cache can no longer be trusted).
 */
public final class Sequencer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sequencer.class.getName());
    private static final Submission STOP = new Submission(null, null);

    private record Submission(Command command, CompletableFuture<Outcome> reply) {}

    private final Bank bank;
    private final Decider decider;
    private final Journal journal;
    private final LongSupplier clockMicros;
    private final LongSupplier accountNumbers;
    private final ArrayBlockingQueue<Submission> commands;
    private final ArrayBlockingQueue<Chunk> freeChunks;
    private final ArrayBlockingQueue<Chunk> writtenChunks;
    private final ByteBuffer batchBuffer;
    private final SequencerLimits limits;
    private final CopyOnWriteArrayList<LongConsumer> commitListeners = new CopyOnWriteArrayList<>();
    private final Thread sequencerThread;
    private final Thread journalThread;
    private final AtomicInteger submittersInside = new AtomicInteger();
    private final SequencerStatistics statistics = new SequencerStatistics();

    private volatile boolean accepting = true;
    private volatile Throwable failure;
    /** The last durable seq with the chain hash after it, published together by the journal thread. */
    private volatile Head committedHead;
    /** The command the sequencer thread has taken and not yet put in a chunk; only that thread uses it. */
    private Submission deciding;

    /**
     * @param bank           the write model, rebuilt up to the journal's last seq; from now on
     *                       only the sequencer thread touches it
     * @param clockMicros    the wall clock in microseconds; time is stamped as
     *                       {@code max(clock, last stamp)} so it never goes backwards
     * @param accountNumbers a source of random 16-digit account numbers
     */
    public Sequencer(Bank bank, Decider decider, Journal journal, LongSupplier clockMicros,
                     LongSupplier accountNumbers, SequencerLimits limits) {
        if (bank.lastSeq() != journal.lastSeq()) {
            throw new IllegalArgumentException("the bank is at seq " + bank.lastSeq() + ", the journal at " + journal.lastSeq());
        }
        this.bank = bank;
        this.decider = decider;
        this.journal = journal;
        this.clockMicros = clockMicros;
        this.accountNumbers = accountNumbers;
        this.limits = limits;
        this.commands = new ArrayBlockingQueue<>(limits.commandQueueCapacity());
        this.freeChunks = new ArrayBlockingQueue<>(limits.chunksMax());
        this.writtenChunks = new ArrayBlockingQueue<>(limits.chunksMax() + 1);
        for (int i = 0; i < limits.chunksMax(); i++) {
            freeChunks.add(new Chunk(limits));
        }
        this.batchBuffer = ByteBuffer.allocateDirect(JournalFormat.BATCH_HEADER_BYTES
                + limits.chunksMax() * limits.chunkBytesMax());
        this.committedHead = new Head(journal.lastSeq(), journal.headHash());
        this.sequencerThread = new Thread(this::runSequencer, "eventbank-sequencer");
        this.journalThread = new Thread(this::runJournal, "eventbank-journal");
        sequencerThread.start();
        journalThread.start();
    }

    /**
     * Queues a command. The future completes once the outcome is durable, or at once with
     * {@code busy} when the queue is full or {@code journal_failed} after a failure.
     */
    public CompletableFuture<Outcome> submit(Command command) {
        CompletableFuture<Outcome> reply = new CompletableFuture<>();
        submittersInside.incrementAndGet();
        try {
            if (failure != null) {
                reply.complete(journalFailed());
            } else if (!accepting) {
                reply.complete(new Outcome.Unavailable(Outcome.Failure.STOPPED, "The engine is shutting down."));
            } else if (!commands.offer(new Submission(command, reply))) {
                statistics.busy.increment();
                reply.complete(new Outcome.Unavailable(Outcome.Failure.BUSY,
                        "Too many commands are waiting; retry shortly."));
            }
        } finally {
            submittersInside.decrementAndGet();
        }
        return reply;
    }

    /** The seq of the last durable event. */
    public long committedSeq() {
        return committedHead.seq();
    }

    /**
     * The audit head: the last durable seq and the journal's chain hash after it (64 hex
     * digits), the pair {@code ./eventbank verify} prints, for recording elsewhere.
     */
    public record Head(long seq, byte[] hash) {
        public String hashHex() {
            return java.util.HexFormat.of().formatHex(hash);
        }
    }

    /** The last durable seq and chain hash, consistent with each other. */
    public Head committedHead() {
        return committedHead;
    }

    /** The journal failure that stopped writes, or null while healthy. */
    public Throwable failure() {
        return failure;
    }

    public SequencerStatistics statistics() {
        return statistics;
    }

    /** Called on the journal thread with the committed seq after every durable batch. */
    public void addCommitListener(LongConsumer listener) {
        commitListeners.add(listener);
    }

    /**
     * Stops taking commands, finishes those already queued (their batches are written and
     * answered), and closes the journal.
     */
    @Override
    public synchronized void close() throws InterruptedException {
        if (!journalThread.isAlive() && !sequencerThread.isAlive()) {
            return; // closed before
        }
        accepting = false;
        while (submittersInside.get() != 0) {
            Thread.onSpinWait(); // a submitter between its check and its offer; a few instructions
        }
        commands.put(STOP);
        sequencerThread.join();
        journalThread.join();
        try {
            journal.close();
        } catch (java.io.IOException e) {
            // Every batch was forced already; nothing durable depends on close.
        }
    }

    // ---- The sequencer thread ----

    private void runSequencer() {
        boolean stopping = false;
        Chunk chunk = null;
        // A command taken from the queue that did not fit in the chunk in hand: it starts the next.
        Submission carried = null;
        try {
            while (!stopping) {
                Submission first = carried != null ? carried : commands.take();
                carried = null;
                deciding = first;
                chunk = freeChunks.take();
                chunk.reset(bank.lastSeq() + 1);
                if (first == STOP) {
                    stopping = true;
                } else {
                    process(first, chunk);
                }
                while (!stopping && chunk.hasRoom()) {
                    Submission next = commands.poll();
                    if (next == null) {
                        break;
                    }
                    if (next == STOP) {
                        stopping = true;
                    } else if (!chunk.fits(next.command())) {
                        // All events of one command go into one chunk, hence one commit batch.
                        carried = next;
                        deciding = next;
                        break;
                    } else {
                        process(next, chunk);
                    }
                }
                chunk.last = stopping;
                writtenChunks.put(chunk);
                chunk = null;
            }
        } catch (Throwable t) {
            // A bug in decide or evolve, or an interrupt: the write model can no longer be
            // trusted, so stop exactly as for a journal failure. The journal thread answers
            // the chunk in hand with journal_failed; later commands are answered here.
            fail(t);
            answerLost(chunk);
            drainAfterFailure(chunk, stopping);
        }
    }

    /**
     * The command whose decision failed was taken from the queue but never reached a chunk:
     * answer it too, after the commands before it (in the chunk in hand) when there is one.
     */
    private void answerLost(Chunk inHand) {
        Submission lost = deciding;
        deciding = null;
        if (lost == null || lost == STOP) {
            return;
        }
        if (inHand != null && inHand.replyCount < inHand.commandsMax) {
            inHand.add(lost.reply(), journalFailed());
        } else {
            lost.reply().complete(journalFailed());
        }
    }

    private void drainAfterFailure(Chunk inHand, boolean stopTaken) {
        try {
            if (inHand != null) {
                writtenChunks.put(inHand);
            }
            Submission next;
            while (!stopTaken && (next = commands.take()) != STOP) {
                next.reply().complete(journalFailed());
            }
            Chunk last = freeChunks.take();
            last.reset(0);
            last.last = true;
            writtenChunks.put(last);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void process(Submission submission, Chunk chunk) {
        assert Thread.currentThread() == sequencerThread : "only the sequencer thread decides";
        deciding = submission;
        Command command = withAccountNumber(submission.command());
        if (SequencerLimits.recordBytesMax(command) > limits.chunkBytesMax()) {
            // Only with limits smaller than the defaults: a batch larger than one chunk holds.
            chunk.add(submission.reply(), new Outcome.Rejected(eventbank.core.Rejection.BATCH_SIZE_INVALID));
            deciding = null;
            return;
        }
        long now = Math.max(clockMicros.getAsLong(), bank.lastTimeMicros());
        Decision decision = decider.decide(bank, command, now);
        Outcome outcome = switch (decision) {
            case Decision.Accepted accepted -> apply(accepted.events(), command, now, chunk);
            case Decision.Rejected rejected -> new Outcome.Rejected(rejected.reason(), rejected.index());
            case Decision.Replayed replayed -> new Outcome.Replayed(replayed.seq());
        };
        chunk.add(submission.reply(), outcome);
        deciding = null;
    }

    private Outcome apply(List<Event> events, Command command, long now, Chunk chunk) {
        List<Recorded> recorded = new ArrayList<>(events.size());
        for (Event event : events) {
            long seq = bank.lastSeq() + 1;
            bank.evolve(seq, now, event);
            EventCodec.encode(chunk.records, now, event);
            chunk.eventCount++;
            recorded.add(new Recorded(seq, now, event));
        }
        return new Outcome.Committed(bank.lastSeq(), recorded, bank.balanceOf(subjectOf(command)));
    }

    /** An OpenAccount without a number gets a random one that is not in use. */
    private Command withAccountNumber(Command command) {
        if (command instanceof Command.OpenAccount open && open.accountNumber() == 0) {
            long number;
            do {
                number = accountNumbers.getAsLong();
            } while (bank.exists(number));
            return new Command.OpenAccount(number, open.email(), open.passwordHash(), open.openingBalance(),
                    open.idempotency());
        }
        return command;
    }

    private static long subjectOf(Command command) {
        return switch (command) {
            case Command.OpenAccount c -> c.accountNumber();
            case Command.VerifyAccount c -> c.accountNumber();
            case Command.TransferMoney c -> c.fromAccountNumber();
            case Command.TransferMoneyAtomically c -> c.fromAccountNumber();
            case Command.Withdraw c -> c.accountNumber();
        };
    }

    // ---- The journal thread ----

    private void runJournal() {
        List<Chunk> group = new ArrayList<>(limits.chunksMax());
        boolean last = false;
        while (!last) {
            try {
                group.add(writtenChunks.take());
            } catch (InterruptedException e) {
                fail(e);
                continue;
            }
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
        }
    }

    /** Writes the group as one batch, forces it, and answers its callers in order. */
    private void commit(List<Chunk> group) {
        assert Thread.currentThread() == journalThread : "only the journal thread writes";
        if (failure != null) {
            answerAll(group, journalFailed());
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
                journal.append(batchBuffer, firstSeq, count);
                long started = System.nanoTime();
                journal.force();
                statistics.recordCommit(count, batchBuffer.limit(), System.nanoTime() - started);
                committedHead = new Head(journal.lastSeq(), journal.headHash());
            } catch (Throwable t) {
                fail(t);
                answerAll(group, new Outcome.Unavailable(Outcome.Failure.COMMIT_OUTCOME_UNKNOWN,
                        "The journal failed while writing this command; it may or may not be recorded. "
                                + "Retry with the same Idempotency-Key after the server restarts."));
                return;
            }
        }
        for (Chunk chunk : group) {
            chunk.answer();
        }
        long seq = committedHead.seq();
        for (LongConsumer listener : commitListeners) {
            listener.accept(seq);
        }
    }

    private static void answerAll(List<Chunk> group, Outcome outcome) {
        for (Chunk chunk : group) {
            chunk.answerAll(outcome);
        }
    }

    private void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
            statistics.failed = true;
            // Said once, loudly, where an operator looks: until now only the replies and /health
            // told, and the server's log showed nothing but a run of 503s (docs/RELIABILITY.md).
            LOG.log(System.Logger.Level.ERROR, "the journal failed: " + cause + ". The bank takes no more changes"
                    + " (fail-stop): new commands are answered 503 journal_failed, those of the batch being"
                    + " written 503 commit_outcome_unknown. Fix the cause (a full disk, a failing device),"
                    + " then restart: the start recovers every acknowledged command, and clients retry with"
                    + " their Idempotency-Key.", cause);
        }
    }

    private Outcome journalFailed() {
        return new Outcome.Unavailable(Outcome.Failure.JOURNAL_FAILED,
                "The journal failed and the bank takes no more changes until it restarts: " + failure);
    }

    /** Records decided by the sequencer thread and the replies waiting on them. */
    private static final class Chunk {
        final ByteBuffer records;
        final int commandsMax;
        final Object[] replies;
        final Outcome[] outcomes;
        int replyCount;
        int eventCount;
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
            firstSeq = nextSeq;
            last = false;
        }

        boolean hasRoom() {
            return replyCount < commandsMax && records.remaining() >= EventCodec.RECORD_BYTES_MAX;
        }

        /** Whether every event the command may record fits in what is left. */
        boolean fits(Command command) {
            return records.remaining() >= SequencerLimits.recordBytesMax(command);
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
            java.util.Arrays.fill(replies, 0, replyCount, null);
            java.util.Arrays.fill(outcomes, 0, replyCount, null);
        }
    }
}
