package eventbank.engine;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the sequencer for metrics and benchmarks. Written by the journal thread only,
 * except {@link #busy}; read by anyone (the values are plain and may be a moment old).
 */
public final class SequencerStatistics {
    final LongAdder busy = new LongAdder();
    private volatile long commits;
    private volatile long events;
    private volatile long bytes;
    private volatile long fsyncNanosTotal;
    private volatile long fsyncNanosMax;
    private volatile long batchEventsMax;
    volatile boolean failed;

    void recordCommit(int count, long batchBytes, long fsyncNanos) {
        commits++;
        events += count;
        bytes += batchBytes;
        fsyncNanosTotal += fsyncNanos;
        fsyncNanosMax = Math.max(fsyncNanosMax, fsyncNanos);
        batchEventsMax = Math.max(batchEventsMax, count);
    }

    public long commits() {
        return commits;
    }

    public long events() {
        return events;
    }

    public long bytes() {
        return bytes;
    }

    public long fsyncNanosTotal() {
        return fsyncNanosTotal;
    }

    public long fsyncNanosMax() {
        return fsyncNanosMax;
    }

    public long batchEventsMax() {
        return batchEventsMax;
    }

    public long busyRejections() {
        return busy.sum();
    }

    public boolean failed() {
        return failed;
    }
}
