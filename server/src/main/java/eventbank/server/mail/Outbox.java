package eventbank.server.mail;

import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.core.VerificationCodes;
import eventbank.engine.Engine;
import eventbank.engine.Subscriber;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

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
 * <p><b>Failures.</b> A temporary failure of the transport is retried with a pause doubling
 * from {@code backoffMillisMin} to {@code backoffMillisMax}, up to {@code sendAttemptsMax}
 * attempts. The outbox runs on its subscription's thread, so it never blocks the sequencer: it
 * falls behind. Beyond the limit it checkpoints the mails already sent and stops its
 * subscription with an {@link OutboxStoppedException}, which the engine's health reports; the
 * mail is sent after the next start. A permanent failure (the server refuses this mail: an
 * address that does not exist) is not retried: the mail is set aside in {@link DeadLetters}
 * and the outbox goes on, so one bad address does not hold back everybody's mail. Only when the
 * dead letter cannot be written does the outbox stop.
 *
 * <p>Close the outbox before the engine: {@link #close()} ends a pause between attempts at once,
 * where the engine's own close would wait for the attempts to run out.
 */
public final class Outbox implements Subscriber, AutoCloseable {
    /** The directory of the outbox in the data directory: mails (file transport) and checkpoint. */
    public static final String DIRECTORY_NAME = "outbox";
    private static final System.Logger LOG = System.getLogger(Outbox.class.getName());
    private static final String AFTER_RESTART = "it and the mails after it are sent after the next start";

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
    private final Map<Long, Account> accounts = new HashMap<>();
    /** The mails of the batch being handed over, in seq order; at most one per event. */
    private final List<OutgoingMail> pending = new ArrayList<>();
    private final Object pause = new Object();
    private Thread thread;
    /** Every event up to this seq has had its mail sent; durable in the checkpoint file. */
    private volatile long checkpointSeq;
    private volatile long mailsSent;
    private volatile long sendFailures;
    private volatile long mailsSetAside;
    private volatile boolean closed;

    /**
     * @param directory    the outbox directory ({@code data/outbox}), where the checkpoint lives
     * @param committedSeq the journal's head, to refuse a checkpoint past it
     */
    public Outbox(Path directory, Storage storage, VerificationCodes codes, MailTransport transport,
                  OutboxSettings settings, LongSupplier committedSeq) {
        this.checkpoint = new OutboxCheckpoint(Objects.requireNonNull(storage, "storage"),
                Objects.requireNonNull(directory, "directory"));
        this.deadLetters = new DeadLetters(storage, directory);
        this.codes = Objects.requireNonNull(codes, "codes");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.committedSeq = Objects.requireNonNull(committedSeq, "committedSeq");
    }

    /** An outbox for this engine's data directory, storage and server key; subscribe it next. */
    public static Outbox of(Engine engine, MailTransport transport, OutboxSettings settings) {
        return new Outbox(directoryOf(engine.config().dataDirectory()), engine.config().storage(),
                engine.verificationCodes(), transport, settings, engine::committedSeq);
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
    public void onEvent(Recorded recorded) throws OutboxStoppedException {
        assert Thread.currentThread() == thread : "the outbox runs on its subscription's thread only";
        if (closed) {
            throw closedBefore(checkpointSeq + 1, null);
        }
        boolean send = recorded.seq() > checkpointSeq;
        Instant time = Instant.EPOCH.plus(recorded.timeMicros(), ChronoUnit.MICROS);
        switch (recorded.event()) {
            case Event.AccountOpened e -> {
                accounts.put(e.accountNumber(), new Account(e.email(), e.openingBalance()));
                if (send) {
                    String code = codes.codeFor(e.accountNumber(), recorded.seq());
                    pending.add(MailTemplates.verification(settings, recorded.seq(), time, e.accountNumber(),
                            e.email(), code));
                }
            }
            case Event.AccountVerified e -> {
                // Nothing to tell: the person just followed the link.
            }
            case Event.MoneyTransferred e -> {
                account(e.fromAccountNumber(), recorded).balance -= e.amount();
                account(e.toAccountNumber(), recorded).balance += e.amount();
            }
            case Event.MoneyWithdrawn e -> {
                Account account = account(e.accountNumber(), recorded);
                account.balance -= e.amount();
                if (send) {
                    pending.add(MailTemplates.withdrawal(settings, recorded.seq(), time, e.accountNumber(),
                            account.email, e.amount(), account.balance));
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
            for (OutgoingMail mail : pending) {
                try {
                    sendWithRetries(mail);
                } catch (Exception e) {
                    // Keep what was sent: the mails before this one are not sent again.
                    saveProgress(mail.seq() - 1, e);
                    throw e;
                }
            }
        } finally {
            pending.clear();
        }
        checkpoint.write(lastSeq);
        checkpointSeq = lastSeq;
    }

    private void sendWithRetries(OutgoingMail mail) throws OutboxStoppedException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                transport.send(mail);
                mailsSent++;
                return;
            } catch (PermanentMailException e) {
                sendFailures++;
                setAside(mail, e);
                return;
            } catch (IOException e) {
                sendFailures++;
                if (attempt >= settings.sendAttemptsMax()) {
                    throw new OutboxStoppedException("the outbox stopped: sending " + describe(mail) + " failed "
                            + attempt + (attempt == 1 ? " time" : " times") + ", as many as sendAttemptsMax allows,"
                            + " the last with: " + e.getMessage() + "; " + AFTER_RESTART, e);
                }
                long millis = settings.backoffMillisAfter(attempt);
                LOG.log(System.Logger.Level.WARNING, "sending " + describe(mail) + " failed (attempt " + attempt
                        + " of " + settings.sendAttemptsMax() + "): " + e.getMessage() + "; trying again in "
                        + millis + " ms");
                pauseFor(millis, mail);
            }
        }
    }

    /** Writes the mail's dead letter; when even that fails, the outbox stops before the mail. */
    private void setAside(OutgoingMail mail, PermanentMailException refusal) throws OutboxStoppedException {
        try {
            deadLetters.setAside(mail, refusal.getMessage());
        } catch (IOException e) {
            e.addSuppressed(refusal);
            throw new OutboxStoppedException("the outbox stopped: " + describe(mail) + " was refused for good ("
                    + refusal.getMessage() + ") and could not be set aside in " + deadLetters.directory() + " ("
                    + e.getMessage() + "); " + AFTER_RESTART, e);
        }
        mailsSetAside++;
        LOG.log(System.Logger.Level.WARNING, describe(mail) + " was refused for good and set aside in "
                + deadLetters.directory().resolve(DeadLetters.fileName(mail)) + ": " + refusal.getMessage());
    }

    /** Waits before the next attempt; {@link #close()} ends the wait, and the outbox with it. */
    private void pauseFor(long millis, OutgoingMail mail)
            throws OutboxStoppedException, InterruptedException {
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

    private Account account(long number, Recorded recorded) {
        Account account = accounts.get(number);
        if (account == null) {
            throw new IllegalStateException("seq " + recorded.seq() + " names account " + number
                    + ", which no earlier AccountOpened opened");
        }
        return account;
    }

    private static OutboxStoppedException closedBefore(long seq, OutgoingMail mail) {
        String what = mail == null ? "the mails from seq " + seq + " on were" : describe(mail) + " was";
        return new OutboxStoppedException("the outbox was closed before " + what + " sent; " + AFTER_RESTART,
                null);
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

    /** Mails handed to the transport successfully since the start (a resent one counts again). */
    public long mailsSent() {
        return mailsSent;
    }

    /** Mails refused for good and set aside in the dead letters since the start. */
    public long mailsSetAside() {
        return mailsSetAside;
    }

    /** Failed attempts since the start, retried or not. */
    public long sendFailures() {
        return sendFailures;
    }
}
