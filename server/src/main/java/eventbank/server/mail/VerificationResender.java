package eventbank.server.mail;

import eventbank.core.VerificationCodes;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Mails a verification link again ({@code POST /api/verify/resend}) on a thread of its own, so
 * the request answers at once and the answer cannot tell, by its timing, whether a mail went
 * out. A resend records no event: the link is the one first mailed (the code is derived from the
 * account number and the seq of its AccountOpened), so there is nothing to remember, and the
 * accounts read model that finds the account only knows durable events.
 *
 * <p>Unlike the outbox's mails, a resend is sent once or not at all: it is not retried, a full
 * queue ({@link #QUEUE_CAPACITY}) drops it, and a restart forgets what was queued. The person can
 * ask again; each drop and failure is counted and logged (without the link).
 */
public final class VerificationResender implements AutoCloseable {
    /** The most resends waiting to be sent; beyond it a resend is dropped. */
    public static final int QUEUE_CAPACITY = 1_000;
    /** How long {@link #close()} waits for a mail being sent. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(VerificationResender.class.getName());

    private record Request(long accountNumber, long openedSeq, String email, Instant time) {}

    private final MailTransport transport;
    private final OutboxSettings settings;
    private final VerificationCodes codes;
    private final Clock clock;
    private final BlockingQueue<Request> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Thread thread;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    public VerificationResender(MailTransport transport, OutboxSettings settings, VerificationCodes codes,
                                Clock clock) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.codes = Objects.requireNonNull(codes, "codes");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.thread = Thread.ofPlatform().name("eventbank-resender").daemon().start(this::run);
    }

    /**
     * Queues the link of this account for sending; false when the queue is full or the resender
     * closed (nothing is sent then).
     *
     * @param openedSeq the seq of the account's AccountOpened
     */
    public boolean resend(long accountNumber, long openedSeq, String email) {
        if (closed || !queue.offer(new Request(accountNumber, openedSeq, email, clock.instant()))) {
            dropped.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "dropped a resent verification link for account " + accountNumber
                    + (closed ? ": the server is stopping" : ": " + QUEUE_CAPACITY + " are waiting already"));
            return false;
        }
        return true;
    }

    private void run() {
        while (!closed) {
            Request request;
            try {
                request = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            String code = codes.codeFor(request.accountNumber(), request.openedSeq());
            OutgoingMail mail = MailTemplates.verificationResent(settings, request.openedSeq(), request.time(),
                    request.accountNumber(), request.email(), code);
            try {
                transport.send(mail);
                sent.incrementAndGet();
            } catch (IOException | RuntimeException e) {
                failed.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "sending " + mail + " failed; it is not retried (the person"
                        + " may ask again): " + e.getMessage());
            }
        }
    }

    /** Resent links handed to the transport. */
    public long sent() {
        return sent.get();
    }

    /** Resent links the transport failed to send. */
    public long failed() {
        return failed.get();
    }

    /** Resends dropped because the queue was full or the server stopping. */
    public long dropped() {
        return dropped.get();
    }

    /** Stops taking resends; one being sent may finish, those still queued are not sent. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.interrupt();
        thread.join(CLOSE_WAIT);
    }
}
