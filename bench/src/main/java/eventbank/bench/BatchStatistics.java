package eventbank.bench;

import eventbank.engine.write.SequencerStatistics;

/** A reading of the sequencer's counters, to print what happened between two readings. */
record BatchStatistics(long commits, long events, long bytes, long fsyncNanos, long busy, long nanoTime) {

    static BatchStatistics of(SequencerStatistics statistics) {
        return new BatchStatistics(statistics.commits(), statistics.events(), statistics.bytes(),
                statistics.fsyncNanosTotal(), statistics.busyRejections(), System.nanoTime());
    }

    /** One line on what happened since {@code before}. */
    String since(BatchStatistics before, SequencerStatistics now) {
        long commitCount = commits - before.commits;
        long eventCount = events - before.events;
        double seconds = (nanoTime - before.nanoTime) / 1e9;
        return String.format(
                "commits %,d (%,.0f/s), events %,d (%,.0f/s), avg events/commit %,.1f (max ever %,d), "
                        + "avg fsync %.3f ms (max ever %.3f ms), fsync busy %.0f%% of the time, %,.1f MB/s, busy %,d",
                commitCount, commitCount / seconds, eventCount, eventCount / seconds,
                commitCount == 0 ? 0.0 : (double) eventCount / commitCount, now.batchEventsMax(),
                commitCount == 0 ? 0.0 : (fsyncNanos - before.fsyncNanos) / 1e6 / commitCount,
                now.fsyncNanosMax() / 1e6, 100.0 * (fsyncNanos - before.fsyncNanos) / (nanoTime - before.nanoTime),
                (bytes - before.bytes) / seconds / 1e6, busy - before.busy);
    }
}
