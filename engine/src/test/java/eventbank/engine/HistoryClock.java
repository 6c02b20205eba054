package eventbank.engine;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A deterministic clock for the sequencer: the n-th reading is a pure function of the seed and
 * n. It mostly moves ten seconds a reading, sometimes a few seconds backwards (the sequencer
 * must stamp {@code max(clock, last)}), and every so often leaps six hours, so idempotency keys
 * (kept 24 hours) expire within a history of a few thousand commands. The engine and the
 * reference each read their own instance and, reading once per command, see the same times.
 */
final class HistoryClock implements LongSupplier {
    /** 2026-01-01T00:00:00Z in microseconds. */
    static final long BASE_MICROS = 1_767_225_600_000_000L;
    private static final long STEP_MICROS = 10_000_000L;
    private static final long LEAP_MICROS = 6L * 60 * 60 * 1_000_000;
    private static final long LEAP_EVERY_READINGS = 100;

    private final long seed;
    private final AtomicLong readings = new AtomicLong();
    private final Object signal = new Object();

    HistoryClock(long seed) {
        this.seed = seed;
    }

    @Override
    public long getAsLong() {
        long n = readings.getAndIncrement();
        synchronized (signal) {
            signal.notifyAll();
        }
        return timeAt(n);
    }

    long timeAt(long n) {
        long jitter = Math.floorMod(mix(seed * 31 + n), 25_000_000L) - 12_000_000L;
        return BASE_MICROS + n * STEP_MICROS + (n / LEAP_EVERY_READINGS) * LEAP_MICROS + jitter;
    }

    /** How many times the clock has been read: one per command the sequencer decided. */
    long readings() {
        return readings.get();
    }

    /** Waits until the clock has been read {@code count} times; false after the timeout. */
    boolean awaitReadings(long count, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        synchronized (signal) {
            while (readings.get() < count) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                signal.wait(left);
            }
        }
        return true;
    }

    static long mix(long key) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
