package eventbank.server.readmodel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The seq a read model has applied, and waiting for it. One writer (the subscription's thread)
 * advances it event by event and wakes waiters once per batch; any thread may wait.
 *
 * <p>Waking costs nothing when nobody waits: a waiter counts itself in {@link #waiters} before
 * it reads {@link #seq}, and the writer reads {@link #waiters} after it writes {@link #seq} and a
 * full fence. The waiter's are volatile accesses, so one of the two sees the other's write:
 * either the waiter sees the new seq, or the writer sees the waiter and notifies it. The waiter
 * checks and waits while holding the monitor the writer must take to notify, so no wake-up falls
 * between its check and its wait. Per event the writer stores the seq with release semantics
 * only (readers still see it at once, in order with the state before it): the full fence a
 * volatile write costs is paid once per batch, where the waiters are read.
 *
 * <p>A model whose state becomes readable only at a batch's end (the statements model writes its
 * entries to a file then) records its events with {@link #advanceAtBatchEnd} instead: readers
 * see the seq move at the batch's end, after the state it describes.
 */
final class AppliedSeq {
    private static final VarHandle SEQ = FieldHandles.of(MethodHandles.lookup(), "seq", long.class);

    private final Object signal = new Object();
    private volatile long seq;
    private volatile int waiters;

    private boolean started;
    /** The writer's: the last event applied, whether readers see it yet ({@link #seq}) or not. */
    private long written;

    long get() {
        return seq;
    }

    /**
     * Marks the model started. A read model is rebuilt at every start; an instance serves one
     * subscription, since a second start would apply events twice.
     */
    synchronized void startOnce() {
        if (started) {
            throw new IllegalStateException("a read model is rebuilt at every start: subscribe a new instance");
        }
        started = true;
    }

    /** Back to before the start: the model's events were dropped, and it starts again. */
    synchronized void forget() {
        started = false;
        seq = 0;
        written = 0;
    }

    /**
     * Starts at a restored checkpoint's seq, before any event is applied, and wakes every waiter
     * to look again: a query that waits for that seq or less is answered at once.
     */
    void startAt(long restored) {
        if (restored < 0 || seq != 0) {
            throw new IllegalStateException("a read model starts once, from a seq of 0 or more, not " + restored);
        }
        seq = restored;
        written = restored;
        wakeWaiters();
    }

    /**
     * Checks, before an event is applied, that it is the next one. Events apply in order, from
     * 1, without gaps: anything else means the subscription or the model is broken, and that
     * stops the model (the subscription reports it in the engine's health).
     */
    void requireNext(long next) {
        if (next != written + 1) {
            throw new IllegalStateException("events apply in order: expected seq " + (written + 1) + ", got " + next);
        }
    }

    /** Records that the event at {@code next} is applied and visible to readers. */
    void advance(long next) {
        requireNext(next);
        written = next;
        SEQ.setRelease(this, next);
    }

    /** Records that the event at {@code next} is applied; readers see it at the batch's end. */
    void advanceAtBatchEnd(long next) {
        requireNext(next);
        written = next;
    }

    /**
     * A batch ending at {@code lastSeq} has been applied: checks that it was applied whole and
     * wakes every waiter to look again.
     */
    void batchEnded(long lastSeq) {
        if (lastSeq != written) {
            throw new IllegalStateException("a batch ends at seq " + lastSeq + " but seq " + written + " is applied");
        }
        if (seq != lastSeq) {
            SEQ.setRelease(this, lastSeq);
        }
        wakeWaiters();
    }

    private void wakeWaiters() {
        VarHandle.fullFence(); // orders the seq stored before against the read of waiters
        if (waiters > 0) {
            synchronized (signal) {
                signal.notifyAll();
            }
        }
    }

    boolean await(long minSeq, Duration timeout) throws InterruptedException {
        if (seq >= minSeq) {
            return true;
        }
        long timeoutNanos = saturatedNanos(timeout);
        long start = System.nanoTime();
        synchronized (signal) {
            waiters++;
            try {
                while (seq < minSeq) {
                    // Elapsed time, not a deadline, so that a huge timeout cannot overflow.
                    long left = timeoutNanos - (System.nanoTime() - start);
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(signal, left);
                }
                return true;
            } finally {
                waiters--;
            }
        }
    }

    private static long saturatedNanos(Duration timeout) {
        if (timeout.isNegative()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }
}
