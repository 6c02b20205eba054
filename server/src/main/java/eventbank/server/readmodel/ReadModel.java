package eventbank.server.readmodel;

import eventbank.core.Recorded;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.engine.subscription.Subscriber;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A view of the committed log for queries. It follows the journal on its subscription's thread
 * and starts from its checkpoint ({@link Checkpoints}, {@link ModelCheckpoint}), or from the
 * first event when it has none or keeps none, so it is never ahead of the journal: it holds
 * only durable events (DESIGN.md, "Nobody sees what a crash could lose"). Its queries may be
 * called from any thread while it is being written.
 *
 * <p>A model that keeps checkpoints writes its state ({@link #writeState}) at the end of a
 * batch, every {@link Checkpoints#everyEvents()} events or after {@link
 * Checkpoints#INTERVAL_NANOS} with something new, and when its subscription stops; the state
 * and the seq it describes are one file, replaced atomically. A checkpoint that cannot be used
 * is set aside, loudly, and the model rebuilt from seq 0.
 */
public abstract class ReadModel implements Subscriber {
    private static final Logger LOG = LoggerFactory.getLogger(ReadModel.class);

    /** The seq applied so far; a subclass advances it per event, as its readers may see it. */
    final AppliedSeq applied = new AppliedSeq();
    /** Null for a model that lives in memory only and is rebuilt from seq 0 at every start. */
    private final Checkpoints checkpoints;
    private ModelCheckpoint checkpoint;
    /** The load of the checkpoint {@link #preload} started, until {@link #start} takes it. */
    private volatile FutureTask<Loading> preloading;
    private volatile long restoredSeq;
    private volatile String restoreProblem;
    private volatile long checkpointSeq;
    private long checkpointNanos;
    /** The last batch erased personal data: checkpoint at its end ({@link #eraseAtBatchEnd}). */
    private boolean erasing;
    /** The end of the last batch applied, and the journal's chain hash there: what a stop checkpoints. */
    private long lastBatchSeq;
    private byte[] lastBatchHash;

    /** A model that lives in memory only: rebuilt from the whole journal at every start. */
    ReadModel() {
        this(null);
    }

    /** A model that keeps checkpoints as {@code checkpoints} says; null for none. */
    ReadModel(Checkpoints checkpoints) {
        this.checkpoints = checkpoints;
    }

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
     * Starts loading the model's checkpoint on a thread of its own, before the subscription
     * starts: a server calls this before the engine recovers, so that the two overlap, and
     * {@link #start} then waits for the load and checks it against the journal (which needs the
     * recovered engine). Nothing for a model that keeps no checkpoint, or whose start began.
     */
    public final void preload() {
        if (checkpoints == null || preloading != null) {
            return;
        }
        FutureTask<Loading> task = new FutureTask<>(this::load);
        preloading = task;
        Thread.ofPlatform().daemon().name("eventbank-load-" + name()).start(task);
    }

    /** A load of the checkpoint ({@link ModelCheckpoint#load}): what it named, or why it cannot be used, and what it took. */
    private record Loading(ModelCheckpoint.Loaded loaded, IOException problem, long nanos, long cpuNanos) {}

    private Loading load() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long began = System.nanoTime();
        long cpuBefore = threads.getCurrentThreadCpuTime();
        ModelCheckpoint.Loaded loaded = null;
        IOException problem = null;
        try {
            loaded = checkpoint().load(this::readState);
        } catch (IOException e) {
            problem = e;
        }
        return new Loading(loaded, problem, System.nanoTime() - began, threads.getCurrentThreadCpuTime() - cpuBefore);
    }

    private ModelCheckpoint checkpoint() {
        return new ModelCheckpoint(checkpoints.storage(), checkpoints.dataDirectory(), name(), checkpointFormat(),
                checkpoints.journal());
    }

    /** The load {@link #preload} started, or one made now on this thread; taken once. */
    private Loading loading() {
        FutureTask<Loading> task = preloading;
        preloading = null;
        if (task == null) {
            return load();
        }
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name() + ": interrupted while its checkpoint was being loaded", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(name() + ": its checkpoint's load failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Loads the model's checkpoint (or takes {@link #preload}'s load), checks it against the
     * journal, and answers its seq; 0 when it starts from nothing and is rebuilt from the whole
     * journal. Called once, before any event. A checkpoint that cannot be used is no error: it
     * is set aside, and the model is rebuilt from seq 0 instead.
     */
    private long restore() {
        if (checkpoints == null) {
            return 0;
        }
        checkpoint = checkpoint();
        Loading loading = loading();
        checkpointNanos = System.nanoTime();
        try {
            if (loading.problem() != null) {
                throw loading.problem();
            }
            long seq = 0;
            if (loading.loaded() != null) {
                checkpoint.check(loading.loaded(), checkpoints.committedSeq().getAsLong());
                seq = loading.loaded().seq();
            }
            LOG.info("{}: {} in {} ms ({} ms of CPU)", name(), seq == 0 ? "no checkpoint, rebuilt from the whole journal"
                    : "restored its checkpoint at seq " + seq, loading.nanos() / 1_000_000,
                    loading.cpuNanos() / 1_000_000);
            restoredSeq = seq;
            checkpointSeq = seq;
            lastBatchSeq = seq;
            return seq;
        } catch (IOException e) {
            restoreProblem = e.getMessage();
            LOG.warn("{}: {}; the checkpoint is set aside and the model rebuilt from the whole journal", name(),
                    e.getMessage());
            clear();
            try {
                checkpoint.setAside();
            } catch (IOException notMoved) {
                LOG.warn("{}: the unusable checkpoint could not be set aside: {}", name(), notMoved.toString());
            }
            return 0;
        }
    }

    /** The version of this model's checkpoint payload: a checkpoint of another is rebuilt from seq 0. */
    int checkpointFormat() {
        throw new UnsupportedOperationException(name() + " keeps no checkpoint");
    }

    /**
     * Writes the model's whole state as of the last batch ended, on the subscription's thread
     * (the only writer, so the state is read without a lock).
     */
    void writeState(ModelCheckpoint.Output output) throws IOException {
        throw new UnsupportedOperationException(name() + " keeps no checkpoint");
    }

    /**
     * Loads what {@link #writeState} wrote, into a model that holds nothing yet; on a failure
     * the caller {@link #clear clears} what was loaded.
     */
    void readState(ModelCheckpoint.Input input) throws IOException {
        throw new UnsupportedOperationException(name() + " keeps no checkpoint");
    }

    /** Applies the next committed event; a model throws only for a broken invariant, never checked. */
    @Override
    public abstract void onEvent(Recorded recorded);

    /**
     * Applies the batch's events at {@code from} to before {@code to}, in order, as {@link
     * #onEvent} would one by one: {@link ReadModelFeed}'s way in. A model that locks per event
     * for its queries (accounts, reports) takes its lock once for the run instead, and a model
     * finds the accounts by the indexes the batch holds when it is {@link FeedBatch#resolved}.
     */
    void onEvents(FeedBatch batch, int from, int to) {
        for (int index = from; index < to; index++) {
            onEvent(batch.event(index));
        }
    }

    @Override
    public final void onBatchEnd(long lastSeq, byte[] chainHash) throws Exception {
        batchEnded(lastSeq);
        applied.batchEnded(lastSeq);
        lastBatchSeq = lastSeq;
        lastBatchHash = chainHash;
        long sinceCheckpoint = lastSeq - checkpointSeq;
        if (checkpoint != null && (erasing || sinceCheckpoint >= checkpoints.everyEvents()
                || System.nanoTime() - checkpointNanos >= Checkpoints.INTERVAL_NANOS)) {
            writeCheckpoint();
            if (erasing && checkpointSeq == lastSeq) {
                erasing = false;
                checkpoint.deleteSetAside();
            }
        }
    }

    /**
     * The batch applied data that must leave the disk (a forgotten holder's, DESIGN.md "Personal
     * data"): the checkpoint is written again at its end, not in a minute, and a checkpoint set
     * aside as unusable, which may hold it too, is deleted. Until the write succeeds, every batch
     * end tries again.
     */
    void eraseAtBatchEnd() {
        erasing = true;
    }

    /** The subscription stops: a checkpoint of everything applied, so that the next start replays nothing. */
    @Override
    public final void stopped() {
        if (checkpoint != null) {
            writeCheckpoint();
        }
    }

    /**
     * Writes the checkpoint at the last batch's end, when it has something new. A failed write
     * is logged and tried again at a later batch: the journal is intact, and a start only
     * replays more.
     */
    private void writeCheckpoint() {
        checkpointNanos = System.nanoTime();
        if (lastBatchSeq == checkpointSeq || lastBatchHash == null) {
            return;
        }
        try {
            checkpoint.write(lastBatchSeq, lastBatchHash, this::writeState);
            checkpointSeq = lastBatchSeq;
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: the checkpoint at seq {} could not be written (the next start replays more): {}", name(),
                    lastBatchSeq, e.toString());
        }
    }

    /**
     * Drops every event applied, so that the model is rebuilt from the journal's history as it
     * is now; queries meanwhile see it as it fills again, and {@link #awaitSeq} waits for it.
     */
    @Override
    public final void forget() {
        clear();
        applied.forget();
        restoredSeq = 0;
        checkpointSeq = 0;
        lastBatchSeq = 0;
        lastBatchHash = null;
    }

    /** Drops what the model holds; called while no event is being applied. */
    abstract void clear();

    /**
     * The batch's events have all been applied: the moment for a model's per-batch work (to
     * publish what it wrote), before waiters are woken to read it.
     */
    void batchEnded(long lastSeq) throws IOException {}

    /** The seq of the checkpoint this model started from; 0 when it was rebuilt from the whole journal. */
    public final long restoredSeq() {
        return restoredSeq;
    }

    /** Why the checkpoint was not used at start, or null. */
    public final String restoreProblem() {
        return restoreProblem;
    }

    /** The seq of the checkpoint written last (or started from); 0 for none. */
    public final long checkpointSeq() {
        return checkpointSeq;
    }

    /** The checkpoint of the model named {@code model} as durable proof of a committed seq ({@code DurableEvidence}). */
    static DurableEvidence.Source evidence(Storage storage, Path dataDirectory, String model) {
        return new ModelCheckpoint(storage, dataDirectory, model, 0, () -> {
            throw new UnsupportedOperationException("evidence reads the header only");
        })::claim;
    }

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
