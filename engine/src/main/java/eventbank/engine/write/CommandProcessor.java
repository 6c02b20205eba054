package eventbank.engine.write;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.CommandPolicy;
import eventbank.core.Decider;
import eventbank.core.Decision;
import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.keys.SealedPersonal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.function.LongSupplier;

/**
 * The sequencer thread's loop: takes commands from the bounded queue, has the policy stamp them,
 * stamps the time, decides and evolves each against the one {@link Bank}, encodes the events
 * into a chunk, and hands the chunk to the journal thread ({@link JournalWriter}) when it is full
 * or the queue is empty. With the queue empty it waits for the next command, or, while the
 * journal writes a batch, for that batch's end ({@link HandOff}). Only this thread touches the
 * bank.
 *
 * <p>It knows the bank's commands only through the {@link Decider} and the {@link CommandPolicy}:
 * the policy says what to stamp, how much room a command's events need (all of them go into one
 * chunk, hence one commit batch) and whose balance a reply reports.
 */
final class CommandProcessor {
    private final Bank bank;
    /** Seals each opening's personal fields under a key of its own; null: recorded in plain text. */
    private final PersonalKeys keys;
    private final Decider decider;
    private final CommandPolicy policy;
    private final LongSupplier clockMicros;
    private final int chunkBytesMax;
    private final ArrayBlockingQueue<Submission> commands;
    private final ArrayBlockingQueue<Chunk> freeChunks;
    private final ArrayBlockingQueue<Chunk> writtenChunks;
    private final FailStop failStop;
    private final HandOff handOff;
    private final Thread thread;
    /** The command this thread has taken and not yet put in a chunk; only this thread uses it. */
    private Submission deciding;

    CommandProcessor(Bank bank, PersonalKeys keys, Decider decider, CommandPolicy policy, LongSupplier clockMicros,
                     SequencerLimits limits, ArrayBlockingQueue<Submission> commands,
                     ArrayBlockingQueue<Chunk> freeChunks, ArrayBlockingQueue<Chunk> writtenChunks,
                     FailStop failStop, HandOff handOff) {
        this.bank = bank;
        this.keys = keys;
        this.decider = decider;
        this.policy = policy;
        this.clockMicros = clockMicros;
        this.chunkBytesMax = limits.chunkBytesMax();
        this.commands = commands;
        this.freeChunks = freeChunks;
        this.writtenChunks = writtenChunks;
        this.failStop = failStop;
        this.handOff = handOff;
        this.thread = new Thread(this::run, "eventbank-sequencer");
    }

    Thread thread() {
        return thread;
    }

    private void run() {
        boolean stopping = false;
        Chunk chunk = null;
        // A command taken from the queue that did not fit in the chunk in hand: it starts the next.
        Submission carried = null;
        try {
            while (!stopping) {
                Submission first = carried;
                if (first == null) {
                    handOff.awaitTurn(commands);
                    first = commands.take();
                }
                carried = null;
                deciding = first;
                chunk = freeChunks.take();
                chunk.reset(bank.lastSeq() + 1);
                if (first == Submission.STOP) {
                    stopping = true;
                } else {
                    process(first, chunk);
                }
                while (!stopping && chunk.hasRoom()) {
                    Submission next = commands.poll();
                    if (next == null) {
                        break;
                    }
                    if (next == Submission.STOP) {
                        stopping = true;
                    } else if (!chunk.fits(policy.recordBytesMax(next.command()))) {
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
            failStop.fail(t);
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
        if (lost == null || lost == Submission.STOP) {
            return;
        }
        if (inHand != null && inHand.replyCount < inHand.commandsMax) {
            inHand.add(lost.reply(), failStop.journalFailed());
        } else {
            lost.reply().complete(failStop.journalFailed());
        }
    }

    private void drainAfterFailure(Chunk inHand, boolean stopTaken) {
        try {
            if (inHand != null) {
                writtenChunks.put(inHand);
            }
            Submission next;
            while (!stopTaken && (next = commands.take()) != Submission.STOP) {
                next.reply().complete(failStop.journalFailed());
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
        assert Thread.currentThread() == thread : "only the sequencer thread decides";
        deciding = submission;
        Command command = policy.stamp(submission.command(), bank);
        if (policy.recordBytesMax(command) > chunkBytesMax) {
            // Only with limits smaller than the defaults: a command larger than one chunk holds.
            chunk.add(submission.reply(), new Outcome.Rejected(policy.tooLarge(command)));
            deciding = null;
            return;
        }
        long now = Math.max(clockMicros.getAsLong(), bank.lastTimeMicros());
        Decision decision = decider.decide(bank, command, now);
        long subject = policy.subjectOf(command);
        Outcome outcome = switch (decision) {
            case Decision.Accepted accepted -> apply(accepted.events(), subject, now, chunk);
            case Decision.Rejected rejected -> new Outcome.Rejected(rejected.reason(), rejected.index());
            case Decision.Replayed replayed -> new Outcome.Replayed(replayed.seq());
            case Decision.OneByOne oneByOne -> applyOneByOne(oneByOne, subject, now, chunk);
        };
        chunk.add(submission.reply(), outcome);
        deciding = null;
    }

    /**
     * Each part of a batch decided one by one as if it were a command of its own: its event
     * recorded, its outcome the one it would have had; all of them answered with one reply.
     */
    private Outcome applyOneByOne(Decision.OneByOne decision, long subject, long now, Chunk chunk) {
        List<Outcome> parts = new ArrayList<>(decision.parts().size());
        for (Decision part : decision.parts()) {
            parts.add(switch (part) {
                case Decision.Accepted accepted -> apply(accepted.events(), subject, now, chunk);
                case Decision.Rejected rejected -> new Outcome.Rejected(rejected.reason(), rejected.index());
                case Decision.Replayed replayed -> throw new IllegalStateException("a part is never replayed");
                case Decision.OneByOne nested -> throw new IllegalStateException("a part is never a batch");
            });
        }
        return new Outcome.CommittedOneByOne(bank.lastSeq(), parts, bank.balanceOf(subject));
    }

    private Outcome apply(List<Event> events, long subject, long now, Chunk chunk) {
        List<Recorded> recorded = new ArrayList<>(events.size());
        for (Event decided : events) {
            long seq = bank.lastSeq() + 1;
            Event event = sealed(decided);
            bank.evolve(seq, now, event);
            if (keys != null && event instanceof Event.AccountForgotten forgotten) {
                chunk.eraseAfterCommit(bank.ordinalOf(forgotten.accountNumber()), forgotten.accountNumber());
            }
            EventCodec.encode(chunk.records, now, event);
            chunk.eventCount++;
            recorded.add(new Recorded(seq, now, event));
        }
        return new Outcome.Committed(bank.lastSeq(), recorded, bank.balanceOf(subject));
    }

    /**
     * An opening with its personal fields sealed in the slot of its opening ordinal (the bank's
     * account count before it), the key written to the store; other events as they are.
     */
    private Event sealed(Event event) {
        if (keys != null && event instanceof Event.AccountOpened opening && !opening.personal().sealed()) {
            return SealedPersonal.seal(keys, bank.accountCount(), opening);
        }
        return event;
    }
}
