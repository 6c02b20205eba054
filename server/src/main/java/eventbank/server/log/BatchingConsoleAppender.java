package eventbank.server.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.util.ReentryGuard;
import ch.qos.logback.core.util.ReentryGuardFactory;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The server's log on standard error, a write of many lines at a time. logback's console
 * appender made a {@code write} to standard error for every line under its lock: with a request
 * log line for every request, that was 5–7% of a request's CPU (BENCHMARKS.md, "Where
 * eventbank's request goes"). Here the caller encodes its line as the console appender did and
 * queues it; one writer thread gathers the lines for {@link #LINGER} after the first and writes
 * them in one go.
 *
 * <ul>
 *   <li>No line is dropped: a caller that finds {@link #LINES_QUEUED_MAX} lines waiting waits
 *       for room (the writer empties the queue at least every {@link #LINGER}). Only the lines of
 *       a write that fails are lost, and the failure is reported to logback's status.</li>
 *   <li>No caller waits for a writer that is gone: one that dies of an {@link Error} hands the
 *       writing to the callers, as a stop does, and its error goes to standard error.</li>
 *   <li>No line is reordered: the lines go out in the order they were queued, whoever writes
 *       them (the writer, or a caller as below), one writer of the stream at a time.</li>
 *   <li>A WARN or ERROR line is written before its call returns, with every line queued before
 *       it: a line that says something went wrong is never left waiting in memory.</li>
 *   <li>Everything queued is written when logback stops ({@link #stop}), by {@link #flush}, and
 *       when the JVM exits (a shutdown hook); from then on each caller writes its line itself.</li>
 * </ul>
 *
 * An INFO line may thus reach standard error up to {@link #LINGER} after it was logged, and a
 * process killed outright (SIGKILL, a crash of the JVM) loses the lines of its last
 * {@link #LINGER} (docs/OPERATIONS.md, "The server's log").
 */
public final class BatchingConsoleAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /** Lines waiting for the writer at most; a caller finding it full waits for room. */
    static final int LINES_QUEUED_MAX = 16_384;
    /** How long the writer gathers lines after the first before it writes them all. */
    static final Duration LINGER = Duration.ofMillis(5);

    /** Standard error, read at each write as logback's console appender does (a test may replace it). */
    private final Supplier<PrintStream> target;
    private final BlockingQueue<byte[]> queued = new ArrayBlockingQueue<>(LINES_QUEUED_MAX);
    /** Held while lines are taken from the queue and written, so that batches never interleave. */
    private final ReentrantLock writing = new ReentrantLock();
    /** Set by the writer before it parks with nothing queued; a caller that finds it set wakes it. */
    private final AtomicBoolean writerIdle = new AtomicBoolean();
    private final List<byte[]> batch = new ArrayList<>();
    private byte[] buffer = new byte[8192];
    private Encoder<ILoggingEvent> encoder;
    private Thread writer;
    private Thread exitHook;
    /** Once set, there is no writer: each caller writes what is queued itself. */
    private volatile boolean writingDirectly;

    public BatchingConsoleAppender() {
        this(() -> System.err);
    }

    /** Writing to {@code target} instead of standard error, for tests. */
    BatchingConsoleAppender(Supplier<PrintStream> target) {
        this.target = target;
    }

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /**
     * No guard against a line logged from within {@link #append}: logback's default keeps a flag in
     * a thread local, which on a virtual thread a request (a new thread each time) costs a map of
     * thread locals a request. Nothing here logs through logback: {@link #append} queues bytes, and
     * the writer writes them to standard error and reports its failures to logback's status.
     */
    @Override
    protected ReentryGuard buildReentryGuard() {
        return ReentryGuardFactory.makeGuard(ReentryGuardFactory.GuardType.NOP);
    }

    @Override
    public void start() {
        if (encoder == null) {
            addError("no encoder for the appender named \"" + name + "\"");
            return;
        }
        writingDirectly = false;
        writer = Thread.ofPlatform().daemon().name("eventbank-log-writer").start(this::writeUntilStopped);
        exitHook = new Thread(this::stopWriter, "eventbank-log-flush");
        try {
            Runtime.getRuntime().addShutdownHook(exitHook);
        } catch (IllegalStateException e) {
            // Started while the JVM exits (a first line logged by a shutdown hook): no writer then.
            exitHook = null;
            stopWriter();
        }
        super.start();
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        stopWriter();
        try {
            if (exitHook != null) {
                Runtime.getRuntime().removeShutdownHook(exitHook);
            }
        } catch (IllegalStateException e) {
            // The JVM is exiting: the hook runs or ran, and it finds nothing more to write.
        }
        super.stop();
    }

    @Override
    protected void append(ILoggingEvent event) {
        enqueue(encoder.encode(event));
        if (writingDirectly || event.getLevel().isGreaterOrEqual(Level.WARN)) {
            flush();
        } else if (writerIdle.get() && writerIdle.compareAndSet(true, false)) {
            LockSupport.unpark(writer);
        }
    }

    /**
     * Writes every log line logged so far to standard error, for a process about to end by
     * {@code Runtime.halt} (which runs no shutdown hook): each of this kind of appender of
     * logback's root logger flushes. Does nothing when an operator's own logback configuration
     * has none.
     */
    public static void flushAll() {
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            Iterator<Appender<ILoggingEvent>> appenders = context.getLogger(Logger.ROOT_LOGGER_NAME)
                    .iteratorForAppenders();
            while (appenders.hasNext()) {
                if (appenders.next() instanceof BatchingConsoleAppender batching) {
                    batching.flush();
                }
            }
        }
    }

    /** Writes every line queued before this call; when it returns, they are on standard error. */
    public void flush() {
        writing.lock();
        try {
            queued.drainTo(batch);
            if (batch.isEmpty()) {
                return;
            }
            int length = 0;
            for (byte[] line : batch) {
                length += line.length;
            }
            if (buffer.length < length) {
                buffer = new byte[Math.max(length, buffer.length * 2)];
            }
            int at = 0;
            for (byte[] line : batch) {
                System.arraycopy(line, 0, buffer, at, line.length);
                at += line.length;
            }
            batch.clear();
            PrintStream standardError = target.get();
            standardError.write(buffer, 0, length);
            standardError.flush();
        } finally {
            writing.unlock();
        }
    }

    /** Queues a line, waiting for room while the queue is full; never drops it. */
    private void enqueue(byte[] line) {
        if (queued.offer(line)) {
            return;
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (queued.offer(line, LINGER.toNanos(), TimeUnit.NANOSECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                if (writingDirectly) {
                    flush(); // no writer will make room
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The writer: waits (parked) for a first line, lets more gather for {@link #LINGER}, writes
     * them. A write that fails with a {@link RuntimeException} loses its lines and is reported;
     * the writer goes on. An {@link Error} ends it, and then nobody must wait for it: callers
     * write their own lines from then on (as when it stops), a caller waiting for room in a full
     * queue included, and the lines queued meanwhile are written at once.
     */
    private void writeUntilStopped() {
        try {
            writeBatches();
        } catch (Error e) {
            writingDirectly = true;
            addError("the log writer failed and stopped; from now on each line is written by its caller", e);
            try {
                flush();
            } catch (RuntimeException | Error again) {
                e.addSuppressed(again);
            }
            throw e; // to the thread's uncaught-exception handler, which prints it on standard error
        }
    }

    private void writeBatches() {
        // Whether the last linger found lines: a busy writer lingers again rather than going idle, so
        // that under a steady flow of lines no caller pays for waking it (a futex call a wake-up).
        boolean busy = false;
        while (!writingDirectly) {
            if (queued.isEmpty() && !busy) {
                writerIdle.set(true);
                // A caller queues and then looks at writerIdle; this sets it and then looks at the
                // queue: one of the two sees the other, so a line is never left without a wake-up.
                if (queued.isEmpty() && !writingDirectly) {
                    LockSupport.park(this);
                }
                writerIdle.set(false);
                continue;
            }
            LockSupport.parkNanos(this, LINGER.toNanos());
            busy = !queued.isEmpty();
            if (!busy) {
                continue;
            }
            try {
                flush();
            } catch (RuntimeException e) {
                addError("the log writer could not write to standard error", e);
            }
        }
    }

    /** The lines waiting for the writer, for tests. */
    int linesQueued() {
        return queued.size();
    }

    /** Ends the writer and writes what is queued; callers write their own lines from then on. */
    private void stopWriter() {
        writingDirectly = true;
        LockSupport.unpark(writer);
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        flush();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
