package eventbank.engine.snapshot;

import eventbank.core.Bank;
import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.subscription.Subscriber;
import java.io.IOException;
import java.time.Duration;

/**
 * Writes snapshots from a replica of the write model of its own, so the sequencer never pauses
 * for one. It starts from a copy of the state the engine recovered (or, in a cluster, from the
 * snapshot the node rebuilt from), follows the committed log, and after every
 * {@code everyEvents} events (at the end of a commit batch, where the chain hash is known)
 * writes a snapshot and prunes old ones.
 */
public final class Snapshotter implements Subscriber {
    private static final System.Logger LOG = System.getLogger(Snapshotter.class.getName());
    private static final Duration CATCH_UP_PAUSE = Duration.ofMillis(10);

    private final SnapshotStore store;
    private final long everyEvents;
    private final int newestKept;
    private final long historySpanEvents;
    private final long idempotencyWindowMicros;
    /** The snapshot the replica starts from: the engine's at first, none once the history changed. */
    private long startSnapshotSeq;
    /**
     * A copy of the engine's state to start from instead of reading a snapshot: the engine's own
     * recovered state, copied before the sequencer changes it. Null once used, or when none.
     */
    private Bank startReplica;
    /** The journal's chain hash at {@link #startReplica}'s last seq; null when none. */
    private byte[] startReplicaHash;
    private Bank replica;
    private long lastSnapshotSeq;
    /** The batch being read forgot a holder; the subscription thread's only. */
    private boolean forgottenInBatch;
    /** A snapshot after a forgetting failed at this seq (0: none): tried at every batch end until one is written. */
    private long erasingSince;
    private volatile long snapshotsWritten;
    private volatile IOException lastFailure;

    /**
     * @param startSnapshotSeq the snapshot the engine started from (checked against the
     *                         journal), or 0 to rebuild the replica from the whole log
     */
    public Snapshotter(SnapshotStore store, long startSnapshotSeq, long everyEvents, int newestKept,
                       long historySpanEvents, long idempotencyWindowMicros) {
        this(store, startSnapshotSeq, null, everyEvents, newestKept, historySpanEvents, idempotencyWindowMicros);
    }

    /**
     * Starting from {@code startReplica}, a copy of the state the engine recovered ({@link
     * Bank#copy}) that nobody else holds, instead of reading the snapshot again: a start of a
     * million accounts parsed the same snapshot twice, once for the engine and once here. The
     * next snapshot is due {@code everyEvents} after {@code startSnapshotSeq}, the one the engine
     * started from, as when the replica was read from it and then caught up with the journal:
     * one already due (a start that replayed much of the journal) is written at {@link #start},
     * at the replica's seq, whose chain hash is {@code startReplicaHash}.
     */
    public Snapshotter(SnapshotStore store, Bank startReplica, byte[] startReplicaHash, long startSnapshotSeq,
                       long everyEvents, int newestKept, long historySpanEvents, long idempotencyWindowMicros) {
        this(store, startSnapshotSeq, startReplica, everyEvents, newestKept, historySpanEvents,
                idempotencyWindowMicros);
        this.startReplicaHash = startReplicaHash == null ? null : startReplicaHash.clone();
    }

    private Snapshotter(SnapshotStore store, long startSnapshotSeq, Bank startReplica, long everyEvents,
                        int newestKept, long historySpanEvents, long idempotencyWindowMicros) {
        if (everyEvents < 1 || newestKept < 1 || historySpanEvents < 1) {
            throw new IllegalArgumentException("snapshot intervals and retention must be positive");
        }
        this.store = store;
        this.everyEvents = everyEvents;
        this.newestKept = newestKept;
        this.historySpanEvents = historySpanEvents;
        this.idempotencyWindowMicros = idempotencyWindowMicros;
        this.startSnapshotSeq = startSnapshotSeq;
        this.startReplica = startReplica;
    }

    @Override
    public String name() {
        return "snapshotter";
    }

    /** A snapshot is due every {@code everyEvents}: its replica may fall behind by a few milliseconds. */
    @Override
    public Duration catchUpPause() {
        return CATCH_UP_PAUSE;
    }

    @Override
    public long start() throws Exception {
        if (startReplica != null) {
            replica = startReplica;
            startReplica = null;
            lastSnapshotSeq = startSnapshotSeq;
            if (replica.lastSeq() > 0 && startReplicaHash != null) {
                onBatchEnd(replica.lastSeq(), startReplicaHash); // writes one when it is due
            }
            startReplicaHash = null;
        } else {
            replica = startSnapshotSeq == 0 ? store.newBank(idempotencyWindowMicros)
                    : store.read(startSnapshotSeq, idempotencyWindowMicros).bank();
            lastSnapshotSeq = replica.lastSeq();
        }
        return replica.lastSeq();
    }

    /** The history changed: the replica is rebuilt from the whole journal as it is now. */
    @Override
    public void forget() {
        replica = null;
        startReplica = null;
        startReplicaHash = null;
        startSnapshotSeq = 0;
    }

    @Override
    public void onEvent(Recorded recorded) {
        replica.evolve(recorded);
        forgottenInBatch |= recorded.event() instanceof Event.AccountForgotten;
    }

    /**
     * Every {@code everyEvents} events a snapshot, pruned to the newest and a history; and at once
     * after a batch that forgot a holder, when every older snapshot is deleted: they hold the
     * email's keyed digest (DESIGN.md, "Personal data"), and the new one does not. Time travel
     * to before it then replays from further back.
     */
    @Override
    public void onBatchEnd(long lastSeq, byte[] chainHash) {
        boolean erasing = forgottenInBatch || erasingSince > 0;
        forgottenInBatch = false;
        if (!erasing && lastSeq - lastSnapshotSeq < everyEvents) {
            return;
        }
        lastSnapshotSeq = lastSeq;
        try {
            store.write(replica, chainHash);
            snapshotsWritten++;
            if (erasing) {
                store.deleteBefore(lastSeq);
                erasingSince = 0;
            } else {
                store.prune(newestKept, historySpanEvents);
            }
            lastFailure = null;
        } catch (IOException e) {
            // A full disk must not end the replica: the journal holds everything, a start only
            // replays more, and the next interval tries again. The failure shows in health.
            lastFailure = e;
            if (erasing) {
                erasingSince = lastSeq; // tried again at the next batch
            }
            LOG.log(System.Logger.Level.ERROR, "snapshot at seq " + lastSeq + " failed; retrying after "
                    + everyEvents + " more events", e);
        }
    }

    /** The error of the last snapshot attempt, or null when it succeeded (or none was due yet). */
    public IOException lastFailure() {
        return lastFailure;
    }

    /** How many snapshots this snapshotter has written since it started. */
    public long snapshotsWritten() {
        return snapshotsWritten;
    }
}
