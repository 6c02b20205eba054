package eventbank.server.readmodel;

import eventbank.engine.Subscriber;
import java.time.Duration;

/**
 * A view of the committed log kept in memory for queries. It follows the journal on its
 * subscription's thread and is rebuilt from the first event at every start, so it is never
 * ahead of the journal: it holds only durable events (DESIGN.md, "Nobody sees what a crash could
 * lose"). Its queries may be called from any thread while it is being written.
 */
public interface ReadModel extends Subscriber {

    /** The seq of the last event this model has applied; 0 before the first. */
    long appliedSeq();

    /**
     * Waits until this model has applied the event at {@code minSeq} (read-your-writes: a client
     * passes the seq of its last reply back as {@code min_seq}). Answers true once caught up,
     * false when the timeout passes first (the HTTP layer answers 503 {@code read_model_lagging}).
     * Does not poll: the subscription thread wakes waiters when a batch has been applied.
     */
    boolean awaitSeq(long minSeq, Duration timeout) throws InterruptedException;
}
