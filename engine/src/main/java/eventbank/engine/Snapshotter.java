package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Recorded;
import eventbank.engine.snapshot.SnapshotStore;

/**
 * Writes snapshots from a replica of the write model of its own, so the sequencer never pauses
 * for one. It starts from the newest snapshot, follows the committed log, and after every
 * {@code everyEvents} events (at the end of a commit batch, where the chain hash is known)
 * writes a snapshot and prunes old ones.
 */
public final class Snapshotter implements Subscriber {
    private final SnapshotStore store;
    private final long everyEvents;
    private final int newestKept;
    private final long historySpanEvents;
    private final long idempotencyWindowMicros;
    private final long startSnapshotSeq;
    private Bank replica;
    private long lastSnapshotSeq;
    private volatile long snapshotsWritten;

    /**
     * @param startSnapshotSeq the snapshot the engine started from (checked against the
     *                         journal), or 0 to rebuild the replica from the whole log
     */
    public Snapshotter(SnapshotStore store, long startSnapshotSeq, long everyEvents, int newestKept,
                       long historySpanEvents, long idempotencyWindowMicros) {
        if (everyEvents < 1 || newestKept < 1 || historySpanEvents < 1) {
            throw new IllegalArgumentException("snapshot intervals and retention must be positive");
        }
        this.store = store;
        this.everyEvents = everyEvents;
        this.newestKept = newestKept;
        this.historySpanEvents = historySpanEvents;
        this.idempotencyWindowMicros = idempotencyWindowMicros;
        this.startSnapshotSeq = startSnapshotSeq;
    }

    @Override
    public String name() {
        return "snapshotter";
    }

    @Override
    public long start() throws Exception {
        replica = startSnapshotSeq == 0 ? new Bank(idempotencyWindowMicros)
                : store.read(startSnapshotSeq, idempotencyWindowMicros).bank();
        lastSnapshotSeq = replica.lastSeq();
        return replica.lastSeq();
    }

    @Override
    public void onEvent(Recorded recorded) {
        replica.evolve(recorded);
    }

    @Override
    public void onBatchEnd(long lastSeq, byte[] chainHash) throws Exception {
        if (lastSeq - lastSnapshotSeq >= everyEvents) {
            store.write(replica, chainHash);
            lastSnapshotSeq = lastSeq;
            snapshotsWritten++;
            store.prune(newestKept, historySpanEvents);
        }
    }

    /** How many snapshots this snapshotter has written since it started. */
    public long snapshotsWritten() {
        return snapshotsWritten;
    }
}
