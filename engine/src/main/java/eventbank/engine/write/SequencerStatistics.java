package eventbank.engine.write;

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
    private final FixedBucketHistogram fsyncNanosHistogram = new FixedBucketHistogram(FSYNC_NANOS_BOUNDS);
    private final FixedBucketHistogram batchEventsHistogram = new FixedBucketHistogram(BATCH_EVENTS_BOUNDS);

    /** Upper bounds of the fsync latency histogram: 25 µs to 10 s. */
    private static final long[] FSYNC_NANOS_BOUNDS = {
        25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000,
        250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L,
    };

    /** Upper bounds of the batch size histogram (events per commit): powers of two, 1 to 65,536. */
    private static final long[] BATCH_EVENTS_BOUNDS = {
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024, 2_048, 4_096, 8_192, 16_384, 32_768, 65_536,
    };

    void recordCommit(int count, long batchBytes, long fsyncNanos) {
        fsyncNanosHistogram.record(fsyncNanos);
        batchEventsHistogram.record(count);
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

    /** The time each commit's fsync took, in nanoseconds, one value per commit. */
    public FixedBucketHistogram fsyncNanosHistogram() {
        return fsyncNanosHistogram;
    }

    /** The events of each commit batch, one value per commit. */
    public FixedBucketHistogram batchEventsHistogram() {
        return batchEventsHistogram;
    }

    public long busyRejections() {
        return busy.sum();
    }

    public boolean failed() {
        return failed;
    }
}
