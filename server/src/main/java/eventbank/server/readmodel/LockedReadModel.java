package eventbank.server.readmodel;

import eventbank.core.Recorded;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A read model with queries over many accounts, which must see it between two events, never
 * in the middle of one (half of a transfer): the subscription thread applies events under the
 * write lock of {@link #lock}, and those queries hold its read lock. Fed by {@link
 * ReadModelFeed}, the model takes the write lock once for a run of up to {@link
 * ReadModelFeed#EVENTS_PER_RUN_MAX} events of a batch already decoded (a CAS and a volatile
 * store per event were 14% of the feed's thread), in a try-finally, so that a failure cannot
 * leave it held; subscribed on its own, once per event, since a batch is then decoded while it
 * is applied.
 */
abstract class LockedReadModel extends ReadModel {
    /**
     * Fair, so that a query waiting for the read lock gets it between two runs: with barging,
     * the subscription thread takes the write lock again at once, run after run, and the query
     * waits for the end of the backlog (a whole rebuild at start).
     */
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);

    LockedReadModel(Checkpoints checkpoints) {
        super(checkpoints);
    }

    @Override
    public final void onEvent(Recorded recorded) {
        lock.writeLock().lock();
        try {
            applied.requireNext(recorded.seq());
            applyUnderLock(recorded);
            applied.advance(recorded.seq());
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Applies the run under one hold of the write lock, after {@link #beforeRun} outside it (with
     * many accounts, the run's accounts touched, so that their cache misses overlap: {@link
     * FeedBatch#touchesAhead}).
     */
    @Override
    final void onEvents(FeedBatch batch, int from, int to) {
        beforeRun(batch, from, to);
        lock.writeLock().lock();
        try {
            for (int at = from; at < to; at++) {
                long seq = batch.seq(at);
                applied.requireNext(seq);
                applyUnderLock(batch, at);
                applied.advance(seq);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Work before a run of the feed's events is applied, outside the lock: nothing by default. */
    void beforeRun(FeedBatch batch, int from, int to) {}

    /** The model's own part of applying the next event, subscribed alone; called under the write lock. */
    abstract void applyUnderLock(Recorded recorded);

    /** The model's own part of applying the event at {@code at} in the feed's batch; called under the write lock. */
    abstract void applyUnderLock(FeedBatch batch, int at);
}
