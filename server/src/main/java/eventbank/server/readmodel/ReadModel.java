package eventbank.server.readmodel;

import eventbank.core.Recorded;
import eventbank.engine.subscription.Subscriber;
import java.time.Duration;
import java.util.List;

/**
 * A view of the committed log kept in memory for queries. It follows the journal on its
 * subscription's thread and is rebuilt at every start, from the first event or from a checkpoint
 * of its own ({@link #restore()}), so it is never ahead of the journal: it holds only durable
 * events (DESIGN.md, "Nobody sees what a crash could lose"). Its queries may be called from any
 * thread while it is being written.
 */
public abstract class ReadModel implements Subscriber {
    /** The seq applied so far; a subclass advances it per event, as its readers may see it. */
    final AppliedSeq applied = new AppliedSeq();

    /**
     * Starts from {@link #restore()}: nothing for a model that lives in memory only. An instance
     * serves one subscription; a second start would apply events twice, so it is refused.
     */
    @Override
    public final long start() {
        applied.startOnce();
        long restored = restore();
        applied.startAt(restored);
        return restored;
    }

    /**
     * Loads what the model kept on disk and answers the seq it holds; 0 (the default) when it
     * starts from nothing and is rebuilt from the whole journal. Called once, before any event.
     * A checkpoint that cannot be used is no error: the model is rebuilt from seq 0 instead.
     */
    long restore() {
        return 0;
    }

    /** Applies the next committed event; a model throws only for a broken invariant, never checked. */
    @Override
    public abstract void onEvent(Recorded recorded);

    /**
     * Applies the events at {@code from} to before {@code to}, in order, as {@link #onEvent}
     * would one by one: {@link ReadModelFeed}'s way in. A model that locks per event for its
     * queries (accounts, reports) takes its lock once for the run instead.
     */
    void onEvents(List<Recorded> events, int from, int to) {
        for (int index = from; index < to; index++) {
            onEvent(events.get(index));
        }
    }

    @Override
    public final void onBatchEnd(long lastSeq, byte[] chainHash) throws Exception {
        applied.batchEnded(lastSeq);
        batchEnded(lastSeq, chainHash);
    }

    /**
     * Drops every event applied, so that the model is rebuilt from the journal's history as it
     * is now; queries meanwhile see it as it fills again, and {@link #awaitSeq} waits for it.
     */
    @Override
    public final void forget() {
        clear();
        applied.forget();
    }

    /** Drops what the model holds; called while no event is being applied. */
    abstract void clear();

    /** A batch has been applied: the moment for a model's per-batch work, such as a checkpoint. */
    void batchEnded(long lastSeq, byte[] chainHash) throws Exception {}

    /** The seq of the last event this model has applied; 0 before the first. */
    public final long appliedSeq() {
        return applied.get();
    }

    /**
     * Waits until this model has applied the event at {@code minSeq} (read-your-writes: a client
     * passes the seq of its last reply back as {@code min_seq}). Answers true once caught up,
     * false when the timeout passes first (the HTTP layer answers 503 {@code read_model_lagging}).
     * Does not poll: the subscription thread wakes waiters when a batch has been applied.
     */
    public final boolean awaitSeq(long minSeq, Duration timeout) throws InterruptedException {
        return applied.await(minSeq, timeout);
    }
}
