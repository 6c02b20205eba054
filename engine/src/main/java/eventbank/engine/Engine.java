package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Decider;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.VerificationCodes;
import eventbank.engine.cluster.ClusterNode;
import eventbank.engine.cluster.Leadership;
import eventbank.engine.journal.FileJournalSource;
import eventbank.engine.journal.HighWaterMark;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.journal.SnapshotMismatchException;
import eventbank.engine.keys.PersonalKeys;
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
import eventbank.engine.write.SequencerStatistics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The engine assembled: lock the data directory, load the newest snapshot that matches the
 * journal, replay the journal's tail into the write model (moving a torn last write aside),
 * then start the sequencer and the subscribers. Replay only evolves state: it never calls
 * {@code decide}, never mails, never writes.
 *
 * <p>With a journal that several nodes share ({@link EngineConfig#cluster()}), a {@link
 * ClusterNode} does the rebuilding and follows the journal, and the engine has a sequencer only
 * while the node leads: commands answer {@code not_leader} otherwise, and the committed seq the
 * subscriptions follow is the node's.
 */
public final class Engine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

    private final EngineConfig config;
    private final DataDirectoryLock lock;
    private final VerificationCodes codes;
    /** The snapshots, under the bank's email digest key: every bank the engine keeps uses the same. */
    private final SnapshotStore snapshots;
    /** The data keys openings are sealed under (a file, or a cluster's table); null when they are recorded in plain text. */
    private final PersonalKeys personalKeys;
    private final Journal.Recovery recovery;
    /** Makes the subscriptions' readers: of this node's journal, or of the shared one. */
    private final Supplier<Journal.Reader> readers;
    private final long startSnapshotSeq;
    private final List<String> startWarnings;
    /** Every term's counts, whichever sequencer wrote them. */
    private final SequencerStatistics statistics = new SequencerStatistics();
    /** With a journal of this node's own: its sequencer for life. Null in a cluster (see {@link #node}). */
    private final Sequencer ownSequencer;
    /** In a cluster: the node, whose sequencer takes the commands while it leads. Else null. */
    private final ClusterNode node;
    private final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    /** Wakes the subscriptions after each commit; started with the sequencer. */
    private final CommitNotifier notifier;
    private final Snapshotter snapshotter;
    /** Writes the journal's high-water mark while the log grows, and at close; null in a cluster. */
    private final HighWaterMarker highWaterMarker;

    private Engine(EngineConfig config, DataDirectoryLock lock, VerificationCodes codes, SnapshotStore snapshots,
                   PersonalKeys personalKeys, Journal journal, Bank bank, long startSnapshotSeq,
                   List<String> startWarnings, HighWaterMark mark, long markSeq) {
        this.config = config;
        this.lock = lock;
        this.codes = codes;
        this.snapshots = snapshots;
        this.personalKeys = personalKeys;
        this.recovery = journal.recovery();
        this.readers = journal::newReader;
        this.startSnapshotSeq = startSnapshotSeq;
        this.startWarnings = List.copyOf(startWarnings);
        // The snapshotter first: it checks its settings, and a refusal must come before the
        // sequencer's threads start (they are not daemons and would keep the JVM alive).
        // Its replica is a copy of the recovered state, taken before the sequencer changes it.
        this.snapshotter = config.snapshotEveryEvents() <= 0 ? null
                : new Snapshotter(snapshots, bank.copy(), journal.recovery().headHash(), startSnapshotSeq,
                        config.snapshotEveryEvents(),
                        config.snapshotsNewestKept(), config.snapshotHistorySpanEvents(),
                        config.idempotencyWindowMicros());
        this.notifier = new CommitNotifier();
        this.node = null;
        Sequencer sequencer = newSequencer(bank, journal);
        this.ownSequencer = sequencer;
        this.highWaterMarker = new HighWaterMarker(mark,
                () -> sequencer.failure() == null ? sequencer.committedHead() : null, markSeq,
                config.highWaterIntervalMillis()).start();
        if (snapshotter != null) {
            subscribe(snapshotter);
        }
    }

    /** A node of a cluster: the node rebuilds the state and follows the journal; it leads when it may. */
    private Engine(EngineConfig config, DataDirectoryLock lock, VerificationCodes codes, SnapshotStore snapshots,
                   PersonalKeys personalKeys) throws IOException {
        this.config = config;
        this.lock = lock;
        this.codes = codes;
        this.snapshots = snapshots;
        this.personalKeys = personalKeys;
        EngineConfig.Cluster cluster = config.cluster();
        this.readers = cluster.journal()::newReader;
        this.startWarnings = List.of();
        this.ownSequencer = null;
        this.highWaterMarker = null;
        this.notifier = new CommitNotifier();
        try {
            this.node = ClusterNode.start(cluster.journal(), snapshots, cluster.node(), new ClusterNode.Host() {
                @Override
                public Sequencer lead(Bank bank, Journal journal, long epoch) {
                    if (personalKeys != null && sealsPersonalData(config)) {
                        personalKeys.leadAt(epoch);
                        eraseForgottenQuietly(bank, personalKeys);
                    }
                    return newSequencer(bank, journal);
                }

                @Override
                public void followed(long seq) {
                    notifier.committed(seq);
                }

                @Override
                public void diverged() {
                    for (Subscription subscription : subscriptions) {
                        try {
                            subscription.restart();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            }, personalKeys);
        } catch (IOException | RuntimeException e) {
            closeQuietly(notifier);
            throw e;
        }
        Sequencer.Head head = node.committedHead();
        this.recovery = new Journal.Recovery(head.seq(), head.hash(), null, null);
        // The snapshots continue from the one the node rebuilt from: on the journal's history,
        // where a newer local one may not be (a failover lost what it holds).
        this.startSnapshotSeq = node.rebuiltFromSnapshot();
        this.snapshotter = snapshotterOf(config, snapshots, startSnapshotSeq);
        if (snapshotter != null) {
            subscribe(snapshotter);
        }
    }

    private static Snapshotter snapshotterOf(EngineConfig config, SnapshotStore snapshots, long startSnapshotSeq) {
        return config.snapshotEveryEvents() <= 0 ? null
                : new Snapshotter(snapshots,
                        startSnapshotSeq, config.snapshotEveryEvents(), config.snapshotsNewestKept(),
                        config.snapshotHistorySpanEvents(), config.idempotencyWindowMicros());
    }

    /** A sequencer on {@code bank} and {@code journal}, whose commits wake the subscriptions. */
    private Sequencer newSequencer(Bank bank, Journal journal) {
        Sequencer sequencer = new Sequencer(bank, sealsPersonalData(config) ? personalKeys : null, new Decider(codes),
                config.commandPolicy(), journal,
                config.clockMicros(), config.sequencerLimits(), statistics);
        sequencer.addCommitListener(notifier::committed);
        return sequencer;
    }

    private static void closeQuietly(CommitNotifier notifier) {
        try {
            notifier.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Recovers the state from the data directory and starts taking commands. */
    public static Engine start(EngineConfig config) throws IOException {
        DataDirectoryLock lock = config.lockDataDirectory() ? DataDirectoryLock.acquire(config.dataDirectory()) : null;
        PersonalKeys keys = null;
        try {
            config.storage().createDirectories(config.dataDirectory());
            byte[] key = config.serverKey() != null ? config.serverKey() : ServerKey.loadOrCreate(config.dataDirectory());
            keys = openPersonalKeys(config);
            SnapshotStore snapshots = new SnapshotStore(config.storage(), config.snapshotDirectory(),
                    keys != null ? keys.emailDigests() : ServerKey.emailDigests(key));
            if (config.cluster() != null) {
                return new Engine(config, lock, new HmacVerificationCodes(key), snapshots, keys);
            }
            List<String> warnings = new ArrayList<>();
            // Read before the journal: it decides whether the journal's end may be cut.
            DurableEvidence evidence = DurableEvidence.gather(config.storage(), config.dataDirectory(),
                    config.evidence());
            Recovered recovered = recover(config, snapshots, keys, evidence, warnings);
            Journal journal = recovered.journal();
            String broken = recovered.bank().checkInvariant();
            if (broken != null) {
                journal.close();
                throw new IllegalStateException("the recovered state breaks the bank's invariant: " + broken);
            }
            if (keys != null) {
                eraseForgotten(recovered.bank(), keys, warnings);
            }
            long startSnapshotSeq = recovered.snapshotSeq();
            if (recovered.snapshotOfAnotherKey() && recovered.bank().lastSeq() > 0) {
                // Once, after an upgrade: a snapshot under this key now, so that the next start
                // does not replay the whole journal again, and the old ones (format 1 kept unkeyed
                // digests of emails) are deleted.
                snapshots.write(recovered.bank(), journal.headHash());
                snapshots.prune(config.snapshotsNewestKept(), config.snapshotHistorySpanEvents());
                startSnapshotSeq = recovered.bank().lastSeq();
            }
            HighWaterMark mark = null;
            try {
                // A journal kept elsewhere (a database) makes no journal directory; the mark is
                // kept there all the same.
                config.storage().createDirectories(config.journalDirectory());
                mark = HighWaterMark.open(config.storage(), config.journalDirectory());
                return new Engine(config, lock, new HmacVerificationCodes(key), snapshots, keys, journal,
                        recovered.bank(), startSnapshotSeq, warnings, mark, evidence.highWaterSeq());
            } catch (IOException | RuntimeException e) {
                journal.close();
                if (mark != null) {
                    mark.close();
                }
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            if (keys != null) {
                keys.close();
            }
            if (lock != null) {
                lock.close();
            }
            throw e;
        }
    }

    /**
     * The key store: the file in the data directory, or in a cluster the table beside the journal
     * (made by the first writer node). Without one (a journal in a database of a test, a cluster
     * whose server gives no table), openings are recorded in plain text and cannot be forgotten;
     * a key store in the data directory is read all the same, for the fields sealed before.
     */
    private static PersonalKeys openPersonalKeys(EngineConfig config) throws IOException {
        EngineConfig.Cluster cluster = config.cluster();
        if (cluster != null && cluster.keys() != null) {
            Path kekFile = config.kekFile() != null ? config.kekFile() : PersonalKeys.defaultKekFile(config.dataDirectory());
            boolean seals = sealsPersonalData(config);
            if (!seals && cluster.keys().header() == null) {
                cluster.keys().close();
                return null; // nothing sealed there, and this node seals nothing
            }
            return PersonalKeys.open(cluster.keys(), kekFile, seals && cluster.node().mayLead());
        }
        boolean seals = sealsPersonalData(config);
        return seals || config.lockDataDirectory() && Files.exists(PersonalKeys.storeFile(config.dataDirectory()))
                ? PersonalKeys.open(config.dataDirectory(), config.kekFile(), seals) : null;
    }

    /**
     * A new leader's part of the same: the keys of forgotten holders that the last leader did not
     * erase (it stopped in between) are erased before it takes commands. A failure is logged; the
     * next leader tries again.
     */
    private static void eraseForgottenQuietly(Bank bank, PersonalKeys keys) {
        try {
            eraseForgotten(bank, keys, new ArrayList<>());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "the keys of forgotten holders could not be checked now; the next"
                    + " leader erases any left", e);
        }
    }

    /**
     * Finishes the forgetting a crash interrupted: the key of every forgotten holder is erased
     * (the sequencer erases it once the AccountForgotten is durable, so a crash in between leaves
     * it). Said in the start's warnings.
     */
    private static void eraseForgotten(Bank bank, PersonalKeys keys, List<String> warnings) throws IOException {
        IOException failed = null;
        for (long account : bank.forgottenAccounts()) {
            int slot = bank.ordinalOf(account);
            try {
                if (!keys.isErased(slot, account)) {
                    keys.erase(slot, account);
                    String message = "the key of forgotten account " + account + " was still in the key store (the"
                            + " server stopped before erasing it); erased now";
                    warnings.add(message);
                    LOG.log(System.Logger.Level.WARNING, message);
                }
            } catch (IOException e) {
                // The others are erased all the same; this one stops the start (or is logged by a new leader).
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Whether openings are sealed: on the file journal, in a real data directory (one the engine
     * locks). A test's storage that simulates a disk in memory has no place for the key store,
     * which lives in files of its own; a journal in a database would keep its keys in a table.
     */
    private static boolean sealsPersonalData(EngineConfig config) {
        if (!config.sealPersonalData()) {
            return false;
        }
        if (config.cluster() != null) {
            return config.cluster().keys() != null;
        }
        return config.lockDataDirectory() && config.journalOpener() == null;
    }

    /**
     * The journal opened for writing, the state rebuilt, the snapshot it started from, and whether
     * a snapshot was passed over for its email digests' key (an older format's, or another key's).
     */
    private record Recovered(Journal journal, Bank bank, long snapshotSeq, boolean snapshotOfAnotherKey) {}

    /**
     * Loads the newest snapshot that matches the journal and replays the journal after it;
     * one that is corrupt or does not match is passed over for an older one, and with none
     * left the whole journal is replayed. The journal's end is judged against {@code evidence}
     * before a torn tail is cut. What was passed over or repaired goes to {@code warnings}.
     */
    private static Recovered recover(EngineConfig config, SnapshotStore snapshots, PersonalKeys keys,
                                     DurableEvidence evidence, List<String> warnings) throws IOException {
        Journal.EndCheck endCheck = (lastSeq, headHash, torn) -> {
            String refusal = evidence.refusal(lastSeq, torn);
            if (refusal != null) {
                throw new RecoveryRefusedException("refusing to start, so that no acknowledged event is dropped"
                        + " and no seq is handed out twice: " + refusal
                        + ". Nothing was changed; see docs/OPERATIONS.md, \"When the start refuses\"");
            }
        };
        Recovered recovered = null;
        boolean anotherKey = false;
        List<Long> seqs = snapshots.seqs();
        for (int i = seqs.size(); i >= 0 && recovered == null; i--) {
            long seq = i == 0 ? 0 : seqs.get(i - 1);
            try {
                long began = System.nanoTime();
                SnapshotStore.Loaded loaded = seq == 0 ? null : snapshots.read(seq, config.idempotencyWindowMicros());
                if (loaded != null && !loaded.sameDigestKey()) {
                    anotherKey = true;
                    throw new SnapshotCorruptException(snapshots.pathOf(seq), "its email digests are not under this"
                            + " bank's digest key (an older format's unkeyed ones, or another key's); the journal is"
                            + " replayed instead, and the next snapshot replaces it");
                }
                Bank candidate = loaded == null ? snapshots.newBank(config.idempotencyWindowMicros()) : loaded.bank();
                long snapshotRead = System.nanoTime();
                Journal journal = config.openJournal(seq, loaded == null ? null : loaded.chainHash(),
                        batch -> {
                            evidence.observe(batch.header().firstSeq(), batch.header().lastSeq(),
                                    batch.header().chainHash());
                            replay(candidate, batch, keys);
                        }, endCheck);
                recovered = new Recovered(journal, candidate, seq, anotherKey);
                LOG.log(System.Logger.Level.INFO, "recovered the state at seq " + candidate.lastSeq()
                        + (seq == 0 ? " from the whole journal" : " from the snapshot at seq " + seq + " (read in "
                        + millisBetween(began, snapshotRead) + " ms) and the journal after it") + " in "
                        + millisBetween(began, System.nanoTime()) + " ms");
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

    private static long millisBetween(long startNanos, long endNanos) {
        return (endNanos - startNanos) / 1_000_000;
    }

    private static void replay(Bank bank, JournalReader.Batch batch, PersonalKeys keys) {
        long after = bank.lastSeq();
        batch.forEach(keys, recorded -> {
            if (recorded.seq() > after) {
                bank.evolve(recorded);
            }
        });
    }

    /**
     * Hands the command to the sequencer; in a cluster, on a node that does not lead, answers
     * at once {@code not_leader}.
     */
    public CompletableFuture<Outcome> submit(Command command) {
        Sequencer sequencer = sequencer();
        if (sequencer == null) {
            return CompletableFuture.completedFuture(new Outcome.Unavailable(Outcome.Failure.NOT_LEADER,
                    "This node does not lead; send commands to the leader."));
        }
        return sequencer.submit(command);
    }

    /** The seq of the last durable event: in a cluster, the last this node may show. */
    public long committedSeq() {
        return node != null ? node.committedSeq() : ownSequencer.committedSeq();
    }

    /** The last durable seq and the chain hash after it. */
    public Sequencer.Head committedHead() {
        return node != null ? node.committedHead() : ownSequencer.committedHead();
    }

    /** The sequencer taking commands; in a cluster, null while this node does not lead. */
    public Sequencer sequencer() {
        return node != null ? node.sequencer() : ownSequencer;
    }

    /** The counts of every sequencer this engine ran. */
    public SequencerStatistics statistics() {
        return statistics;
    }

    /** This node of a cluster, or null with a journal of its own. */
    public ClusterNode node() {
        return node;
    }

    /** Whether this node leads, for the outbox: always with a journal of its own. */
    public Leadership leadership() {
        return node != null ? node : Leadership.ALONE;
    }

    /**
     * What stopped the engine for good: the journal's failure (fail-stop) with a journal of its
     * own; in a cluster, only what stopped the node (a leader fenced out steps down instead).
     */
    public Throwable failure() {
        return node != null ? node.failure() : ownSequencer.failure();
    }

    public EngineConfig config() {
        return config;
    }

    /**
     * The data keys openings are sealed under (DESIGN.md, "Personal data"), to open them and to
     * erase a forgotten holder's; null when openings are recorded in plain text (a cluster node).
     */
    public PersonalKeys personalKeys() {
        return personalKeys;
    }

    /** The data directory's snapshots, readable with the bank's email digest key. */
    public SnapshotStore snapshots() {
        return snapshots;
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

    /** The log as the history tools read it: this engine's files, or the shared journal. */
    public JournalSource journalSource() {
        return node != null ? config.cluster().journal().source()
                : new FileJournalSource(config.storage(), config.journalDirectory());
    }

    /** A reader of the log this engine follows (its own files, or the shared journal), positioned nowhere. */
    public Journal.Reader newReader() {
        return readers.get();
    }

    /** Starts a subscriber on its own thread, following the committed log from its checkpoint. */
    public Subscription subscribe(Subscriber subscriber) {
        Subscription subscription = new Subscription(subscriber, readers, this::committedSeq, personalKeys);
        subscriptions.add(subscription);
        notifier.add(subscription::committed, !subscriber.catchUpPause().isZero());
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
        Throwable failure = failure();
        if (failure != null) {
            problems.add(node != null ? "the node stopped following the journal: " + failure
                    : "the journal failed and the engine takes no more writes until it restarts: " + failure);
        }
        if (node != null && node.status().problem() != null && failure == null) {
            problems.add(node.status().problem());
        }
        for (Subscription subscription : subscriptions) {
            if (subscription.failure() != null) {
                problems.add("subscriber " + subscription.name() + " stopped: " + subscription.failure());
            } else if (subscription.readFailure() != null) {
                problems.add("subscriber " + subscription.name() + " cannot read the journal, and tries again: "
                        + subscription.readFailure().getMessage());
            } else if (subscription.subscriberProblem() != null) {
                problems.add("subscriber " + subscription.name() + ": " + subscription.subscriberProblem());
            }
        }
        if (highWaterMarker != null && highWaterMarker.lastFailure() != null) {
            problems.add("the journal's high-water mark cannot be written (the journal is intact; a damaged last"
                    + " batch could not be told from a torn write): " + highWaterMarker.lastFailure());
        }
        if (snapshotter != null && snapshotter.lastFailure() != null) {
            problems.add("the last snapshot failed (the journal is intact; starts replay more): "
                    + snapshotter.lastFailure());
        }
        return new Health(failure == null, committedSeq(), List.copyOf(problems));
    }

    public List<Subscription> subscriptions() {
        return List.copyOf(subscriptions);
    }

    /** Finishes the commands already queued, stops the subscribers and releases the data directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (node != null) {
                node.close();
            } else {
                ownSequencer.close();
                highWaterMarker.close(); // after the sequencer: the mark then proves every batch
            }
            notifier.close();
            for (Subscription subscription : subscriptions) {
                subscription.close();
            }
        } finally {
            try {
                if (personalKeys != null) {
                    personalKeys.close();
                }
            } finally {
                if (lock != null) {
                    lock.close();
                }
            }
        }
    }
}
