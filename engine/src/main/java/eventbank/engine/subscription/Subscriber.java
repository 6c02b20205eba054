package eventbank.engine.subscription;

import eventbank.core.Recorded;
import java.time.Duration;

/**
 * Something that follows the committed log from its own durable checkpoint: a read model, the
 * mail outbox, the snapshotter. It runs on a thread of its own and reads the journal, so a slow
 * subscriber never slows the sequencer; it only falls behind.
 */
public interface Subscriber {

    /** A name for logs and metrics. */
    String name();

    /**
     * How long this subscriber lets new commits wait once it has read all there was: zero (the
     * default) to be woken by every commit, as a read model must be for read-your-writes; more
     * for one whose work can wait that long (the outbox, the snapshotter). Such a subscriber
     * reads the journal at most once in that time, many batches at a time, and its thread is
     * not woken at every commit: three threads woken per commit cost a single-transfer request
     * about 5 µs of CPU.
     */
    default Duration catchUpPause() {
        return Duration.ZERO;
    }

    /**
     * Called once, on the subscription's thread, before any event: loads the subscriber's state
     * and answers the seq of the last event it has already taken into account (0 for none).
     */
    long start() throws Exception;

    /** The next committed event, in order, each exactly once per start. */
    void onEvent(Recorded recorded) throws Exception;

    /**
     * A commit batch ended with {@code lastSeq}, whose journal chain hash is {@code chainHash}:
     * the moment for work that pays per batch (flush, checkpoint, snapshot).
     */
    void onBatchEnd(long lastSeq, byte[] chainHash) throws Exception;

    /**
     * The subscription stops (the engine closes), after the last batch it delivered ended: the
     * moment to save state, so that the next start has less to read again. Called on the
     * subscription's thread; not after a failure.
     */
    default void stopped() throws Exception {}

    /**
     * What keeps this subscriber from its work now while it tries again (a store it cannot
     * write), for the engine's health; null while nothing does. Called from any thread.
     */
    default String problem() {
        return null;
    }

    /**
     * The journal's history changed under this subscriber: in a cluster, a failover lost events
     * it had been handed (DESIGN.md, "Cluster mode"). Called on another thread once the
     * subscription's has stopped: drop everything taken from the journal, or kept from it (a
     * checkpoint that is no longer on the journal's history is passed over by {@link #start}).
     * {@link #start} is called again next, and the events after the seq it answers. By default
     * a subscriber cannot, and its subscription stops.
     */
    default void forget() throws Exception {
        throw new UnsupportedOperationException(name() + " cannot start again on a changed history");
    }
}
