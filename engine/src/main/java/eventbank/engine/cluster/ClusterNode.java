package eventbank.engine.cluster;

import eventbank.core.Bank;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.snapshot.SnapshotCorruptException;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.write.Sequencer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One node of a cluster that shares a journal (DESIGN.md, "Cluster mode"), and the thread that
 * plays its part:
 * <ul>
 *   <li>A <b>standby</b> or a <b>reader</b> follows the journal: it reads the batches up to the
 *       head's durable seq into its write model and publishes that seq as committed, so the
 *       subscriptions (read models, snapshots, the outbox) read up to it too. At every poll it
 *       checks that the journal still holds what it applied (the chain hash at its seq); when not,
 *       it rebuilds from the journal, loudly.</li>
 *   <li>A standby whose leader's lease lapsed takes the journal over (epoch + 1), reads what
 *       it had not yet, and starts a sequencer on its write model: it is the <b>leader</b>.</li>
 *   <li>The leader renews its lease (every quarter lease, and soon after its last commit when
 *       commands stop, so the head's durable seq catches up). When its sequencer fails (fenced by
 *       a new leader, or a commit whose outcome is unknown) or a renewal finds another epoch, it
 *       steps down: its sequencer is closed (commands waiting are answered, nothing more is
 *       acknowledged), and it rebuilds its write model from the journal as a standby.</li>
 * </ul>
 * What the journal says is the truth: local snapshots not on its history are passed over.
 * A batch that cannot be read (an event type or version this build does not know, a broken
 * chain) stops the node: it never misapplies.
 *
 * <p>Threads: the node's thread does all of the above and alone touches the write model while
 * it follows; others read the role, the committed seq and the leadership.
 */
public final class ClusterNode implements Leadership, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterNode.class.getName());
    /** How often a leader looks at its sequencer and its lease. */
    private static final long LEADER_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How often a leader checks that PostgreSQL is still durable (fsync, a synchronous standby when required). */
    private static final long DURABILITY_CHECK_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** The longest pause between two attempts while the database cannot be reached. */
    private static final long RETRY_PAUSE_MAX_MILLIS = 1_000;

    /** A node's part now. */
    public enum Role { LEADER, STANDBY, READER }

    /**
     * @param name                    {@code node.name}, for the logs
     * @param url                     {@code node.url}: how clients reach this node when it leads
     * @param mayLead                 a writer ({@code node.mode=writer}); a reader never leads
     * @param lease                   {@code node.lease}
     * @param pollInterval            {@code journal.poll_interval}
     * @param idempotencyWindowMicros the write model's idempotency window
     */
    public record Settings(String name, String url, boolean mayLead, Duration lease, Duration pollInterval,
                           long idempotencyWindowMicros) {}

    /** What the engine does as this node's part changes. */
    public interface Host {
        /**
         * Starts a sequencer on {@code bank}, which holds every batch of {@code journal}, and
         * makes it take the commands at writer {@code epoch}; its commits must wake the subscriptions.
         */
        Sequencer lead(Bank bank, Journal journal, long epoch);

        /** The followed seq moved forward to {@code seq}: wake the subscriptions. Called on the node's thread. */
        void followed(long seq);

        /**
         * The journal no longer holds events this node showed (a failover lost them): its
         * committed seq went back to what the rebuilt write model holds, and every subscription
         * must start again on the journal as it is now. Called on the node's thread.
         */
        void diverged();
    }

    /** Where a follower is: the last seq applied and the chain hash after it. */
    private record Position(long seq, byte[] hash) {}

    /**
     * What operators see of the node.
     *
     * @param role       its part now
     * @param epoch      the epoch of the journal's head at the last read
     * @param leaderUrl  how to reach the leader, as the head says (null when none)
     * @param lagEvents  events between this node's committed seq and the head's durable seq at
     *                   the last head read; -1 when that read is older than a lease
     * @param problem    why it does not lead or follow as it should now, or null
     */
    public record Status(Role role, long epoch, String leaderUrl, long lagEvents, String problem) {}

    private final SharedJournal shared;
    private final SnapshotStore snapshots;
    private final Settings settings;
    private final Host host;
    private final Thread thread;
    private final Object wakeUp = new Object();

    private volatile boolean closing;
    private volatile Role role;
    private volatile Sequencer sequencer;
    /** The committed seq while following: moves forward, and back only when the journal lost events. */
    private volatile Position followed = new Position(0, JournalFormat.HASH_ZERO);
    private volatile SharedJournal.Head head;
    private volatile long headReadNanos;
    private volatile long epoch;
    private volatile long leaseUntilNanos;
    private volatile String problem;
    private volatile Throwable failure;
    private volatile long divergences;
    /** The seq of the local snapshot the write model was last rebuilt from; 0 for none. */
    private volatile long rebuiltFromSnapshot;

    // The node thread's own.
    private Bank bank;
    private byte[] bankHash;
    private Journal.Reader reader;
    private long lastRenewNanos;
    private long lastDurabilityCheckNanos;
    private long lastRenewedSeq = -1;
    private long seqAtLastTick = -1;
    private long retryPauseMillis;
    /** The key store sealed openings open with, or null; set once at the start. */
    private PersonalKeys keys;

    private ClusterNode(SharedJournal shared, SnapshotStore snapshots, Settings settings, Host host) {
        this.shared = shared;
        this.snapshots = snapshots;
        this.settings = settings;
        this.host = host;
        this.role = settings.mayLead() ? Role.STANDBY : Role.READER;
        this.thread = Thread.ofPlatform().name("cluster-node").daemon(false).unstarted(this::run);
    }

    /**
     * Rebuilds the write model from the newest local snapshot on the journal's history and the
     * journal after it, up to the head's durable seq, on the calling thread; then starts the
     * node's thread, which follows and, when it may, leads. Throws when the journal cannot be
     * read: a start with the database down fails rather than serve nothing.
     */
    public static ClusterNode start(SharedJournal shared, SnapshotStore snapshots, Settings settings, Host host)
            throws IOException {
        return start(shared, snapshots, settings, host, null);
    }

    /** With the key store to open sealed openings with (a bank migrated from files; null: none). */
    public static ClusterNode start(SharedJournal shared, SnapshotStore snapshots, Settings settings, Host host,
                                    PersonalKeys keys) throws IOException {
        ClusterNode node = new ClusterNode(shared, snapshots, settings, host);
        node.keys = keys;
        try {
            node.rebuild();
            node.follow(node.readHead());
        } catch (IOException | RuntimeException e) {
            node.closeReader();
            throw e;
        }
        node.thread.start();
        return node;
    }

    public Role role() {
        return role;
    }

    /** The sequencer while leading, else null. */
    public Sequencer sequencer() {
        return sequencer;
    }

    /** The last seq this node may show: the leader's committed seq, a follower's applied durable seq. */
    public long committedSeq() {
        Sequencer leading = sequencer;
        return leading != null ? Math.max(leading.committedSeq(), followed.seq()) : followed.seq();
    }

    /** The committed seq and the chain hash after it. */
    public Sequencer.Head committedHead() {
        Sequencer leading = sequencer;
        if (leading != null) {
            Sequencer.Head written = leading.committedHead();
            if (written.seq() >= followed.seq()) {
                return written;
            }
        }
        Position position = followed;
        return new Sequencer.Head(position.seq(), position.hash().clone());
    }

    @Override
    public boolean leading() {
        Sequencer leading = sequencer;
        return leading != null && leading.failure() == null && System.nanoTime() - leaseUntilNanos < 0;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    /**
     * How to reach the leader, as the journal's head said at the last read; null when none leads
     * (no leader, or its lease lapsed), or when the head still names this node though it no
     * longer leads.
     */
    public String leaderUrl() {
        SharedJournal.Head last = head;
        if (sequencer != null) {
            return settings.url();
        }
        if (last == null || last.leaderName() == null || last.leaseLapsed() || last.leaderName().equals(settings.name())) {
            return null;
        }
        return last.leaderUrl();
    }

    /**
     * The seq of the local snapshot the write model was last rebuilt from (one on the journal's
     * history), 0 when from the start: where a snapshotter may start its replica.
     */
    public long rebuiltFromSnapshot() {
        return rebuiltFromSnapshot;
    }

    /** How often this node found that the journal no longer held what it had shown, and rebuilt. */
    public long divergences() {
        return divergences;
    }

    /** What stopped this node for good (it reads no more), or null. */
    public Throwable failure() {
        return failure;
    }

    public Status status() {
        SharedJournal.Head last = head;
        long lag = -1;
        if (sequencer != null) {
            lag = 0;
        } else if (last != null && System.nanoTime() - headReadNanos < settings.lease().toNanos()) {
            lag = Math.max(0, last.durableSeq() - committedSeq());
        }
        return new Status(role, sequencer != null ? epoch : last == null ? 0 : last.epoch(), leaderUrl(), lag,
                failure != null ? "the node stopped: " + failure.getMessage() : problem);
    }

    /** Stops the node's thread and, when leading, the sequencer (it finishes the commands queued). */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
        thread.interrupt();
        thread.join();
        Sequencer leading = sequencer;
        if (leading != null) {
            leading.close();
        }
        closeReader();
        try {
            shared.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the shared journal failed: " + e.getMessage());
        }
    }

    private void run() {
        while (!closing) {
            try {
                if (sequencer != null) {
                    leadTick();
                } else {
                    if (bank == null) {
                        rebuild();
                    }
                    SharedJournal.Head now = readHead();
                    follow(now);
                    if (sequencer == null && !closing && !mayTakeOver(now)) {
                        shared.awaitChange(settings.pollInterval());
                    }
                }
                retryPauseMillis = 0;
                if (problem != null && problem.startsWith(UNREACHABLE)) {
                    problem = null;
                }
            } catch (InterruptedException e) {
                if (!closing) {
                    LOG.log(System.Logger.Level.WARNING, "the node's thread was interrupted; it goes on");
                }
            } catch (IOException e) {
                problem = UNREACHABLE + e.getMessage();
                LOG.log(System.Logger.Level.WARNING, problem);
                pause();
            } catch (UncheckedIOException e) {
                // A read of the key store in the middle of a batch (an opening's email digest)
                // failed: the database, not the node. What was applied of the batch is dropped
                // with the write model, which is rebuilt at the next attempt.
                problem = UNREACHABLE + e.getCause().getMessage();
                LOG.log(System.Logger.Level.WARNING, problem);
                if (sequencer == null) {
                    closeReader();
                    bank = null;
                    bankHash = null;
                }
                pause();
            } catch (RuntimeException | Error e) {
                stop(e);
                return;
            }
        }
    }

    private static final String UNREACHABLE = "the journal's database cannot be reached: ";
    private static final String BEHIND = "the journal read is behind this node: ";

    /** A pause after a failed attempt: doubling from the poll interval up to a second. */
    private void pause() {
        retryPauseMillis = Math.min(RETRY_PAUSE_MAX_MILLIS,
                retryPauseMillis == 0 ? settings.pollInterval().toMillis() : retryPauseMillis * 2);
        sleepMillis(retryPauseMillis);
    }

    private void sleepMillis(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (wakeUp) {
            long left;
            while (!closing && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(wakeUp, left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private SharedJournal.Head readHead() throws IOException {
        long before = System.nanoTime();
        SharedJournal.Head now = shared.head();
        if (now.formatVersion() > JournalFormat.FORMAT_VERSION) {
            throw new IllegalStateException("the journal is written in format version " + now.formatVersion()
                    + ", newer than version " + JournalFormat.FORMAT_VERSION + " that this build reads; upgrade this"
                    + " node");
        }
        head = now;
        headReadNanos = before;
        return now;
    }

    /**
     * Applies the batches up to the head's durable seq, after checking that the journal still
     * holds what this node applied and showed. A node whose history the journal no longer holds
     * rebuilds. A reader that reads a journal behind it (a replica catching up) waits for it; a
     * writer reads the primary, where a journal behind it has lost events.
     */
    private void follow(SharedJournal.Head now) throws IOException {
        Position shown = followed;
        long ahead = Math.max(shown.seq(), bank.lastSeq());
        if (now.lastSeq() < ahead && !settings.mayLead()) {
            problem = BEHIND + "it holds seq " + now.lastSeq() + ", this node seq " + ahead
                    + "; waiting for it (a replica catching up) or for a leader to write past it";
            return;
        }
        if (problem != null && problem.startsWith(BEHIND)) {
            problem = null;
        }
        if (!journalHolds(bank.lastSeq(), bankHash)) {
            diverged(bank.lastSeq(), bankHash);
        } else if (shown.seq() != bank.lastSeq() && !journalHolds(shown.seq(), shown.hash())) {
            diverged(shown.seq(), shown.hash());
        }
        JournalReader.Batch batch;
        while ((batch = reader.next(now.durableSeq())) != null) {
            apply(batch);
        }
        publish();
    }

    private boolean journalHolds(long seq, byte[] hash) throws IOException {
        return seq == 0 || Arrays.equals(shared.chainHashAt(seq), hash);
    }

    /**
     * The journal no longer holds seq {@code seq} with chain hash {@code hash} as this node
     * applied it: a failover lost events (PostgreSQL promoted a replica without them). The node
     * says so, rebuilds its write model from the newest local snapshot still on the journal's
     * history, takes its committed seq back there, and has its subscriptions (read models,
     * outbox, snapshots) start again: what it shows from now on is the journal's history alone.
     */
    private void diverged(long seq, byte[] hash) throws IOException {
        LOG.log(System.Logger.Level.ERROR, "the journal no longer holds seq " + seq + " with chain hash "
                + HexFormat.of().formatHex(hash) + " as this node applied and showed it: a failover lost events."
                + " It rebuilds its state from the newest snapshot still on the journal's history, and its read"
                + " models from the journal");
        closeReader();
        bank = null;
        rebuild();
        followed = new Position(bank.lastSeq(), bankHash.clone());
        try {
            host.diverged();
        } catch (RuntimeException e) {
            throw new IllegalStateException("the read side could not start again after the history changed", e);
        }
        divergences++; // counted once the read side starts again: from now on nothing lost is shown
    }

    private void apply(JournalReader.Batch batch) {
        long after = bank.lastSeq();
        batch.forEach(keys, recorded -> {
            if (recorded.seq() > after) {
                bank.evolve(recorded);
            }
        });
        bankHash = batch.header().chainHash();
    }

    /** Makes what the write model holds visible to the subscriptions; the committed seq never goes back. */
    private void publish() {
        if (bank.lastSeq() > followed.seq()) {
            followed = new Position(bank.lastSeq(), bankHash.clone());
            host.followed(bank.lastSeq());
        }
    }

    /** Takes the journal over when this node may lead, the lease lapsed and PostgreSQL is durable; true once leading. */
    private boolean mayTakeOver(SharedJournal.Head now) throws IOException {
        if (!settings.mayLead() || !now.leaseLapsed()) {
            return false;
        }
        String durability = shared.durabilityProblem();
        if (durability != null) {
            if (!durability.equals(problem)) {
                LOG.log(System.Logger.Level.ERROR, "this node does not lead, though no node leads: " + durability);
            }
            problem = durability;
            return false;
        }
        if (problem != null && !problem.startsWith(UNREACHABLE)) {
            problem = null;
        }
        long before = System.nanoTime();
        SharedJournal.Taken taken = shared.takeOver(bank.lastSeq(), bankHash, this::apply);
        if (taken == null) {
            return false;
        }
        epoch = taken.epoch();
        leaseUntilNanos = before + settings.lease().toNanos();
        lastRenewNanos = before;
        lastDurabilityCheckNanos = before;
        lastRenewedSeq = -1;
        closeReader();
        Bank leading = bank;
        bank = null;
        bankHash = null;
        sequencer = host.lead(leading, taken.journal(), taken.epoch());
        role = Role.LEADER;
        LOG.log(System.Logger.Level.INFO, settings.name() + " leads at epoch " + taken.epoch() + " from seq "
                + leading.lastSeq());
        return true;
    }

    /**
     * A leader's tick: steps down when its sequencer failed; renews the lease every quarter
     * lease, and soon after the last commit once commands stop, so followers see it.
     */
    private void leadTick() throws IOException {
        Sequencer leading = sequencer;
        if (leading.failure() != null) {
            stepDown("its journal failed: " + leading.failure().getMessage());
            return;
        }
        long now = System.nanoTime();
        if (now - lastDurabilityCheckNanos >= DURABILITY_CHECK_NANOS) {
            lastDurabilityCheckNanos = now;
            String durability = shared.durabilityProblem();
            if (durability != null) {
                problem = durability;
                stepDown("PostgreSQL is no longer durable: " + durability);
                return;
            }
        }
        long committed = leading.committedSeq();
        boolean quiet = committed == seqAtLastTick && committed != lastRenewedSeq;
        seqAtLastTick = committed;
        if (quiet || now - lastRenewNanos >= settings.lease().toNanos() / 4) {
            if (!shared.renewLease(epoch, committed)) {
                stepDown("the journal's head is at another epoch than its " + epoch);
                return;
            }
            leaseUntilNanos = now + settings.lease().toNanos();
            lastRenewNanos = now;
            lastRenewedSeq = committed;
        }
        sleepMillis(TimeUnit.NANOSECONDS.toMillis(LEADER_TICK_NANOS));
    }

    /**
     * Stops leading: what the sequencer committed stays published; the sequencer is closed, so
     * the commands it holds are answered and nothing more is acknowledged; the write model is
     * rebuilt from the journal at the next turn.
     */
    private void stepDown(String why) {
        Sequencer leading = sequencer;
        Sequencer.Head committed = leading.committedHead();
        if (committed.seq() > followed.seq()) {
            followed = new Position(committed.seq(), committed.hash());
        }
        role = Role.STANDBY;
        sequencer = null;
        LOG.log(System.Logger.Level.WARNING, settings.name() + " no longer leads (epoch " + epoch + "): " + why
                + "; it rebuilds its state from the journal and stands by");
        try {
            leading.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        bank = null;
    }

    /**
     * A write model from the newest local snapshot whose chain hash the journal holds at its seq
     * (others are passed over, loudly: the journal is the truth), or empty; and a reader after it.
     */
    private void rebuild() throws IOException {
        Bank rebuilt = null;
        byte[] hash = JournalFormat.HASH_ZERO;
        List<Long> seqs = snapshots.seqs();
        for (int i = seqs.size() - 1; i >= 0 && rebuilt == null; i--) {
            long seq = seqs.get(i);
            try {
                SnapshotStore.Loaded loaded = snapshots.read(seq, settings.idempotencyWindowMicros());
                byte[] journals = shared.chainHashAt(seq);
                if (!loaded.sameDigestKey()) {
                    LOG.log(System.Logger.Level.WARNING, "the snapshot at seq " + seq + " has its email digests under"
                            + " another key than this bank's; passed over");
                } else if (journals != null && Arrays.equals(journals, loaded.chainHash())) {
                    rebuilt = loaded.bank();
                    hash = loaded.chainHash();
                } else {
                    LOG.log(System.Logger.Level.WARNING, "the snapshot at seq " + seq + " is not on the journal's"
                            + " history; passed over");
                }
            } catch (SnapshotCorruptException e) {
                LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; passed over");
            }
        }
        if (rebuilt == null) {
            rebuilt = snapshots.newBank(settings.idempotencyWindowMicros());
        }
        closeReader();
        Journal.Reader fresh = shared.newReader();
        fresh.seek(rebuilt.lastSeq());
        reader = fresh;
        bank = rebuilt;
        rebuiltFromSnapshot = rebuilt.lastSeq();
        bankHash = hash.clone();
    }

    private void stop(Throwable e) {
        failure = e;
        LOG.log(System.Logger.Level.ERROR, settings.name() + " stopped: it cannot apply the journal safely ("
                + e + "). It serves what it had; restart it once the cause is fixed", e);
        Sequencer leading = sequencer;
        if (leading != null) {
            sequencer = null;
            try {
                leading.close();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeReader() {
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing a journal reader failed: " + e.getMessage());
            }
            reader = null;
        }
    }
}
