package eventbank.server.readmodel;

import eventbank.core.Recorded;
import eventbank.engine.subscription.Subscriber;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds several read models from one subscription: each committed batch is read from the journal
 * and decoded once, and applied to each model in turn, on one thread. One subscription per
 * model read and decoded every batch once per model; that took most of the read side's CPU
 * (BENCHMARKS.md, "Issue 15, first step"). A server feeds all four through one
 * ({@link ReadModels#subscribers}).
 *
 * <p>Each model still keeps its own applied seq, and a query waits on its own model's
 * ({@link ReadModel#awaitSeq}): a model that restored a checkpoint starts ahead of the others
 * and is handed only the events after it, while the feed reads from the least advanced model's
 * seq. A model that fails stops the feed, and so every model: the failure names the model, and
 * the feed's subscription reports it in the engine's health.
 *
 * <p>The accounts model, when the feed has one, applies each batch first and resolves the
 * accounts each event names to their index ({@link FeedBatch}): the other models then find
 * their accounts by that index instead of looking each up by number.
 */
public final class ReadModelFeed implements Subscriber {
    private static final Logger LOG = LoggerFactory.getLogger(ReadModelFeed.class);
    /**
     * The most events a model applies in one run ({@link ReadModel#onEvents}), so under one hold
     * of its lock: a query waits for at most that many before it gets in.
     */
    public static final int EVENTS_PER_RUN_MAX = 256;

    /** The accounts model first, when there is one: it resolves the batch's accounts for the others. */
    private final ReadModel[] models;
    /** The accounts model, or null: then each model looks its accounts up itself. */
    private final AccountsReadModel accounts;
    /** The current batch's events, decoded once, until its end; the subscription thread's only. */
    private final FeedBatch batch = new FeedBatch();
    /** The seq each model started from, by index in {@link #models}; the subscription thread's only. */
    private final long[] startedAt;

    public ReadModelFeed(List<? extends ReadModel> models) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("a feed needs a read model");
        }
        List<ReadModel> ordered = new ArrayList<>(models);
        AccountsReadModel found = null;
        for (ReadModel model : models) {
            if (model instanceof AccountsReadModel accountsModel) {
                if (found != null) {
                    throw new IllegalArgumentException("a feed feeds one accounts model");
                }
                found = accountsModel;
            }
        }
        if (found != null) {
            ordered.remove(found);
            ordered.addFirst(found);
        }
        this.accounts = found;
        this.models = ordered.toArray(ReadModel[]::new);
        this.startedAt = new long[this.models.length];
    }

    @Override
    public String name() {
        return "read-models";
    }

    /**
     * Starts every model, each on a thread of its own (this one for the first), and answers the
     * least seq among theirs: the feed reads on from there. The models restore their checkpoints
     * side by side: one after the other, a restart of a million accounts waited for the sum of
     * their loads, while a core was left idle.
     */
    @Override
    public long start() throws InterruptedException {
        batch.clear();
        Throwable[] failures = new Throwable[models.length];
        Thread[] helpers = new Thread[models.length - 1];
        for (int index = 1; index < models.length; index++) {
            int which = index;
            helpers[index - 1] = Thread.ofPlatform().daemon().name("eventbank-restore-" + models[index].name())
                    .start(() -> startModel(which, failures));
        }
        startModel(0, failures);
        for (Thread helper : helpers) {
            helper.join();
        }
        long from = Long.MAX_VALUE;
        for (int index = 0; index < models.length; index++) {
            switch (failures[index]) {
                case null -> { }
                case RuntimeException e -> throw failed(models[index], e);
                case Error e -> throw e;
                default -> throw new IllegalStateException("a model's start threw " + failures[index]);
            }
            from = Math.min(from, startedAt[index]);
        }
        LOG.info("every read model started, {} ms after the JVM started; reading the journal after seq {}",
                ManagementFactory.getRuntimeMXBean().getUptime(), from);
        return from;
    }

    /** Starts one model, keeping its failure for {@link #start} to report. */
    private void startModel(int index, Throwable[] failures) {
        try {
            startedAt[index] = models[index].start();
        } catch (RuntimeException | Error e) {
            failures[index] = e;
        }
    }

    /** Keeps the event until its batch ends: the models apply a batch at its end. */
    @Override
    public void onEvent(Recorded recorded) {
        batch.add(recorded);
    }

    /**
     * Applies the batch to each model in turn, the whole batch to one model before the next (its
     * state stays in the cache for the batch, instead of the models' taking turns per event),
     * in runs of up to {@link #EVENTS_PER_RUN_MAX}; then ends the batch for each model that was
     * handed its events (not one that started after it). A model's queries see its events at
     * the batch's end, when its waiters are woken in any case. The accounts model goes first and
     * resolves the batch's accounts for the others (those of events it had applied before, from
     * its checkpoint, it looks up).
     */
    @Override
    public void onBatchEnd(long lastSeq, byte[] chainHash) {
        try {
            for (int index = 0; index < models.length; index++) {
                ReadModel model = models[index];
                try {
                    int applied = apply(model, startedAt[index]);
                    if (model == accounts) {
                        accounts.resolve(batch, 0, applied);
                        batch.resolvedAll();
                    }
                    if (lastSeq >= startedAt[index]) {
                        model.onBatchEnd(lastSeq, chainHash);
                    }
                } catch (Exception e) {
                    throw failed(model, e);
                }
            }
        } finally {
            batch.clear();
        }
    }

    /** A model's failure, named: the engine's health shows the feed's, and the feed feeds several. */
    private static IllegalStateException failed(ReadModel model, Exception e) {
        return new IllegalStateException("read model " + model.name() + " failed: " + e, e);
    }

    /** Hands the model the batch's events after the seq it started from; answers where they began. */
    private int apply(ReadModel model, long startedAt) {
        int first = 0;
        while (first < batch.size() && batch.seq(first) <= startedAt) {
            first++;
        }
        for (int from = first; from < batch.size(); ) {
            int to = Math.min(batch.size(), from + EVENTS_PER_RUN_MAX);
            model.onEvents(batch, from, to);
            from = to;
        }
        return first;
    }

    /** Each model saves its state; one that fails is named and does not keep the others from theirs. */
    @Override
    public void stopped() {
        for (ReadModel model : models) {
            model.stopped();
        }
    }

    /** The first model's problem, or null. */
    @Override
    public String problem() {
        for (ReadModel model : models) {
            String problem = model.problem();
            if (problem != null) {
                return model.name() + ": " + problem;
            }
        }
        return null;
    }

    /** Every model forgets what it applied; {@link #start} starts them all again. */
    @Override
    public void forget() {
        batch.clear();
        for (ReadModel model : models) {
            model.forget();
        }
    }
}
