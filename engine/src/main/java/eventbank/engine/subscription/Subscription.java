package eventbank.engine.subscription;

import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
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

    private final Subscriber subscriber;
    private final Supplier<Journal.Reader> readers;
    /** Used by this subscription's thread only, and closed when it ends. */
    private Journal.Reader reader;
    private final LongSupplier committedSeq;
    /** Signals {@link #awaitDelivered} waiters; the journal thread never touches it. */
    private final Object deliveredSignal = new Object();
    private volatile Thread thread;
    private volatile boolean running = true;
    private volatile long deliveredSeq = -1;
    private volatile Throwable failure;

    /**
     * @param reader       a reader of the journal of its own ({@link Journal#newReader})
     * @param committedSeq the journal's committed seq: the subscriber reads no further
     */
    public Subscription(Subscriber subscriber, Journal.Reader reader, LongSupplier committedSeq) {
        this(subscriber, () -> reader, committedSeq);
    }

    /** With {@code readers} to make a reader at each start: such a subscription can {@link #restart}. */
    public Subscription(Subscriber subscriber, Supplier<Journal.Reader> readers, LongSupplier committedSeq) {
        this.subscriber = subscriber;
        this.readers = readers;
        this.reader = readers.get();
        this.committedSeq = committedSeq;
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
        synchronized (deliveredSignal) {
            deliveredSignal.notifyAll();
        }
        thread.join();
    }

    private void run() {
        try (Journal.Reader reader = this.reader) {
            long checkpoint = subscriber.start();
            deliveredSeq = checkpoint;
            // Look at the journal only once an event after the checkpoint is committed. Before
            // that, the segment that will hold it may be half made (the first command of a new
            // data directory: the file created, its header not yet written), and the reader
            // would take it for a torn write and stop this subscriber for good; nor must seek
            // read batch headers past the committed seq, which may be half written.
            awaitCommit(checkpoint + 1);
            if (!running) {
                return;
            }
            reader.seek(checkpoint);
            while (running) {
                JournalReader.Batch batch = reader.next(committedSeq.getAsLong());
                if (batch == null) {
                    if (reader.tornTail() != null) {
                        throw new IllegalStateException("committed batch unreadable: " + reader.tornTail());
                    }
                    awaitCommit(reader.nextSeq());
                    continue;
                }
                long after = deliveredSeq;
                batch.forEach(recorded -> {
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
