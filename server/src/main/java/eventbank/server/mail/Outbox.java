package eventbank.server.mail;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import eventbank.core.VerificationCodes;
import eventbank.engine.Engine;
import eventbank.engine.cluster.Leadership;
import eventbank.engine.journal.Journal;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.engine.subscription.Subscriber;
import eventbank.engine.subscription.SubscriberClosedException;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.ModelCheckpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Sends the bank's mails as a subscriber of the committed log, never as a step of a command: an
 * AccountOpened gets the verification link, a MoneyWithdrawn a notice with the amount and the
 * balance after it. Mails go out at the end of each commit batch, then the outbox's own
 * checkpoint moves past the batch. So replaying the log at start sends nothing again, and a mail
 * whose event was committed but not sent before a crash is sent after the restart; a crash
 * between sending and checkpointing sends a mail twice, with the same Message-ID.
 *
 * <p><b>Balances.</b> A withdrawal notice tells the balance after it, so the outbox keeps each
 * account's email and balance from the events it follows: its state. It keeps that state in a
 * checkpoint of its own, {@code data/outbox/state.checkpoint}, apart from the mail checkpoint
 * (which is twenty bytes, rewritten at every batch with mail, and in a cluster lives in
 * PostgreSQL). The state checkpoint has the read models' format ({@link ModelCheckpoint}: the
 * state as of a seq that ends a batch, the journal's chain hash there, CRCs) and their policy
 * ({@link Checkpoints}): written at a batch's end on the outbox's thread every {@code
 * everyEvents} events, at the first batch a minute after the last, and when the subscription
 * stops. {@link #start()} loads it and answers its seq, so only the journal after it is read. A
 * state checkpoint that cannot be used (damaged, of another format, past the journal's end, or
 * not on the journal's history: made for another journal, or left from before a failover
 * changed the history) is set aside as {@code state.checkpoint.unusable}, and the outbox reads
 * the journal from seq 0 instead, with a warning; so does an outbox that keeps none ({@code
 * checkpoints} null). Rebuilt either way, the state is right by construction, the same way the
 * write model's is.
 *
 * <p><b>The state checkpoint never passes the mail checkpoint.</b> Mails are made only for
 * events after the mail checkpoint M. An outbox that started from its state at S would make none
 * for the events from M + 1 to S: they would be lost. So a start uses the state only when S &le;
 * M, and the outbox writes it only where that holds at the next start:
 * <ul>
 *   <li>When it holds the store (a node alone, or the leader), it first moves the mail checkpoint
 *       to the batch's end, then writes the state there. At the end of a batch every mail up to
 *       it has been handled (sent, set aside, or, while the node did not lead, seen passed by the
 *       leader's checkpoint), so the move skips none; it costs one more small write every
 *       {@code everyEvents} events. A crash between the two leaves M ahead of the older S: fine.
 *   <li>When it does not (a standby, or a leader fenced out), it moves nothing: it reads the
 *       store's checkpoint, which only the leader moves and only forward, and writes the state at
 *       the batch's end only when that checkpoint has reached it. While it has not (a standby
 *       ahead of the leader's checkpoint: a run of transfers moves no mail checkpoint), the
 *       checkpoint stays due and is tried at later batches, reading the store at most once a
 *       {@code standbyPoll}: it is written once the leader's next batch with mail, or the
 *       leader's own state checkpoint, carries the mail checkpoint past this node.
 * </ul>
 * A state checkpoint past the mail checkpoint all the same (the mail checkpoint was deleted, or
 * the database replaced) is not used, with a warning: the outbox reads the journal from seq 0
 * and its next state checkpoint replaces it.
 *
 * <p><b>Failures.</b> A temporary failure of the transport (the server is down, a 4xx) is
 * retried with a pause doubling from {@code backoffMillisMin} up to the cap
 * {@code backoffMillisMax} ({@code mail.retry_backoff_max}), for as long as it lasts: the number
 * of attempts has no limit on purpose, since giving up would either lose the mail or need a
 * restart to send it, and an outage of the mail server is neither the mail's fault nor the
 * bank's. The pause is what is bounded. The outbox runs on its subscription's thread, which reads
 * the journal on its own, so it never blocks the sequencer: it falls behind, and catches up when
 * the server is back. A permanent failure (the server refuses this mail: an address that does
 * not exist) is not retried: the mail is set aside as a dead letter and the outbox goes on,
 * so one bad address does not hold back everybody's mail; an operator lists and retries those
 * ({@link #deadLetters}, {@link #retryDeadLetter}). Only when the dead letter cannot be written
 * does the outbox stop.
 *
 * <p><b>Leadership.</b> The checkpoint and the dead letters live in an {@link OutboxStore}: files
 * for a node alone ({@link Leadership#ALONE}, which always leads), PostgreSQL in a cluster, where
 * every node runs an outbox and only the leader's sends. Before each attempt at a mail the
 * outbox asks {@link Leadership#leading()}; a node that leads at a new epoch first {@link
 * OutboxStore#claim claims} the store, which answers the checkpoint the last leader left, and
 * sends every mail after it. An outbox that does not lead, or whose write to the store was
 * fenced (another node took over), sends nothing and moves no checkpoint: it goes on following
 * the log, and at each batch with mail past the store's checkpoint it waits, reading the
 * checkpoint again every {@code standbyPollMillis}, until the leader's checkpoint passes the
 * batch's mails (the leader sent them) or this node leads (it sends those the checkpoint has not
 * passed). It never stops for want of leadership: a standby's outbox is ready to take over with
 * its balances current, and a deposed leader's becomes a standby's. A mail sent by a leader that
 * lost its lease before checkpointing it is sent again by the next, with the same Message-ID.
 *
 * <p>Close the outbox before the engine: {@link #close()} ends a pause between attempts, or a
 * standby's wait, at once, where the engine's own close would wait for the outage to end.
 */
public final class Outbox implements Subscriber, AutoCloseable {
    /** The directory of the outbox in the data directory: mails (file transport) and checkpoints. */
    public static final String DIRECTORY_NAME = "outbox";
    /** The state checkpoint's file in {@link #DIRECTORY_NAME}: each account's email and balance. */
    public static final String STATE_FILE_NAME = "state.checkpoint";
    /** The version of the state checkpoint's payload: another is not used, and the state is rebuilt. */
    private static final int STATE_FORMAT = 2; // 2: the accounts' arrays and index as they are in memory
    /** The most dead letters one call of {@link #deadLetters} answers. */
    public static final int DEAD_LETTERS_LIST_LIMIT_MAX = DeadLetters.LIST_LIMIT_MAX;
    /** How often an outbox that does not lead reads the store's checkpoint while it waits, by default. */
    public static final Duration STANDBY_POLL_DEFAULT = Duration.ofMillis(250);
    private static final System.Logger LOG = System.getLogger(Outbox.class.getName());
    private static final Duration CATCH_UP_PAUSE = Duration.ofMillis(10);
    private static final String AFTER_RESTART = "it and the mails after it are sent after the next start";
    /** {@link #claimedEpoch} when the outbox holds the store at no epoch. */
    private static final long NOT_CLAIMED = -1;

    /** A mail of the batch, with the facts a dead letter needs to make it again. */
    private record Pending(OutgoingMail mail, long accountNumber, long amount, long balanceAfter) {}

    /** What became of one mail of the batch. */
    private enum Delivery {
        /** Sent, or set aside as a dead letter: done with. */
        HANDLED,
        /** Not sent: this node stopped leading, or the store fenced it out. */
        NOT_LEADING
    }

    private final OutboxStore store;
    private final Leadership leadership;
    /** Where and how often the state checkpoint is written; null when the outbox keeps none. */
    private final Checkpoints checkpoints;
    /** The accounts forgotten in the batch being read; the subscription thread's only. */
    private final List<Long> forgottenInBatch = new ArrayList<>();
    /** The state checkpoint; null when the outbox keeps none. */
    private final ModelCheckpoint state;
    private final OutboxSettings settings;
    private final MailTransport transport;
    private final VerificationCodes codes;
    private final long standbyPollMillis;
    /** When a mail is set aside; the server's clock. */
    private final Clock clock;
    /** Each account's email and balance: the outbox's state. */
    private final OutboxAccounts accounts = new OutboxAccounts();
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    /** The mails of the batch being handed over, in seq order; at most one per event. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** Guards {@link #wakeUp}; waited on in a pause between attempts and in a standby's wait. */
    private final Object pause = new Object();
    /** Set by {@link #leadershipChanged()}: a wait ends early, to ask the leadership again. */
    private boolean wakeUp;
    /** One operator's retry at a time, so that two retries of one dead letter do not both send it. */
    private final Object retrying = new Object();
    private Thread thread;
    /**
     * The epoch at which this outbox claimed the store and may send, or {@link #NOT_CLAIMED};
     * the outbox's thread only.
     */
    private long claimedEpoch = NOT_CLAIMED;
    /** The last epoch a fenced claim or write was logged for, so that a standby's polls log it once. */
    private long fencedEpochLogged = NOT_CLAIMED;
    /** Every event up to this seq has had its mail sent; durable in the store. */
    private volatile long checkpointSeq;
    /** Why the store cannot be reached now (the outbox tries again), or null. */
    private volatile String storeProblem;
    /** The seq of the state checkpoint started from; 0 when the state was rebuilt from the journal's start. */
    private volatile long restoredSeq;
    /** Why the state checkpoint was not used at the start, or null. */
    private volatile String restoreProblem;
    /** The seq of the state checkpoint written last, or started from; 0 for none. */
    private volatile long stateSeq;
    /** When the state checkpoint was last written, or found with nothing new to write. */
    private long stateNanos;
    /** A state checkpoint that could not be written is tried again from then on, not before. */
    private long stateRetryNanos;
    /** The end of the last batch, and the journal's chain hash there: where a state checkpoint is written. */
    private long lastBatchSeq;
    private byte[] lastBatchHash;
    /** Events handed to the outbox since its start; the outbox's thread only. */
    private long eventsCounted;
    /** {@link #eventsCounted} as of the last batch's end, for other threads. */
    private volatile long eventsRead;
    private final AtomicLong mailsSent = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong mailsSetAside = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param store       where the mail checkpoint and the dead letters are kept
     * @param leadership  asked before each attempt at a mail; {@link Leadership#ALONE} for a node alone
     * @param checkpoints where ({@code data/outbox/} of its data directory) and how often the
     *                    state checkpoint is written, and the journal it is checked against;
     *                    null for none: the outbox then reads the journal from seq 0 at every start
     * @param clock       the server's clock, for when a mail was set aside
     * @param standbyPoll how often an outbox that does not lead reads the store's checkpoint
     *                    while it waits for the leader to send a batch's mails
     */
    public Outbox(OutboxStore store, Leadership leadership, Checkpoints checkpoints, VerificationCodes codes,
                  MailTransport transport, OutboxSettings settings, Clock clock, Duration standbyPoll) {
        this.store = Objects.requireNonNull(store, "store");
        this.leadership = Objects.requireNonNull(leadership, "leadership");
        this.checkpoints = checkpoints;
        this.state = checkpoints == null ? null : stateCheckpointOf(checkpoints.storage(),
                checkpoints.dataDirectory(), checkpoints.journal());
        this.codes = Objects.requireNonNull(codes, "codes");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.standbyPollMillis = standbyPoll.toMillis();
        if (standbyPollMillis < 1) {
            throw new IllegalArgumentException("the standby's poll must be at least a millisecond: " + standbyPoll);
        }
    }

    /**
     * An outbox for this engine's data directory, storage and server key, on a node alone, with
     * its state checkpoint as {@code checkpoints} says (null for none); subscribe it next.
     */
    public static Outbox of(Engine engine, Checkpoints checkpoints, MailTransport transport, OutboxSettings settings,
                            Clock clock) {
        OutboxStore store = new FileOutboxStore(engine.config().storage(),
                directoryOf(engine.config().dataDirectory()), engine::committedSeq);
        return new Outbox(store, Leadership.ALONE, checkpoints, engine.verificationCodes(), transport, settings,
                clock, STANDBY_POLL_DEFAULT);
    }

    /**
     * An outbox for a node of a cluster: its mail checkpoint and dead letters in {@code store} (a
     * {@link PostgresOutboxStore} on the journal's database), its state checkpoint in the node's
     * data directory as {@code checkpoints} says (null for none), sending only while the engine's
     * node leads ({@link Engine#leadership()}); subscribe it next, on every node. A node that
     * does not lead reads the store's checkpoint every {@code standbyPoll} ({@code
     * journal.poll_interval}) while it waits. Close the outbox before the engine, the store after.
     */
    public static Outbox of(Engine engine, OutboxStore store, Checkpoints checkpoints, MailTransport transport,
                            OutboxSettings settings, Clock clock, Duration standbyPoll) {
        return new Outbox(store, engine.leadership(), checkpoints, engine.verificationCodes(), transport, settings,
                clock, standbyPoll);
    }

    /**
     * Where the outbox leaves durable proof of committed seqs, for recovery to judge the
     * journal's end by (see {@code DurableEvidence}): its mail checkpoint, its state checkpoint
     * (from its header alone), its mail files ({@code {seq:020}-{kind}.eml}, file transport) and
     * its dead letters. A mail is made only for a committed event, so a mail file past the
     * journal's end proves the journal lost events.
     */
    public static List<DurableEvidence.Source> evidence(Storage storage, Path dataDirectory) {
        Path directory = directoryOf(dataDirectory);
        OutboxCheckpoint checkpoint = new OutboxCheckpoint(storage, directory);
        ModelCheckpoint state = stateCheckpointOf(storage, dataDirectory, () -> {
            throw new UnsupportedOperationException("evidence reads the header only");
        });
        return List.of(checkpoint::claim, state::claim,
                () -> newestFile(storage, directory, "a mail file"),
                () -> newestFile(storage, directory.resolve(DeadLetters.DIRECTORY_NAME), "a dead letter"));
    }

    private static final Pattern SEQ_FILE_NAME = Pattern.compile("(\\d{20})-[a-z-]+\\.(eml|txt)");

    private static Optional<DurableEvidence.Claim> newestFile(Storage storage, Path directory, String what)
            throws IOException {
        String newest = null;
        for (String name : storage.list(directory)) {
            if (SEQ_FILE_NAME.matcher(name).matches() && (newest == null || name.compareTo(newest) > 0)) {
                newest = name;
            }
        }
        return newest == null ? Optional.empty() : Optional.of(new DurableEvidence.Claim(
                Long.parseLong(newest.substring(0, 20)), null, directory.resolve(newest), what));
    }

    /** {@code data/outbox}. */
    public static Path directoryOf(Path dataDirectory) {
        return dataDirectory.resolve(DIRECTORY_NAME);
    }

    /** {@code data/outbox/state.checkpoint}, checked against the journal {@code journal} reads. */
    private static ModelCheckpoint stateCheckpointOf(Storage storage, Path dataDirectory,
                                                     Supplier<Journal.Reader> journal) {
        return ModelCheckpoint.at(storage, directoryOf(dataDirectory).resolve(STATE_FILE_NAME), "outbox state",
                STATE_FORMAT, journal);
    }

    @Override
    public String name() {
        return "outbox";
    }

    /** A verification mail that leaves 10 ms later is no later for its reader. */
    @Override
    public Duration catchUpPause() {
        return CATCH_UP_PAUSE;
    }

    /**
     * Reads the store's mail checkpoint, loads the state checkpoint when it can be used (see the
     * class comment), and answers its seq; 0 when the state is rebuilt from the whole journal.
     * It holds the store at no epoch yet: it claims it before its first mail.
     */
    @Override
    public long start() throws IOException {
        thread = Thread.currentThread();
        dropState();
        claimedEpoch = NOT_CLAIMED;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long began = System.nanoTime();
        long cpuBefore = threads.getCurrentThreadCpuTime();
        long seq = store.checkpoint();
        checkpointSeq = seq;
        long restored = restore(seq);
        LOG.log(System.Logger.Level.INFO, "outbox starts from " + (restored == 0 ? "the journal's first event"
                : "its state checkpoint at seq " + restored + " (loaded in " + (System.nanoTime() - began) / 1_000_000
                + " ms, " + (threads.getCurrentThreadCpuTime() - cpuBefore) / 1_000_000 + " ms of CPU)")
                + "; mails up to seq " + seq + " are sent");
        return restored;
    }

    /** Forgets every account and pending mail, and where the state stands. */
    private void dropState() {
        accounts.clear();
        pending.clear();
        restoredSeq = 0;
        restoreProblem = null;
        stateSeq = 0;
        lastBatchSeq = 0;
        lastBatchHash = null;
        eventsCounted = 0;
        eventsRead = 0;
        stateNanos = System.nanoTime();
        stateRetryNanos = stateNanos;
    }

    /**
     * Loads the state checkpoint and answers its seq when it can be used: sound and on the
     * journal's history ({@link ModelCheckpoint#read}), and not past the mail checkpoint at
     * {@code mailSeq}. Else answers 0, with a warning; an unsound one is set aside.
     */
    private long restore(long mailSeq) {
        if (state == null) {
            return 0;
        }
        long seq;
        try {
            seq = state.read(checkpoints.committedSeq().getAsLong(), this::readState);
        } catch (IOException | RuntimeException e) {
            accounts.clear();
            restoreProblem = e.getMessage();
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; it is set aside, and the outbox reads the whole"
                    + " journal instead");
            try {
                state.setAside();
            } catch (IOException notMoved) {
                LOG.log(System.Logger.Level.WARNING, "the outbox's unusable state checkpoint could not be set aside: "
                        + notMoved);
            }
            return 0;
        }
        if (seq > mailSeq) {
            // Sound, so not set aside: the next state checkpoint replaces it. Loaded before this
            // check, which seldom fails, rather than have every start read its header twice.
            accounts.clear();
            restoreProblem = "the outbox's state checkpoint " + state.path() + " is at seq " + seq + ", past its mail"
                    + " checkpoint at seq " + mailSeq + ": started from it, the outbox would make no mail for the"
                    + " events in between";
            LOG.log(System.Logger.Level.WARNING, restoreProblem + ". It reads the whole journal instead");
            return 0;
        }
        restoredSeq = seq;
        stateSeq = seq;
        lastBatchSeq = seq;
        return seq;
    }

    /** Loads what {@link #writeState} wrote into an outbox that holds no account yet. */
    private void readState(ModelCheckpoint.Input input) throws IOException {
        accounts.read(input);
    }

    /** Each account, in the order they were opened, as {@link OutboxAccounts#write} writes them. */
    private void writeState(ModelCheckpoint.Output output) throws IOException {
        accounts.write(output);
    }

    @Override
    public String problem() {
        return storeProblem;
    }

    /**
     * Drops the accounts, the pending mails and where the state stands. {@link #start} then reads
     * the store's checkpoint and the state checkpoint again, and sets the latter aside when it is
     * no longer on the journal's history (its chain hash at its seq is not the journal's now).
     */
    @Override
    public void forget() {
        dropState();
    }

    @Override
    public void onEvent(Recorded recorded) throws OutboxStoppedException, SubscriberClosedException {
        assert Thread.currentThread() == thread : "the outbox runs on its subscription's thread only";
        if (closed) {
            throw closedBefore(checkpointSeq + 1, null);
        }
        eventsCounted++;
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
    }

    /**
     * Follows each account's email and balance, and makes the mail of an event after the
     * checkpoint: the verification link for an opening, the notice of a withdrawal.
     */
    private final class Applier implements Movements.Sink {
        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            // A holder forgotten since reads as null: no address is kept, and nothing is mailed.
            if (accounts.add(e.accountNumber(), e.email() == null ? "" : e.email(), e.openingBalance())
                    == OutboxAccounts.ABSENT) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice at seq " + seq);
            }
            if (seq > checkpointSeq && e.email() != null) {
                String code = codes.codeFor(e.accountNumber(), seq);
                OutgoingMail mail = MailTemplates.verification(settings, seq, EpochMicros.toInstant(timeMicros),
                        e.accountNumber(), e.email(), code);
                pending.addLast(new Pending(mail, e.accountNumber(), 0, 0));
            }
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            // Nothing to tell: the person just followed the link.
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            int from = row(debitAccount, seq);
            int to = creditAccount == Movements.OUTSIDE ? OutboxAccounts.ABSENT : row(creditAccount, seq);
            long balanceAfter = accounts.balance(from) - amount;
            accounts.setBalance(from, balanceAfter);
            if (to != OutboxAccounts.ABSENT) {
                accounts.setBalance(to, accounts.balance(to) + amount);
            }
            switch (kind) {
                case TRANSFER, FORFEIT -> {
                    // No mail for transfers, nor for the bonus an unverified account gives up: its
                    // holder asked to close it a moment ago, and its address was never confirmed.
                }
                case WITHDRAWAL -> {
                    String email = seq > checkpointSeq ? accounts.email(from) : "";
                    if (!email.isEmpty()) {
                        OutgoingMail mail = MailTemplates.withdrawal(settings, seq, EpochMicros.toInstant(timeMicros),
                                debitAccount, email, amount, balanceAfter);
                        pending.addLast(new Pending(mail, debitAccount, amount, balanceAfter));
                    }
                }
            }
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed e) {
            row(e.accountNumber(), seq);
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten e) {
            accounts.eraseEmail(row(e.accountNumber(), seq));
            forgottenInBatch.add(e.accountNumber());
        }
    }

    /**
     * Sends the batch's mails, then checkpoints the batch. A batch without mail moves no mail
     * checkpoint: its events, read again after a restart, send nothing either, and the fsyncs
     * are saved. While this node does not lead, the outbox waits here for the leader to send the
     * batch's mails, or for this node to lead (see the class comment). Then, when one is due,
     * the state checkpoint.
     */
    @Override
    public void onBatchEnd(long lastSeq, byte[] chainHash) throws Exception {
        assert Thread.currentThread() == thread : "the outbox runs on its subscription's thread only";
        if (closed) {
            throw closedBefore(checkpointSeq + 1, null);
        }
        handOver(lastSeq);
        lastBatchSeq = lastSeq;
        lastBatchHash = chainHash;
        eventsRead = eventsCounted;
        if (!forgottenInBatch.isEmpty()) {
            erase(forgottenInBatch);
            forgottenInBatch.clear();
        } else if (state != null && stateCheckpointDue()) {
            writeStateCheckpoint();
        }
    }

    /**
     * Erases what the outbox keeps of forgotten holders (DESIGN.md, "Personal data"): the mail
     * files and dead letters that name their accounts (by the Message-ID, which holds the
     * account's number), and the state checkpoint, written again now without their addresses; a
     * state checkpoint set aside as unusable is deleted. A failure is logged: the files are found
     * again by {@link #eraseMailsOf} at the next start's sweep of forgotten accounts.
     */
    private void erase(List<Long> forgotten) {
        if (leadership.leading()) {
            eraseDeadLettersOf(forgotten);
        }
        if (checkpoints == null) {
            return; // an outbox without a data directory keeps no files
        }
        try {
            eraseMailsOf(checkpoints.storage(), directoryOf(checkpoints.dataDirectory()), forgotten);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "the mails of forgotten accounts " + forgotten
                    + " could not all be deleted: " + e);
        }
        if (state != null) {
            stateNanos = 0; // due now
            writeStateCheckpoint();
            state.deleteSetAside();
        }
    }

    /** The store's dead letters to forgotten holders deleted; a failure is logged, and the next leader deletes them. */
    private void eraseDeadLettersOf(List<Long> forgotten) {
        try {
            store.eraseDeadLettersOf(forgotten);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "the dead letters of forgotten accounts " + forgotten
                    + " could not be deleted now; the next leader deletes them: " + e);
        }
    }

    /**
     * Deletes the mail files ({@code *.eml}) and dead letters of the outbox directory that name
     * one of {@code accounts}: their Message-ID holds {@code .<account number>@}.
     */
    public static void eraseMailsOf(Storage storage, Path outboxDirectory, List<Long> accounts) throws IOException {
        for (Path directory : List.of(outboxDirectory, outboxDirectory.resolve(DeadLetters.DIRECTORY_NAME))) {
            if (!storage.exists(directory)) {
                continue;
            }
            boolean deleted = false;
            for (String name : storage.list(directory)) {
                Path file = directory.resolve(name);
                if (!name.endsWith(".eml") && directory.equals(outboxDirectory)) {
                    continue;
                }
                String text = new String(storage.readAll(file), StandardCharsets.ISO_8859_1);
                for (long account : accounts) {
                    if (text.contains("." + account + "@")) {
                        storage.delete(file);
                        deleted = true;
                        break;
                    }
                }
            }
            if (deleted) {
                storage.syncDirectory(directory);
            }
        }
    }

    /** The batch's mails, sent or seen sent by the leader; on return none is pending. */
    private void handOver(long lastSeq) throws Exception {
        try {
            while (!pending.isEmpty()) {
                try {
                    boolean holds = holdsStore();
                    if (!holds) {
                        readCheckpoint();
                    }
                    storeProblem = null; // the store answered (a standby's failed read is logged and tried again)
                    // Sent already: by the leader, or by this node before a failover.
                    pending.removeIf(mail -> mail.mail().seq() <= checkpointSeq);
                    if (pending.isEmpty()) {
                        return;
                    }
                    if (!holds) {
                        pauseFor(standbyPollMillis, pending.getFirst().mail());
                    } else if (sendPending()) {
                        moveCheckpoint(lastSeq);
                        return;
                    }
                } catch (IOException e) {
                    storeFailed(e);
                }
            }
        } finally {
            pending.clear();
        }
    }

    /**
     * The subscription stops: a state checkpoint of everything read, so that the next start reads
     * nothing again.
     */
    @Override
    public void stopped() {
        if (state != null) {
            writeStateCheckpoint();
        }
    }

    /**
     * Every {@code everyEvents} events, or a minute after the last; not before the moment a
     * failed attempt set.
     */
    private boolean stateCheckpointDue() {
        long now = System.nanoTime();
        // The pause after a checkpoint the mail checkpoint did not reach spares the store reads;
        // when the mail checkpoint known here reaches the batch already, none is needed.
        boolean mayTry = now - stateRetryNanos >= 0 || checkpointSeq >= lastBatchSeq;
        return mayTry && (lastBatchSeq - stateSeq >= checkpoints.everyEvents()
                || now - stateNanos >= Checkpoints.INTERVAL_NANOS);
    }

    /**
     * Writes the state checkpoint at the last batch's end, when it has something new and the mail
     * checkpoint has reached it (see the class comment). When it has not, or the write fails
     * (logged), the checkpoint is tried again at a later batch, a {@code standbyPoll} on: the
     * journal is intact, and a start only reads more of it.
     */
    private void writeStateCheckpoint() {
        long now = System.nanoTime();
        if (lastBatchSeq == stateSeq || lastBatchHash == null) {
            stateNanos = now;
            return;
        }
        try {
            if (mailCheckpointReaches(lastBatchSeq)) {
                state.write(lastBatchSeq, lastBatchHash, this::writeState);
                stateSeq = lastBatchSeq;
                stateNanos = now;
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the outbox's state checkpoint at seq " + lastBatchSeq
                    + " could not be written (it is tried again; a start meanwhile reads more of the journal): " + e);
        }
        stateRetryNanos = now + standbyPollMillis * 1_000_000;
    }

    /**
     * Whether the mail checkpoint is at {@code seq} or past it, so that a state checkpoint at
     * {@code seq} skips no mail. Called at a batch's end, when every mail up to {@code seq} has
     * been handled: an outbox that holds the store moves the checkpoint there; one that does not
     * reads the store's, which the leader moves.
     */
    private boolean mailCheckpointReaches(long seq) throws IOException {
        if (checkpointSeq < seq) {
            if (holdsStore()) {
                moveCheckpoint(seq);
            } else {
                readCheckpoint();
            }
        }
        return checkpointSeq >= seq;
    }

    /**
     * Whether this node leads and its outbox holds the store at the node's epoch. When the node
     * leads at an epoch the outbox has not claimed, it claims the store first, and the checkpoint
     * becomes the one the last leader left.
     */
    private boolean holdsStore() throws IOException {
        if (!leadership.leading()) {
            return false;
        }
        long epoch = leadership.epoch();
        if (epoch == claimedEpoch) {
            return true;
        }
        OptionalLong claimed = store.claim(epoch);
        if (claimed.isEmpty()) {
            fencedOut(epoch, "claiming the outbox's store");
            return false;
        }
        claimedEpoch = epoch;
        checkpointSeq = claimed.getAsLong();
        // A leader that stopped between a forget and its erasure left the dead letters behind.
        eraseDeadLettersOf(accounts.forgottenAccounts());
        LOG.log(System.Logger.Level.INFO, "the outbox sends at epoch " + epoch + "; mails up to seq "
                + checkpointSeq + " are sent");
        return true;
    }

    /** Whether this node still leads at the epoch the outbox claimed the store at: asked before each attempt. */
    private boolean stillHoldsStore() {
        return leadership.leading() && leadership.epoch() == claimedEpoch;
    }

    /**
     * Not leading: the store's checkpoint, which the leader moves, tells which pending mails went
     * out. A failed read is tried again at the next poll: nothing was sent, nothing is lost.
     */
    private void readCheckpoint() {
        try {
            checkpointSeq = Math.max(checkpointSeq, store.checkpoint());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "reading the outbox's checkpoint failed: " + e.getMessage()
                    + "; trying again in " + standbyPollMillis + " ms");
        }
    }

    /** Sends the pending mails in seq order; false when this node stopped leading before the last went out. */
    private boolean sendPending() throws Exception {
        while (!pending.isEmpty()) {
            Pending mail = pending.getFirst();
            Delivery delivery;
            try {
                delivery = sendWithRetries(mail);
            } catch (Exception e) {
                // Keep what was sent: the mails before this one are not sent again.
                saveProgress(mail.mail().seq() - 1, e);
                throw e;
            }
            if (delivery == Delivery.NOT_LEADING) {
                moveCheckpoint(mail.mail().seq() - 1);
                return false;
            }
            pending.removeFirst();
        }
        return true;
    }

    /**
     * Sends the mail, retrying temporary failures until they end, the outbox closes or this node
     * stops leading.
     */
    private Delivery sendWithRetries(Pending pending)
            throws OutboxStoppedException, SubscriberClosedException, InterruptedException {
        OutgoingMail mail = pending.mail();
        for (int attempt = 1; ; attempt++) {
            if (!stillHoldsStore()) {
                return Delivery.NOT_LEADING;
            }
            try {
                transport.send(mail);
                mailsSent.incrementAndGet();
                if (attempt > 1) {
                    LOG.log(System.Logger.Level.INFO, "sent " + describe(mail) + " at attempt " + attempt);
                }
                return Delivery.HANDLED;
            } catch (PermanentMailException e) {
                sendFailures.incrementAndGet();
                return setAside(pending, e);
            } catch (IOException e) {
                sendFailures.incrementAndGet();
                long millis = settings.backoffMillisAfter(attempt);
                LOG.log(System.Logger.Level.WARNING, "sending " + describe(mail) + " failed (attempt " + attempt
                        + "): " + e.getMessage() + "; trying again in " + millis + " ms");
                pauseFor(millis, mail);
            }
        }
    }

    /**
     * Writes the mail's dead letter; when even that fails, the outbox stops before the mail. Fenced
     * out, the mail is left to the leader.
     */
    private Delivery setAside(Pending pending, PermanentMailException refusal) throws OutboxStoppedException {
        OutgoingMail mail = pending.mail();
        String place = store.placeOf(mail.seq(), mail.kind());
        boolean written;
        try {
            written = store.setAside(deadLetterOf(pending, refusal.getMessage()), claimedEpoch);
        } catch (IOException e) {
            e.addSuppressed(refusal);
            throw new OutboxStoppedException("the outbox stopped: " + describe(mail) + " was refused for good ("
                    + refusal.getMessage() + ") and could not be set aside in " + place + " ("
                    + e.getMessage() + "); " + AFTER_RESTART, e);
        }
        if (!written) {
            fencedOut(claimedEpoch, "setting " + describe(mail) + " aside");
            return Delivery.NOT_LEADING;
        }
        mailsSetAside.incrementAndGet();
        LOG.log(System.Logger.Level.WARNING, describe(mail) + " was refused for good and set aside in " + place
                + ": " + refusal.getMessage());
        return Delivery.HANDLED;
    }

    private DeadLetter deadLetterOf(Pending pending, String reason) {
        OutgoingMail mail = pending.mail();
        return new DeadLetter(mail.seq(), mail.kind(), mail.messageId(), mail.to(), mail.subject(), mail.time(),
                pending.accountNumber(), pending.amount(), pending.balanceAfter(), reason, clock.instant());
    }

    /**
     * What the holder's export ({@code GET /api/account/export}) tells of one mail the outbox
     * makes: never its bodies, its link or its code.
     *
     * @param seq  the seq of the event the mail tells about
     * @param time the event's time, the mail's Date
     * @param to   the address the mail goes to
     */
    public record MailSummary(long seq, OutgoingMail.Kind kind, Instant time, String to, String subject) {
        static MailSummary of(OutgoingMail mail) {
            return new MailSummary(mail.seq(), mail.kind(), mail.time(), mail.to(), mail.subject());
        }
    }

    /**
     * The verification mail the outbox makes for the AccountOpened of {@code openedSeq}, made
     * with the same template and settings, told without its link. A link asked for again
     * ({@code POST /api/verify/resend}) is no event of its own, and no summary stands for it.
     */
    public MailSummary verificationMail(long openedSeq, Instant time, long accountNumber, String email) {
        return MailSummary.of(MailTemplates.verification(settings, openedSeq, time, accountNumber, email,
                codes.codeFor(accountNumber, openedSeq)));
    }

    /** The notice the outbox makes for the MoneyWithdrawn of {@code seq}, made with the same template. */
    public MailSummary withdrawalMail(long seq, Instant time, long accountNumber, String email, long amount,
                                      long balanceAfter) {
        return MailSummary.of(MailTemplates.withdrawal(settings, seq, time, accountNumber, email, amount,
                balanceAfter));
    }

    /**
     * Up to {@code limit} (at most {@link #DEAD_LETTERS_LIST_LIMIT_MAX}) mails set aside, with a
     * seq above {@code afterSeq}, in seq order; on any node.
     */
    public List<DeadLetter> deadLetters(long afterSeq, int limit) throws IOException {
        if (limit < 1 || limit > DEAD_LETTERS_LIST_LIMIT_MAX) {
            throw new IllegalArgumentException("limit must be from 1 to " + DEAD_LETTERS_LIST_LIMIT_MAX);
        }
        return store.deadLetters(afterSeq, limit);
    }

    /**
     * Sends the mail set aside for this seq again, now, on the caller's thread, once: the same
     * mail, made again from the facts of its dead letter and the server key, with the Message-ID
     * it had. Sent, its dead letter is deleted. Refused for good again, the dead letter stays with
     * the new reason and the {@link PermanentMailException} is thrown; a temporary failure leaves
     * it as it was and is thrown as it came. Empty when no mail of this seq is set aside. Only the
     * leader retries: elsewhere it is an {@link OutboxNotLeadingException}, and nothing is sent.
     */
    public Optional<DeadLetter> retryDeadLetter(long seq) throws IOException {
        synchronized (retrying) {
            // The epoch first: should the node lead again at a later one in between, the store refuses the writes.
            long epoch = leadership.epoch();
            if (!leadership.leading()) {
                throw new OutboxNotLeadingException("this node does not lead the cluster: retry the dead letter of seq "
                        + seq + " on the leader");
            }
            Optional<DeadLetter> found = store.deadLetter(seq);
            if (found.isEmpty()) {
                return found;
            }
            DeadLetter letter = found.get();
            OutgoingMail mail = mailOf(letter);
            try {
                transport.send(mail);
            } catch (PermanentMailException e) {
                sendFailures.incrementAndGet();
                DeadLetter again = new DeadLetter(letter.seq(), letter.kind(), letter.messageId(), letter.to(),
                        letter.subject(), letter.time(), letter.accountNumber(), letter.amount(),
                        letter.balanceAfter(), e.getMessage(), clock.instant());
                if (!store.setAside(again, epoch)) {
                    LOG.log(System.Logger.Level.WARNING, "an operator's retry of " + describe(mail) + " was refused"
                            + " again, and this node no longer leads: the dead letter keeps its earlier reason");
                }
                throw e;
            } catch (IOException e) {
                sendFailures.incrementAndGet();
                throw e;
            }
            mailsSent.incrementAndGet();
            if (store.remove(letter, epoch)) {
                LOG.log(System.Logger.Level.INFO, "an operator's retry sent " + describe(mail)
                        + "; its dead letter is deleted");
            } else {
                LOG.log(System.Logger.Level.WARNING, "an operator's retry sent " + describe(mail) + ", but this node"
                        + " stopped leading before it deleted the dead letter: it stays listed, and a retry on the"
                        + " leader sends it again with the same Message-ID");
            }
            return found;
        }
    }

    /** The mail a dead letter stands for, as the outbox first made it. */
    private OutgoingMail mailOf(DeadLetter letter) {
        OutgoingMail mail = switch (letter.kind()) {
            case VERIFICATION -> MailTemplates.verification(settings, letter.seq(), letter.time(),
                    letter.accountNumber(), letter.to(), codes.codeFor(letter.accountNumber(), letter.seq()));
            case WITHDRAWAL -> MailTemplates.withdrawal(settings, letter.seq(), letter.time(), letter.accountNumber(),
                    letter.to(), letter.amount(), letter.balanceAfter());
            case VERIFICATION_RESENT -> throw new IllegalStateException(
                    "the outbox sets aside no resent link, yet " + letter + " says so");
        };
        // The same mail keeps its Message-ID even if mail.from's domain changed since.
        return new OutgoingMail(mail.seq(), mail.kind(), letter.messageId(), mail.from(), mail.to(), mail.subject(),
                mail.time(), mail.textBody(), mail.htmlBody(), mail.link());
    }

    /**
     * Waits before the next attempt, or a standby's next look at the checkpoint; {@link #close()}
     * ends the wait, and the outbox with it; {@link #leadershipChanged()} ends the wait.
     */
    private void pauseFor(long millis, OutgoingMail mail) throws SubscriberClosedException, InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (pause) {
            long left = millis;
            while (!closed && !wakeUp && left > 0) {
                pause.wait(left);
                left = (deadline - System.nanoTime()) / 1_000_000;
            }
            wakeUp = false;
        }
        if (closed) {
            throw closedBefore(mail.seq(), mail);
        }
    }

    /**
     * The store could not be read or written (its database lost in a failover, say): the outbox
     * claims it again before its next mail, and tries again after a standby's poll interval. What
     * was sent stays sent: a mail whose checkpoint was not moved may go out once more, with the
     * same Message-ID; a mail not sent is still pending.
     */
    private void storeFailed(IOException e) throws SubscriberClosedException, InterruptedException {
        LOG.log(System.Logger.Level.WARNING, "the outbox's store failed (" + e.getMessage() + "); trying again in "
                + standbyPollMillis + " ms");
        storeProblem = "its store cannot be reached, and it tries again: " + e.getMessage();
        claimedEpoch = NOT_CLAIMED;
        if (!pending.isEmpty()) {
            pauseFor(standbyPollMillis, pending.getFirst().mail());
        }
    }

    /**
     * Moves the checkpoint to {@code sentSeq} when it is ahead, if the store still takes this
     * outbox's writes; fenced out, the checkpoint stays where the store has it.
     */
    private void moveCheckpoint(long sentSeq) throws IOException {
        if (sentSeq <= checkpointSeq || claimedEpoch == NOT_CLAIMED) {
            return;
        }
        if (store.writeCheckpoint(sentSeq, claimedEpoch)) {
            checkpointSeq = sentSeq;
        } else {
            fencedOut(claimedEpoch, "moving the checkpoint to seq " + sentSeq);
        }
    }

    private void saveProgress(long sentSeq, Exception failure) {
        try {
            moveCheckpoint(sentSeq);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * The store refused a claim or a write at {@code epoch}: another node leads the journal. The
     * outbox holds the store no more, and logs it once for the epoch.
     */
    private void fencedOut(long epoch, String what) {
        claimedEpoch = NOT_CLAIMED;
        if (fencedEpochLogged == epoch) {
            return;
        }
        fencedEpochLogged = epoch;
        LOG.log(System.Logger.Level.WARNING, "the outbox was fenced out at epoch " + epoch + " (" + what
                + "): another node leads the journal. This node sends no mail and moves no checkpoint until it"
                + " leads again; the leader sends the mails after seq " + checkpointSeq
                + " (any this node sent since, again, with the same Message-ID)");
    }

    private int row(long number, long seq) {
        int row = accounts.rowOf(number);
        if (row == OutboxAccounts.ABSENT) {
            throw Movements.unknownAccount(number, seq);
        }
        return row;
    }

    private static SubscriberClosedException closedBefore(long seq, OutgoingMail mail) {
        String what = mail == null ? "the mails from seq " + seq + " on were" : describe(mail) + " was";
        return new SubscriberClosedException("the outbox was closed before " + what + " sent; " + AFTER_RESTART);
    }

    /** Names a mail in logs and errors: kind, seq and Message-ID, never its link. */
    private static String describe(OutgoingMail mail) {
        return "the " + mail.kind().label() + " mail of seq " + mail.seq() + " " + mail.messageId();
    }

    /**
     * Tells the outbox that its node's leadership may have changed (it leads now, or no longer):
     * a standby's wait, or a pause between attempts, ends at once, and the outbox asks {@link
     * Leadership} again. Without it the outbox notices within {@code standbyPoll}, or at its next
     * attempt. Any thread may call it.
     */
    public void leadershipChanged() {
        synchronized (pause) {
            wakeUp = true;
            pause.notifyAll();
        }
    }

    /**
     * Stops the outbox: a pause between attempts ends at once, and no more mail is sent (an
     * attempt under way finishes). What was not checkpointed is sent after the next start.
     */
    @Override
    public void close() {
        closed = true;
        synchronized (pause) {
            pause.notifyAll();
        }
    }

    /** Every event up to this seq has had its mail sent (durably recorded). */
    public long checkpointSeq() {
        return checkpointSeq;
    }

    /** The seq of the state checkpoint this outbox started from; 0 when it read the journal from its start. */
    public long restoredSeq() {
        return restoredSeq;
    }

    /** Why the state checkpoint was not used at the start (the state was rebuilt), or null. */
    public String restoreProblem() {
        return restoreProblem;
    }

    /** The seq of the state checkpoint written last, or started from; 0 for none. */
    public long stateCheckpointSeq() {
        return stateSeq;
    }

    /** Events the outbox has read from the journal since its start, as of the last batch's end. */
    public long eventsRead() {
        return eventsRead;
    }

    /** Mails handed to the transport successfully since the start (a resent or retried one counts again). */
    public long mailsSent() {
        return mailsSent.get();
    }

    /** Mails refused for good and set aside in the dead letters since the start. */
    public long mailsSetAside() {
        return mailsSetAside.get();
    }

    /** Failed attempts since the start, retried or not. */
    public long sendFailures() {
        return sendFailures.get();
    }
}
