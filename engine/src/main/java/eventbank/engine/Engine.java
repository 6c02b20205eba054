package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Decider;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.VerificationCodes;
import eventbank.engine.journal.HighWaterMark;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.SnapshotMismatchException;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.recovery.RecoveryRefusedException;
import eventbank.engine.snapshot.SnapshotCorruptException;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.snapshot.Snapshotter;
import eventbank.engine.subscription.Subscriber;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.write.CommitNotifier;
import eventbank.engine.write.HighWaterMarker;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.Sequencer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The engine assembled: lock the data directory, load the newest snapshot that matches the
 * journal, replay the journal's tail into the write model (moving a torn last write aside),
 * then start the sequencer and the subscribers. Replay only evolves state: it never calls
 * {@code decide}, never mails, never writes.
 */
public final class Engine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

    private final EngineConfig config;
    private final DataDirectoryLock lock;
    private final VerificationCodes codes;
    private final Journal.Recovery recovery;
    /** Written by the sequencer's journal thread only; here it makes the subscriptions' readers. */
    private final Journal journal;
    private final long startSnapshotSeq;
    private final List<String> startWarnings;
    private final Sequencer sequencer;
    private final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    /** Wakes the subscriptions after each commit; started with the sequencer. */
    private final CommitNotifier notifier;
    private final Snapshotter snapshotter;
    /** Writes the journal's high-water mark while the log grows, and at close. */
    private final HighWaterMarker highWaterMarker;

    private Engine(EngineConfig config, DataDirectoryLock lock, VerificationCodes codes, Journal journal,
                   Bank bank, long startSnapshotSeq, List<String> startWarnings, HighWaterMark mark,
                   long markSeq) {
        this.config = config;
        this.lock = lock;
        this.codes = codes;
        this.recovery = journal.recovery();
        this.journal = journal;
        this.startSnapshotSeq = startSnapshotSeq;
        this.startWarnings = List.copyOf(startWarnings);
        // The snapshotter first: it checks its settings, and a refusal must come before the
        // sequencer's threads start (they are not daemons and would keep the JVM alive).
        this.snapshotter = config.snapshotEveryEvents() <= 0 ? null
                : new Snapshotter(new SnapshotStore(config.storage(), config.snapshotDirectory()),
                        startSnapshotSeq, config.snapshotEveryEvents(), config.snapshotsNewestKept(),
                        config.snapshotHistorySpanEvents(), config.idempotencyWindowMicros());
        this.notifier = new CommitNotifier();
        this.sequencer = new Sequencer(bank, new Decider(codes), config.commandPolicy(), journal,
                config.clockMicros(), config.sequencerLimits());
        sequencer.addCommitListener(notifier::committed);
        this.highWaterMarker = new HighWaterMarker(mark,
                () -> sequencer.failure() == null ? sequencer.committedHead() : null, markSeq,
                config.highWaterIntervalMillis()).start();
        if (snapshotter != null) {
            subscribe(snapshotter);
        }
    }

    /** Recovers the state from the data directory and starts taking commands. */
    public static Engine start(EngineConfig config) throws IOException {
        DataDirectoryLock lock = config.lockDataDirectory() ? DataDirectoryLock.acquire(config.dataDirectory()) : null;
        try {
            config.storage().createDirectories(config.dataDirectory());
            byte[] key = config.serverKey() != null ? config.serverKey() : ServerKey.loadOrCreate(config.dataDirectory());
            List<String> warnings = new ArrayList<>();
            // Read before the journal: it decides whether the journal's end may be cut.
            DurableEvidence evidence = DurableEvidence.gather(config.storage(), config.dataDirectory(),
                    config.evidence());
            Recovered recovered = recover(config, evidence, warnings);
            Journal journal = recovered.journal();
            String broken = recovered.bank().checkInvariant();
            if (broken != null) {
                journal.close();
                throw new IllegalStateException("the recovered state breaks the bank's invariant: " + broken);
            }
            HighWaterMark mark = null;
            try {
                // A journal kept elsewhere (a database) makes no journal directory; the mark is
                // kept there all the same.
                config.storage().createDirectories(config.journalDirectory());
                mark = HighWaterMark.open(config.storage(), config.journalDirectory());
                return new Engine(config, lock, new HmacVerificationCodes(key), journal, recovered.bank(),
                        recovered.snapshotSeq(), warnings, mark, evidence.highWaterSeq());
            } catch (IOException | RuntimeException e) {
                journal.close();
                if (mark != null) {
                    mark.close();
                }
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            if (lock != null) {
                lock.close();
            }
            throw e;
        }
    }

    /** The journal opened for writing, the state rebuilt, and the snapshot it started from. */
    private record Recovered(Journal journal, Bank bank, long snapshotSeq) {}

    /**
     * Loads the newest snapshot that matches the journal and replays the journal after it;
     * one that is corrupt or does not match is passed over for an older one, and with none
     * left the whole journal is replayed. The journal's end is judged against {@code evidence}
     * before a torn tail is cut. What was passed over or repaired goes to {@code warnings}.
     */
    private static Recovered recover(EngineConfig config, DurableEvidence evidence, List<String> warnings)
            throws IOException {
        Journal.EndCheck endCheck = (lastSeq, headHash, torn) -> {
            String refusal = evidence.refusal(lastSeq, torn);
            if (refusal != null) {
                throw new RecoveryRefusedException("refusing to start, so that no acknowledged event is dropped"
                        + " and no seq is handed out twice: " + refusal
                        + ". Nothing was changed; see docs/OPERATIONS.md, \"When the start refuses\"");
            }
        };
        SnapshotStore snapshots = new SnapshotStore(config.storage(), config.snapshotDirectory());
        Recovered recovered = null;
        List<Long> seqs = snapshots.seqs();
        for (int i = seqs.size(); i >= 0 && recovered == null; i--) {
            long seq = i == 0 ? 0 : seqs.get(i - 1);
            try {
                SnapshotStore.Loaded loaded = seq == 0 ? null : snapshots.read(seq, config.idempotencyWindowMicros());
                Bank candidate = loaded == null ? new Bank(config.idempotencyWindowMicros()) : loaded.bank();
                Journal journal = config.openJournal(seq, loaded == null ? null : loaded.chainHash(),
                        batch -> {
                            evidence.observe(batch.header().firstSeq(), batch.header().lastSeq(),
                                    batch.header().chainHash());
                            replay(candidate, batch);
                        }, endCheck);
                recovered = new Recovered(journal, candidate, seq);
            } catch (SnapshotMismatchException | SnapshotCorruptException e) {
                warnings.add(e.getMessage());
                LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; trying an older snapshot");
            }
        }
        for (String unreadable : evidence.unreadable()) {
            String message = "evidence of committed events cannot be read (the journal ended cleanly, so it was"
                    + " not needed): " + unreadable;
            warnings.add(message);
            LOG.log(System.Logger.Level.WARNING, message);
        }
        Journal.Recovery recovery = recovered.journal().recovery();
        if (recovery.tornTail() != null) {
            String message = "torn write at the end of the journal moved to " + recovery.quarantineFile()
                    + ": " + recovery.tornTail();
            warnings.add(message);
            LOG.log(System.Logger.Level.WARNING, message);
        }
        return recovered;
    }

    private static void replay(Bank bank, JournalReader.Batch batch) {
        long after = bank.lastSeq();
        batch.forEach(recorded -> {
            if (recorded.seq() > after) {
                bank.evolve(recorded);
            }
        });
    }

    public CompletableFuture<Outcome> submit(Command command) {
        return sequencer.submit(command);
    }

    /** The seq of the last durable event. */
    public long committedSeq() {
        return sequencer.committedSeq();
    }

    /** The last durable seq and the chain hash after it. */
    public Sequencer.Head committedHead() {
        return sequencer.committedHead();
    }

    public Sequencer sequencer() {
        return sequencer;
    }

    public EngineConfig config() {
        return config;
    }

    public VerificationCodes verificationCodes() {
        return codes;
    }

    /** What recovery found at start: the head and any torn tail quarantined. */
    public Journal.Recovery recovery() {
        return recovery;
    }

    /** The seq of the snapshot the start began from; 0 for a full replay. */
    public long startSnapshotSeq() {
        return startSnapshotSeq;
    }

    /** What start passed over or repaired: corrupt snapshots, a quarantined tail. */
    public List<String> startWarnings() {
        return startWarnings;
    }

    public Snapshotter snapshotter() {
        return snapshotter;
    }

    /** Starts a subscriber on its own thread, following the committed log from its checkpoint. */
    public Subscription subscribe(Subscriber subscriber) {
        Subscription subscription = new Subscription(subscriber, journal.newReader(), sequencer::committedSeq);
        subscriptions.add(subscription);
        notifier.add(subscription::committed);
        return subscription.start();
    }

    /**
     * What an operator must know now: whether the engine still takes writes (false once the
     * journal failed: fail-stop), and every problem of the journal, the subscribers and the
     * snapshotter, one sentence each.
     */
    public record Health(boolean writable, long committedSeq, List<String> problems) {}

    public Health health() {
        List<String> problems = new ArrayList<>();
        Throwable failure = sequencer.failure();
        if (failure != null) {
            problems.add("the journal failed and the engine takes no more writes until it restarts: " + failure);
        }
        for (Subscription subscription : subscriptions) {
            if (subscription.failure() != null) {
                problems.add("subscriber " + subscription.name() + " stopped: " + subscription.failure());
            }
        }
        if (highWaterMarker.lastFailure() != null) {
            problems.add("the journal's high-water mark cannot be written (the journal is intact; a damaged last"
                    + " batch could not be told from a torn write): " + highWaterMarker.lastFailure());
        }
        if (snapshotter != null && snapshotter.lastFailure() != null) {
            problems.add("the last snapshot failed (the journal is intact; starts replay more): "
                    + snapshotter.lastFailure());
        }
        return new Health(failure == null, sequencer.committedSeq(), List.copyOf(problems));
    }

    public List<Subscription> subscriptions() {
        return List.copyOf(subscriptions);
    }

    /** Finishes the commands already queued, stops the subscribers and releases the data directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            sequencer.close();
            highWaterMarker.close(); // after the sequencer: the mark then proves every batch
            notifier.close();
            for (Subscription subscription : subscriptions) {
                subscription.close();
            }
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }
}
