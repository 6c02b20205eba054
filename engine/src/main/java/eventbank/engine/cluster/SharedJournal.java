package eventbank.engine.cluster;

import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalSource;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;

/**
 * A journal several nodes share, one of which writes at a time (DESIGN.md, "Cluster mode"): the
 * leader holds it at an epoch, under a lease it renews; the others follow it up to its durable
 * seq and take it over when the lease lapses. The PostgreSQL module implements it.
 */
public interface SharedJournal extends Closeable {

    /**
     * The journal's head as read now.
     *
     * @param epoch         the epoch of the writer that holds it (0: none ever did)
     * @param lastSeq       the last seq recorded
     * @param durableSeq    the last seq whose commit is known clean: followers apply up to it
     * @param leaderName    who holds it, or null
     * @param leaderUrl     how to reach it, or null
     * @param leaseLapsed   whether its lease ran out, by the database's clock
     * @param formatVersion the format the leader writes
     */
    record Head(long epoch, long lastSeq, long durableSeq, String leaderName, String leaderUrl,
                boolean leaseLapsed, int formatVersion) {}

    Head head() throws IOException;

    /** A reader of the journal, checking checksums and the hash chain as it reads. */
    Journal.Reader newReader();

    /** The journal as the history tools read it (time travel, what-if, the event explorer). */
    JournalSource source();

    /**
     * The chain hash after the batch that ends at {@code seq} (all zeros for 0), or null when no
     * batch ends there: how a node checks that what it holds is still the journal's history.
     */
    byte[] chainHashAt(long seq) throws IOException;

    /** The journal taken over: open for writing at {@code epoch}. */
    record Taken(Journal journal, long epoch) {}

    /**
     * Takes the journal over when no other writer's lease holds: raises the epoch and hands every
     * batch after {@code afterSeq} to {@code replay}; {@code afterHash} is the chain hash this
     * node holds at {@code afterSeq}, checked against the journal's. Returns the journal open
     * for writing at the new epoch, or null when another writer's lease still holds (nothing
     * changed).
     */
    Taken takeOver(long afterSeq, byte[] afterHash, Journal.BatchConsumer replay) throws IOException;

    /**
     * Renews this leader's lease and records {@code durableSeq} (the last seq it knows committed
     * cleanly) as the head's durable seq. False when the head is no longer at {@code epoch}:
     * another writer took over.
     */
    boolean renewLease(long epoch, long durableSeq) throws IOException;

    /** Why this node must not lead now (fsync or synchronous_commit off, no synchronous standby), or null. */
    String durabilityProblem() throws IOException;

    /** Waits until the head may have moved (a notification), at most {@code timeout}. */
    void awaitChange(Duration timeout) throws IOException, InterruptedException;
}
