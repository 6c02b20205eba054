package eventbank.engine.subscription;

import eventbank.core.Recorded;

/**
 * Something that follows the committed log from its own durable checkpoint: a read model, the
 * mail outbox, the snapshotter. It runs on a thread of its own and reads the journal, so a slow
 * subscriber never slows the sequencer; it only falls behind.
 */
public interface Subscriber {

    /** A name for logs and metrics. */
    String name();

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
}
