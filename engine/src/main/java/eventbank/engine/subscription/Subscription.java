package eventbank.engine.subscription;

import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.keys.PersonalKeys;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Runs one {@link Subscriber} on its own thread: reads committed batches from the journal from
 * the subscriber's checkpoint on and hands them over, then waits for the next commit. Reading
 * only up to the committed seq means a subscriber never sees an event a crash could lose.
 */
public final class Subscription implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Subscription.class.getName());
    private static final long RETRY_PAUSE_MAX_MILLIS = 1_000;

    private final Subscriber subscriber;
    private final Supplier<Journal.Reader> readers;
    /** Used by this subscription's thread only, and closed when it ends. */
    private Journal.Reader reader;
    private final LongSupplier committedSeq;
    /** {@link Subscriber#catchUpPause}: how long the thread waits once it has read all there was. */
    private final long pauseMillis;
    /** Ends that wait early when the subscription closes. */
    private final Object pauseSignal = new Object();
    /** Signals {@link #awaitDelivered} waiters; the journal thread never touches it. */
    private final Object deliveredSignal = new Object();
    private volatile Thread thread;
    private volatile boolean running = true;
    private volatile long deliveredSeq = -1;
    private final PersonalKeys keys;
    private volatile Throwable failure;
    private volatile IOException readFailure;
    /** The pause before the next read after a failed one; this subscription's thread's only. */
    private long retryPauseMillis;

    /**
     * @param reader       a reader of the journal of its own ({@link Journal#newReader})
     * @param committedSeq the journal's committed seq: the subscriber reads no further
     */
    public Subscription(Subscriber subscriber, Journal.Reader reader, LongSupplier committedSeq) {
        this(subscriber, () -> reader, committedSeq, null);
    }

    /** With {@code readers} to make a reader at each start: such a subscription can {@link #restart}. */
    public Subscription(Subscriber subscriber, Supplier<Journal.Reader> readers, LongSupplier committedSeq) {
        this(subscriber, readers, committedSeq, null);
    }

    /** As above, sealed personal fields reaching the subscriber to be opened with {@code keys} (null: as null). */
    public Subscription(Subscriber subscriber, Supplier<Journal.Reader> readers, LongSupplier committedSeq,
                        PersonalKeys keys) {
        this.subscriber = subscriber;
        this.readers = readers;
        this.keys = keys;
        this.reader = readers.get();
        this.committedSeq = committedSeq;
        this.pauseMillis = subscriber.catchUpPause().toMillis();
        this.thread = newThread();
    }

    private Thread newThread() {
        Thread made = new Thread(this::run, "eventbank-subscriber-" + subscriber.name());
        made.setDaemon(true);
        return made;
    }

    public Subscription start() {
        thread.start();
        return this;
    }

    /**
     * Wakes the subscription after a commit (called by the engine's {@link
     * eventbank.engine.write.CommitNotifier}): an unpark, no monitor (a {@code notifyAll} here,
     * then called on the journal thread, took 11% of the server's samples under HTTP load).
     */
    public void committed() {
        LockSupport.unpark(thread);
    }

    public String name() {
        return subscriber.name();
    }

    /** The seq of the last event handed to the subscriber; -1 before it has started. */
    public long deliveredSeq() {
        return deliveredSeq;
    }

    /** What the subscriber says keeps it from its work now ({@link Subscriber#problem}), or null. */
    public String subscriberProblem() {
        return subscriber.problem();
    }

    /** Why the journal cannot be read now (the subscription tries again), or null while it can. */
    public IOException readFailure() {
        return readFailure;
    }

    /** The error that stopped this subscription, or null. */
    public Throwable failure() {
        return failure;
    }

    /** Waits until the subscriber has been handed every event up to {@code seq}; false on timeout. */
    public boolean awaitDelivered(long seq, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        synchronized (deliveredSignal) {
            while (deliveredSeq < seq && failure == null && running) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                deliveredSignal.wait(left);
            }
        }
        return deliveredSeq >= seq;
    }

    /**
     * The journal's history changed under the subscriber (a failover lost events it was handed):
     * stops its thread, has it {@link Subscriber#forget forget} all it took, and starts it again,
     * on a new reader, from the checkpoint it answers then. A subscription stopped by a failure
     * starts again too; one whose subscriber cannot forget stops with that failure.
     */
    public synchronized void restart() throws InterruptedException {
        close();
        failure = null;
        readFailure = null;
        retryPauseMillis = 0;
        deliveredSeq = -1;
        try {
            subscriber.forget();
        } catch (Exception e) {
            failure = e;
            LOG.log(System.Logger.Level.ERROR, "subscriber " + subscriber.name() + " cannot start again", e);
            return;
        }
        reader = readers.get();
        running = true;
        thread = newThread();
        thread.start();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        LockSupport.unpark(thread);
        synchronized (pauseSignal) {
            pauseSignal.notifyAll();
        }
        synchronized (deliveredSignal) {
            deliveredSignal.notifyAll();
        }
        thread.join();
    }

    private void run() {
        try (Journal.Reader reader = this.reader) {
            long checkpoint = subscriber.start();
            // Under the signal: a subscriber that starts from a checkpoint at the head delivers
            // nothing more, and a waiter for that seq would otherwise sleep to its timeout.
            synchronized (deliveredSignal) {
                deliveredSeq = checkpoint;
                deliveredSignal.notifyAll();
            }
            // Look at the journal only once an event after the checkpoint is committed. Before
            // that, the segment that will hold it may be half made (the first command of a new
            // data directory: the file created, its header not yet written), and the reader
            // would take it for a torn write and stop this subscriber for good; nor must seek
            // read batch headers past the committed seq, which may be half written.
            awaitCommit(checkpoint + 1);
            if (!running) {
                return;
            }
            long seekTo = checkpoint; // where the reader is put before its next read; -1 once it is there
            while (running) {
                JournalReader.Batch batch;
                try {
                    if (seekTo >= 0) {
                        reader.seek(seekTo);
                        seekTo = -1;
                    }
                    batch = reader.next(committedSeq.getAsLong());
                } catch (IOException e) {
                    seekTo = deliveredSeq;
                    readFailed(e);
                    continue;
                }
                if (readFailure != null) {
                    LOG.log(System.Logger.Level.INFO, "subscriber " + subscriber.name() + " reads the journal again");
                    readFailure = null;
                    retryPauseMillis = 0;
                }
                if (batch == null) {
                    if (reader.tornTail() != null) {
                        throw new IllegalStateException("committed batch unreadable: " + reader.tornTail());
                    }
                    pause();
                    awaitCommit(reader.nextSeq());
                    continue;
                }
                long after = deliveredSeq;
                batch.forEach(keys, recorded -> {
                    if (recorded.seq() > after) {
                        deliver(recorded);
                    }
                });
                subscriber.onBatchEnd(batch.header().lastSeq(), batch.header().chainHash());
                synchronized (deliveredSignal) {
                    deliveredSeq = batch.header().lastSeq();
                    deliveredSignal.notifyAll();
                }
            }
            subscriber.stopped();
        } catch (Throwable t) {
            failure = t;
            SubscriberClosedException closed = t instanceof SubscriberClosedException c ? c
                    : t.getCause() instanceof SubscriberClosedException c ? c : null;
            if (closed != null) {
                LOG.log(System.Logger.Level.INFO, "subscriber " + subscriber.name() + " closed: " + closed.getMessage());
            } else {
                LOG.log(System.Logger.Level.ERROR, "subscriber " + subscriber.name() + " stopped", t);
            }
            synchronized (deliveredSignal) {
                deliveredSignal.notifyAll();
            }
        }
    }

    /**
     * The journal could not be read (its database lost in a failover, a disk error): the
     * subscriber keeps what it has, the failure shows in the engine's health, and the read is
     * tried again from the last batch delivered, after a pause that doubles up to a second; a
     * commit or {@link #close} ends the pause sooner. A batch that reads but is damaged is no
     * such failure: it stops the subscription.
     */
    private void readFailed(IOException e) {
        if (readFailure == null) {
            LOG.log(System.Logger.Level.WARNING, "subscriber " + subscriber.name() + " cannot read the journal ("
                    + e.getMessage() + "); trying again");
        }
        readFailure = e;
        retryPauseMillis = Math.min(RETRY_PAUSE_MAX_MILLIS, retryPauseMillis == 0 ? 10 : retryPauseMillis * 2);
        if (running) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(retryPauseMillis));
        }
    }

    private void deliver(eventbank.core.Recorded recorded) {
        try {
            subscriber.onEvent(recorded);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("subscriber " + subscriber.name() + " failed at seq " + recorded.seq(), e);
        }
    }

    /**
     * Waits {@link Subscriber#catchUpPause} once all there was has been read, or less if the
     * subscription closes. A wait on a monitor, not a park: the unparks of the commits meanwhile
     * only leave a permit, which makes {@link #awaitCommit} return at once afterwards.
     */
    private void pause() throws InterruptedException {
        if (pauseMillis == 0) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pauseMillis);
        synchronized (pauseSignal) {
            long left;
            while (running && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(pauseSignal, left);
            }
        }
    }

    /**
     * Parks until the journal has committed {@code nextSeq}. No lost wake-up: the journal thread
     * publishes the committed seq before it unparks, and an unpark that comes before the park
     * leaves a permit that makes the park return at once.
     */
    private void awaitCommit(long nextSeq) {
        while (running && committedSeq.getAsLong() < nextSeq) {
            LockSupport.park(this);
        }
    }
}
