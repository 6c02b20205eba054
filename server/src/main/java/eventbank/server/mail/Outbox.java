package eventbank.server.mail;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import eventbank.core.VerificationCodes;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.Engine;
import eventbank.engine.subscription.Subscriber;
import eventbank.engine.subscription.SubscriberClosedException;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
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
 * account's email and balance from the events it follows. Rather than store that map with the
 * checkpoint (a file as large as the bank, rewritten at every batch that sends a mail, with a
 * format of its own to keep readable), the outbox reads the log from seq 0 at every start and
 * sends only for events after its checkpoint: {@link #start()} answers 0, and the checkpoint
 * only decides which events get a mail. The map is then right by construction, the same way the
 * write model's is; the price is a full read of the log at start, on the outbox's own thread
 * (the sequencer never waits for it), before the first new mail. Starting from the snapshotter's
 * snapshot instead is an optimization for later.
 *
 * <p><b>Failures.</b> A temporary failure of the transport (the server is down, a 4xx) is
 * retried with a pause doubling from {@code backoffMillisMin} up to the cap
 * {@code backoffMillisMax} ({@code mail.retry_backoff_max}), for as long as it lasts: the number
 * of attempts has no limit on purpose, since giving up would either lose the mail or need a
 * restart to send it, and an outage of the mail server is neither the mail's fault nor the
 * bank's. The pause is what is bounded. The outbox runs on its subscription's thread, which reads
 * the journal on its own, so it never blocks the sequencer: it falls behind, and catches up when
 * the server is back. A permanent failure (the server refuses this mail: an address that does
 * not exist) is not retried: the mail is set aside in {@link DeadLetters} and the outbox goes on,
 * so one bad address does not hold back everybody's mail; an operator lists and retries those
 * ({@link #deadLetters}, {@link #retryDeadLetter}). Only when the dead letter cannot be written
 * does the outbox stop.
 *
 * <p>Close the outbox before the engine: {@link #close()} ends a pause between attempts at once,
 * where the engine's own close would wait for the outage to end.
 */
public final class Outbox implements Subscriber, AutoCloseable {
    /** The directory of the outbox in the data directory: mails (file transport) and checkpoint. */
    public static final String DIRECTORY_NAME = "outbox";
    /** The most dead letters one call of {@link #deadLetters} answers. */
    public static final int DEAD_LETTERS_LIST_LIMIT_MAX = DeadLetters.LIST_LIMIT_MAX;
    private static final System.Logger LOG = System.getLogger(Outbox.class.getName());
    private static final String AFTER_RESTART = "it and the mails after it are sent after the next start";

    /** A mail of the batch, with the facts a dead letter needs to make it again. */
    private record Pending(OutgoingMail mail, long accountNumber, long amount, long balanceAfter) {}

    /** What the outbox knows of an account: where to write, and its balance now. */
    private static final class Account {
        final String email;
        long balance;

        Account(String email, long balance) {
            this.email = email;
            this.balance = balance;
        }
    }

    private final OutboxSettings settings;
    private final MailTransport transport;
    private final VerificationCodes codes;
    private final OutboxCheckpoint checkpoint;
    private final DeadLetters deadLetters;
    private final LongSupplier committedSeq;
    /** When a mail is set aside; the server's clock. */
    private final Clock clock;
    private final Map<Long, Account> accounts = new HashMap<>();
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    /** The mails of the batch being handed over, in seq order; at most one per event. */
    private final List<Pending> pending = new ArrayList<>();
    private final Object pause = new Object();
    /** One operator's retry at a time, so that two retries of one dead letter do not both send it. */
    private final Object retrying = new Object();
    private Thread thread;
    /** Every event up to this seq has had its mail sent; durable in the checkpoint file. */
    private volatile long checkpointSeq;
    private final AtomicLong mailsSent = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong mailsSetAside = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param directory    the outbox directory ({@code data/outbox}), where the checkpoint lives
     * @param committedSeq the journal's head, to refuse a checkpoint past it
     * @param clock        the server's clock, for when a mail was set aside
     */
    public Outbox(Path directory, Storage storage, VerificationCodes codes, MailTransport transport,
                  OutboxSettings settings, LongSupplier committedSeq, Clock clock) {
        this.checkpoint = new OutboxCheckpoint(Objects.requireNonNull(storage, "storage"),
                Objects.requireNonNull(directory, "directory"));
        this.deadLetters = new DeadLetters(storage, directory);
        this.codes = Objects.requireNonNull(codes, "codes");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.committedSeq = Objects.requireNonNull(committedSeq, "committedSeq");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** An outbox for this engine's data directory, storage and server key; subscribe it next. */
    public static Outbox of(Engine engine, MailTransport transport, OutboxSettings settings, Clock clock) {
        return new Outbox(directoryOf(engine.config().dataDirectory()), engine.config().storage(),
                engine.verificationCodes(), transport, settings, engine::committedSeq, clock);
    }

    /**
     * Where the outbox leaves durable proof of committed seqs, for recovery to judge the
     * journal's end by (see {@code DurableEvidence}): its checkpoint, its mail files ({@code
     * {seq:020}-{kind}.eml}, file transport) and its dead letters. A mail is made only for a
     * committed event, so a mail file past the journal's end proves the journal lost events.
     */
    public static List<DurableEvidence.Source> evidence(Storage storage, Path dataDirectory) {
        Path directory = directoryOf(dataDirectory);
        OutboxCheckpoint checkpoint = new OutboxCheckpoint(storage, directory);
        return List.of(checkpoint::claim,
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

    @Override
    public String name() {
        return "outbox";
    }

    /** Reads the checkpoint and answers 0: the outbox rebuilds its balances from the whole log. */
    @Override
    public long start() throws IOException {
        thread = Thread.currentThread();
        accounts.clear();
        pending.clear();
        long seq = checkpoint.read();
        long head = committedSeq.getAsLong();
        if (seq > head) {
            // The mails of the events the journal will number seq+1 and on would never be sent.
            throw new IllegalStateException("the outbox checkpoint " + checkpoint.path() + " is at seq " + seq
                    + ", past the journal's head " + head
                    + ": the outbox and the journal do not belong together");
        }
        checkpointSeq = seq;
        LOG.log(System.Logger.Level.INFO, "outbox starts; mails up to seq " + seq + " are sent");
        return 0;
    }

    @Override
    public void onEvent(Recorded recorded) throws OutboxStoppedException, SubscriberClosedException {
        assert Thread.currentThread() == thread : "the outbox runs on its subscription's thread only";
        if (closed) {
            throw closedBefore(checkpointSeq + 1, null);
        }
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
    }

    /**
     * Follows each account's email and balance, and makes the mail of an event after the
     * checkpoint: the verification link for an opening, the notice of a withdrawal.
     */
    private final class Applier implements Movements.Sink {
        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            accounts.put(e.accountNumber(), new Account(e.email(), e.openingBalance()));
            if (seq > checkpointSeq) {
                String code = codes.codeFor(e.accountNumber(), seq);
                OutgoingMail mail = MailTemplates.verification(settings, seq, EpochMicros.toInstant(timeMicros),
                        e.accountNumber(), e.email(), code);
                pending.add(new Pending(mail, e.accountNumber(), 0, 0));
            }
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            // Nothing to tell: the person just followed the link.
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            Account from = account(debitAccount, seq);
            Account to = creditAccount == Movements.OUTSIDE ? null : account(creditAccount, seq);
            from.balance -= amount;
            if (to != null) {
                to.balance += amount;
            }
            switch (kind) {
                case TRANSFER -> {
                    // No mail for transfers.
                }
                case WITHDRAWAL -> {
                    if (seq > checkpointSeq) {
                        OutgoingMail mail = MailTemplates.withdrawal(settings, seq, EpochMicros.toInstant(timeMicros),
                                debitAccount, from.email, amount, from.balance);
                        pending.add(new Pending(mail, debitAccount, amount, from.balance));
                    }
                }
            }
        }
    }

    /**
     * Sends the batch's mails, then checkpoints the batch. A batch without mail moves no
     * checkpoint: its events, read again after a restart, send nothing either, and the fsyncs
     * are saved.
     */
    @Override
    public void onBatchEnd(long lastSeq, byte[] chainHash) throws Exception {
        assert Thread.currentThread() == thread : "the outbox runs on its subscription's thread only";
        if (closed) {
            throw closedBefore(checkpointSeq + 1, null);
        }
        if (pending.isEmpty()) {
            return;
        }
        try {
            for (Pending mail : pending) {
                try {
                    sendWithRetries(mail);
                } catch (Exception e) {
                    // Keep what was sent: the mails before this one are not sent again.
                    saveProgress(mail.mail().seq() - 1, e);
                    throw e;
                }
            }
        } finally {
            pending.clear();
        }
        checkpoint.write(lastSeq);
        checkpointSeq = lastSeq;
    }

    /** Sends the mail, retrying temporary failures until they end (or the outbox closes). */
    private void sendWithRetries(Pending pending)
            throws OutboxStoppedException, SubscriberClosedException, InterruptedException {
        OutgoingMail mail = pending.mail();
        for (int attempt = 1; ; attempt++) {
            try {
                transport.send(mail);
                mailsSent.incrementAndGet();
                if (attempt > 1) {
                    LOG.log(System.Logger.Level.INFO, "sent " + describe(mail) + " at attempt " + attempt);
                }
                return;
            } catch (PermanentMailException e) {
                sendFailures.incrementAndGet();
                setAside(pending, e);
                return;
            } catch (IOException e) {
                sendFailures.incrementAndGet();
                long millis = settings.backoffMillisAfter(attempt);
                LOG.log(System.Logger.Level.WARNING, "sending " + describe(mail) + " failed (attempt " + attempt
                        + "): " + e.getMessage() + "; trying again in " + millis + " ms");
                pauseFor(millis, mail);
            }
        }
    }

    /** Writes the mail's dead letter; when even that fails, the outbox stops before the mail. */
    private void setAside(Pending pending, PermanentMailException refusal) throws OutboxStoppedException {
        OutgoingMail mail = pending.mail();
        try {
            deadLetters.setAside(deadLetterOf(pending, refusal.getMessage()));
        } catch (IOException e) {
            e.addSuppressed(refusal);
            throw new OutboxStoppedException("the outbox stopped: " + describe(mail) + " was refused for good ("
                    + refusal.getMessage() + ") and could not be set aside in " + deadLetters.directory() + " ("
                    + e.getMessage() + "); " + AFTER_RESTART, e);
        }
        mailsSetAside.incrementAndGet();
        LOG.log(System.Logger.Level.WARNING, describe(mail) + " was refused for good and set aside in "
                + deadLetters.directory().resolve(DeadLetters.fileName(mail.seq(), mail.kind())) + ": "
                + refusal.getMessage());
    }

    private DeadLetter deadLetterOf(Pending pending, String reason) {
        OutgoingMail mail = pending.mail();
        return new DeadLetter(mail.seq(), mail.kind(), mail.messageId(), mail.to(), mail.subject(), mail.time(),
                pending.accountNumber(), pending.amount(), pending.balanceAfter(), reason, clock.instant());
    }

    /**
     * Up to {@code limit} (at most {@link #DEAD_LETTERS_LIST_LIMIT_MAX}) mails set aside, with a
     * seq above {@code afterSeq}, in seq order.
     */
    public List<DeadLetter> deadLetters(long afterSeq, int limit) throws IOException {
        if (limit < 1 || limit > DEAD_LETTERS_LIST_LIMIT_MAX) {
            throw new IllegalArgumentException("limit must be from 1 to " + DEAD_LETTERS_LIST_LIMIT_MAX);
        }
        return deadLetters.list(afterSeq, limit);
    }

    /**
     * Sends the mail set aside for this seq again, now, on the caller's thread, once: the same
     * mail, made again from the facts of its dead letter and the server key, with the Message-ID
     * it had. Sent, its dead letter is deleted. Refused for good again, the dead letter stays with
     * the new reason and the {@link PermanentMailException} is thrown; a temporary failure leaves
     * it as it was and is thrown as it came. Empty when no mail of this seq is set aside.
     */
    public Optional<DeadLetter> retryDeadLetter(long seq) throws IOException {
        synchronized (retrying) {
            Optional<DeadLetter> found = deadLetters.find(seq);
            if (found.isEmpty()) {
                return found;
            }
            DeadLetter letter = found.get();
            OutgoingMail mail = mailOf(letter);
            try {
                transport.send(mail);
            } catch (PermanentMailException e) {
                sendFailures.incrementAndGet();
                deadLetters.setAside(new DeadLetter(letter.seq(), letter.kind(), letter.messageId(), letter.to(),
                        letter.subject(), letter.time(), letter.accountNumber(), letter.amount(),
                        letter.balanceAfter(), e.getMessage(), clock.instant()));
                throw e;
            } catch (IOException e) {
                sendFailures.incrementAndGet();
                throw e;
            }
            mailsSent.incrementAndGet();
            deadLetters.remove(letter);
            LOG.log(System.Logger.Level.INFO, "an operator's retry sent " + describe(mail)
                    + "; its dead letter is deleted");
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

    /** Waits before the next attempt; {@link #close()} ends the wait, and the outbox with it. */
    private void pauseFor(long millis, OutgoingMail mail)
            throws OutboxStoppedException, SubscriberClosedException, InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (pause) {
            long left = millis;
            while (!closed && left > 0) {
                pause.wait(left);
                left = (deadline - System.nanoTime()) / 1_000_000;
            }
        }
        if (closed) {
            throw closedBefore(mail.seq(), mail);
        }
    }

    private void saveProgress(long sentSeq, Exception failure) {
        if (sentSeq <= checkpointSeq) {
            return;
        }
        try {
            checkpoint.write(sentSeq);
            checkpointSeq = sentSeq;
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    private Account account(long number, long seq) {
        Account account = accounts.get(number);
        if (account == null) {
            throw Movements.unknownAccount(number, seq);
        }
        return account;
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
