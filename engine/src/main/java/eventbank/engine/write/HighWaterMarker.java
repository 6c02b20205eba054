package eventbank.engine.write;

import eventbank.engine.journal.HighWaterMark;
import java.io.IOException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Writes the journal's {@link HighWaterMark} off the commit path: every {@code intervalMillis}
 * while the committed head moves, and once more at a clean close. A batch committed more than
 * one interval before a crash is then provably committed, and recovery will not cut it even if
 * its bytes are damaged later. It costs one small write and one fsync per interval, at most.
 *
 * <p>An interval of 0 writes the mark at close only (tests that count fsyncs). After a journal
 * failure the mark is not written again: fail-stop leaves the journal's disk alone.
 *
 * <p>A failure to write the mark is no journal failure (the journal is intact; only the proof
 * lags): it is reported in the engine's health and tried again at the next interval.
 */
public final class HighWaterMarker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HighWaterMarker.class.getName());

    private final HighWaterMark mark;
    /** The committed head, or null once the journal failed: then its disk is left alone. */
    private final Supplier<Sequencer.Head> committedHead;
    private final long intervalNanos;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable lastFailure;
    /** The seq written last; only the marker's thread (then close) touches it. */
    private long writtenSeq;

    public HighWaterMarker(HighWaterMark mark, Supplier<Sequencer.Head> committedHead, long writtenSeq,
                    long intervalMillis) {
        this.mark = mark;
        this.committedHead = committedHead;
        this.writtenSeq = writtenSeq;
        this.intervalNanos = intervalMillis * 1_000_000;
        this.thread = new Thread(this::run, "eventbank-high-water");
        thread.setDaemon(true);
    }

    public HighWaterMarker start() {
        thread.start();
        return this;
    }

    /** The error of the last write, or null when it succeeded. */
    public Throwable lastFailure() {
        return lastFailure;
    }

    private void run() {
        while (running) {
            if (intervalNanos > 0) {
                LockSupport.parkNanos(this, intervalNanos);
            } else {
                LockSupport.park(this); // written at close only
            }
            if (running) {
                writeIfMoved();
            }
        }
    }

    private void writeIfMoved() {
        Sequencer.Head head = committedHead.get();
        if (head == null || head.seq() == writtenSeq) {
            return;
        }
        try {
            mark.write(head.seq(), head.hash());
            writtenSeq = head.seq();
            lastFailure = null;
        } catch (IOException | RuntimeException e) {
            if (lastFailure == null) {
                LOG.log(System.Logger.Level.WARNING, "cannot write the journal's high-water mark " + mark.path()
                        + " (the journal is intact; recovery has less proof of what was committed): " + e);
            }
            lastFailure = e;
        }
    }

    /** Stops the thread and writes the head as it is now: call it after the sequencer closed. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        LockSupport.unpark(thread);
        thread.join();
        writeIfMoved();
        try {
            mark.close();
        } catch (IOException e) {
            // Every write was forced already.
        }
    }
}
