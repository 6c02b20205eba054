package eventbank.engine.write;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A histogram with fixed, inclusive upper bounds and a last bucket for everything above them,
 * for metrics. One thread records, any thread reads. Recording is a scan of a few bounds and two
 * release stores (no allocation, no lock, no compare-and-set), cheap enough for the journal
 * thread after every fsync. A reader may see a value a moment old, and the sum a record behind
 * the counts.
 */
public final class FixedBucketHistogram {
    private final long[] upperBounds;
    private final AtomicLongArray counts;
    private final AtomicLong sum = new AtomicLong();

    /** @param upperBounds inclusive upper bounds, strictly ascending; a bucket above the last is added */
    public FixedBucketHistogram(long... upperBounds) {
        for (int i = 1; i < upperBounds.length; i++) {
            if (upperBounds[i] <= upperBounds[i - 1]) {
                throw new IllegalArgumentException("upper bounds must be strictly ascending");
            }
        }
        this.upperBounds = upperBounds.clone();
        this.counts = new AtomicLongArray(upperBounds.length + 1);
    }

    /** Counts one value; only the owning thread calls it. */
    void record(long value) {
        int i = 0;
        while (i < upperBounds.length && value > upperBounds[i]) {
            i++;
        }
        counts.setRelease(i, counts.getPlain(i) + 1);
        sum.setRelease(sum.getPlain() + value);
    }

    /** The inclusive upper bounds, without the last, unbounded bucket. */
    public long[] upperBounds() {
        return upperBounds.clone();
    }

    /**
     * How many values fell in each bucket (not cumulative): index i counts values above bound
     * i−1 and up to bound i; the last index counts values above every bound.
     */
    public long[] counts() {
        long[] copy = new long[counts.length()];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = counts.getAcquire(i);
        }
        return copy;
    }

    /** The sum of every value recorded. */
    public long sum() {
        return sum.getAcquire();
    }
}
