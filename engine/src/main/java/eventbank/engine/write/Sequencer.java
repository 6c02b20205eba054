package eventbank.engine.write;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.CommandPolicy;
import eventbank.core.Decider;
import eventbank.engine.journal.Journal;
import eventbank.engine.keys.PersonalKeys;
import java.io.IOException;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The single writer. Two threads, as in the LMAX architecture, each with its loop in a class of
 * its own:
 *
 * <ol>
 *   <li>the <em>sequencer thread</em> ({@link CommandProcessor}) takes commands from a bounded
 *       queue, stamps time and what the {@link CommandPolicy} says on them, decides and evolves
 *       each against the one {@link Bank}, encodes the events into a {@link Chunk} and hands the
 *       chunk on;
 *   <li>the <em>journal thread</em> ({@link JournalWriter}) takes every chunk waiting for it,
 *       writes them as one batch and forces it to disk once (group commit), then answers the
 *       callers in log order.
 * </ol>
 *
 * While the journal thread waits for an fsync, the sequencer thread decides the next chunks,
 * so the disk and the CPU work side by side, as soon as a chunk's worth of commands is waiting;
 * fewer than that it takes all at once when the batch ends, woken once rather than by each
 * ({@link HandOff}). Nobody hears of a command before the batch that holds it, and every batch
 * before it, is durable: rejections too wait, since they may depend on events not yet durable.
 *
 * <p>The sequencer knows the bank's commands only through the {@link Decider} and the {@link
 * CommandPolicy}, and the journal only through {@link Journal}, as the Disruptor's processors know
 * their events through their handlers: in production each has one implementation, so the calls
 * stay monomorphic.
 *
 * <p>Fail-stop: when a write or fsync fails, the commands of that batch are answered
 * {@code commit_outcome_unknown}, every later one {@code journal_failed}, and the fsync is
 * never retried (after a failed fsync the page cache can no longer be trusted).
 */
public final class Sequencer implements AutoCloseable {
    /**
     * A test-only fault (docs/CRASH-TESTING.md): the system property that halts the process after a
     * forget's event is durable and before its key is erased, the crash a start must finish.
     */
    public static final String HALT_BEFORE_ERASURE = "eventbank.faults.halt-before-erasure";
    /** The exit status of a process {@link #HALT_BEFORE_ERASURE} halted. */
    public static final int HALT_BEFORE_ERASURE_STATUS = 87;
    /**
     * How many commands waiting wake the sequencer while the journal writes a batch (or a
     * chunk's worth, or the queue's capacity, if smaller): enough to keep deciding in parallel
     * with the fsync under heavy load, few enough that a wake-up is shared by many commands.
     */
    static final int HAND_OFF_WAKE_AT = 64;

    private final Journal journal;
    private final ArrayBlockingQueue<Submission> commands;
    /** When the sequencer takes the next commands; see {@link HandOff}. */
    private final HandOff handOff;
    private final SequencerStatistics statistics;
    private final FailStop failStop;
    private final CommandProcessor processor;
    private final JournalWriter writer;
    private final AtomicInteger submittersInside = new AtomicInteger();
    private volatile boolean accepting = true;

    /**
     * @param bank        the write model, rebuilt up to the journal's last seq; from now on only
     *                    the sequencer thread touches it
     * @param policy      what to stamp on each command, the room its events need, whose balance
     *                    its reply reports
     * @param clockMicros the wall clock in microseconds; time is stamped as
     *                    {@code max(clock, last stamp)} so it never goes backwards
     */
    public Sequencer(Bank bank, Decider decider, CommandPolicy policy, Journal journal,
                     LongSupplier clockMicros, SequencerLimits limits) {
        this(bank, decider, policy, journal, clockMicros, limits, new SequencerStatistics());
    }

    /**
     * With {@code statistics} to count in: a node that leads several times over its life counts
     * every term's commits in one place.
     */
    public Sequencer(Bank bank, Decider decider, CommandPolicy policy, Journal journal,
                     LongSupplier clockMicros, SequencerLimits limits, SequencerStatistics statistics) {
        this(bank, null, decider, policy, journal, clockMicros, limits, statistics);
    }

    /**
     * With {@code keys} to seal each opening's personal fields under a data key of its own,
     * forced to disk before the batch that holds the opening is written (null: plain text).
     */
    public Sequencer(Bank bank, PersonalKeys keys, Decider decider, CommandPolicy policy, Journal journal,
                     LongSupplier clockMicros, SequencerLimits limits, SequencerStatistics statistics) {
        this.statistics = statistics;
        statistics.failed = false; // a new term starts sound, whatever ended the last one
        this.failStop = new FailStop(statistics);
        if (bank.lastSeq() != journal.lastSeq()) {
            throw new IllegalArgumentException("the bank is at seq " + bank.lastSeq() + ", the journal at " + journal.lastSeq());
        }
        this.journal = journal;
        this.commands = new ArrayBlockingQueue<>(limits.commandQueueCapacity());
        ArrayBlockingQueue<Chunk> freeChunks = new ArrayBlockingQueue<>(limits.chunksMax());
        ArrayBlockingQueue<Chunk> writtenChunks = new ArrayBlockingQueue<>(limits.chunksMax() + 1);
        for (int i = 0; i < limits.chunksMax(); i++) {
            freeChunks.add(new Chunk(limits));
        }
        // Never more than the queue holds: a full queue must wake the sequencer.
        this.handOff = new HandOff(Math.min(Math.min(limits.chunkCommandsMax(), limits.commandQueueCapacity()),
                HAND_OFF_WAKE_AT));
        this.writer = new JournalWriter(journal, keys, limits, freeChunks, writtenChunks, statistics, failStop,
                handOff);
        this.processor = new CommandProcessor(bank, keys, decider, policy, clockMicros, limits, commands, freeChunks,
                writtenChunks, failStop, handOff);
        processor.thread().start();
        writer.thread().start();
    }

    /**
     * Queues a command. The future completes once the outcome is durable, or at once with
     * {@code busy} when the queue is full or {@code journal_failed} after a failure.
     */
    public CompletableFuture<Outcome> submit(Command command) {
        CompletableFuture<Outcome> reply = new CompletableFuture<>();
        submittersInside.incrementAndGet();
        try {
            if (failStop.failed()) {
                reply.complete(failStop.journalFailed());
            } else if (!accepting) {
                reply.complete(new Outcome.Unavailable(Outcome.Failure.STOPPED, "The engine is shutting down."));
            } else if (!commands.offer(new Submission(command, reply))) {
                statistics.busy.increment();
                reply.complete(new Outcome.Unavailable(Outcome.Failure.BUSY,
                        "Too many commands are waiting; retry shortly."));
            } else {
                handOff.queued(commands);
            }
        } finally {
            submittersInside.decrementAndGet();
        }
        return reply;
    }

    /** The seq of the last durable event. */
    public long committedSeq() {
        return writer.committedHead().seq();
    }

    /**
     * The audit head: the last durable seq and the journal's chain hash after it (64 hex
     * digits), the pair {@code ./eventbank verify} prints, for recording elsewhere.
     */
    public record Head(long seq, byte[] hash) {
        public String hashHex() {
            return HexFormat.of().formatHex(hash);
        }
    }

    /** The last durable seq and chain hash, consistent with each other. */
    public Head committedHead() {
        return writer.committedHead();
    }

    /** The journal failure that stopped writes, or null while healthy. */
    public Throwable failure() {
        return failStop.failure();
    }

    public SequencerStatistics statistics() {
        return statistics;
    }

    /** Called on the journal thread with the committed seq after every durable batch. */
    public void addCommitListener(LongConsumer listener) {
        writer.addCommitListener(listener);
    }

    /**
     * Stops taking commands, finishes those already queued (their batches are written and
     * answered), and closes the journal.
     */
    @Override
    public synchronized void close() throws InterruptedException {
        Thread sequencerThread = processor.thread();
        Thread journalThread = writer.thread();
        if (!journalThread.isAlive() && !sequencerThread.isAlive()) {
            return; // closed before
        }
        accepting = false;
        while (submittersInside.get() != 0) {
            Thread.onSpinWait(); // a submitter between its check and its offer; a few instructions
        }
        commands.put(Submission.STOP);
        sequencerThread.join();
        journalThread.join();
        try {
            journal.close();
        } catch (IOException e) {
            // Every batch was forced already; nothing durable depends on close.
        }
    }
}
