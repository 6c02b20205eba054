package eventbank.engine;

import eventbank.core.EpochMicros;
import eventbank.core.Limits;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Everything the engine is started with. {@link #defaults(Path)} is what a real server uses,
 * with the server's clock; tests replace the storage, the clock, the random source and the
 * snapshot interval.
 *
 * @param serverKey                 the server's secret, or null to load (or create) {@code data/server.key}
 * @param clockMicros               the sequencer stamps events with this time ({@link EpochMicros});
 *                                  the system's clock by default
 * @param lockDataDirectory         take the exclusive lock on the data directory (real files only)
 * @param segmentBytesMax           a journal segment is closed once it would grow past this
 * @param snapshotEveryEvents       the snapshotter writes a snapshot after this many events; 0 = never
 * @param snapshotsNewestKept       how many of the newest snapshots are always kept
 * @param snapshotHistorySpanEvents of older snapshots, one is kept per span of this many events
 * @param evidence                  where the server's subscribers leave durable proof of committed
 *                                  seqs (checkpoints, mail files), besides the engine's own
 * @param highWaterIntervalMillis   how often the journal's high-water mark is written while the
 *                                  log grows: a batch older than this is provably committed; 0 =
 *                                  at close only (tests that count fsyncs)
 */
public record EngineConfig(Path dataDirectory, Storage storage, byte[] serverKey, boolean lockDataDirectory,
                           long segmentBytesMax, long snapshotEveryEvents, int snapshotsNewestKept,
                           long snapshotHistorySpanEvents, long idempotencyWindowMicros,
                           SequencerLimits sequencerLimits, LongSupplier clockMicros, LongSupplier accountNumbers,
                           List<DurableEvidence.Source> evidence, long highWaterIntervalMillis) {

    public static final long SEGMENT_BYTES_MAX_DEFAULT = 256L << 20;
    public static final long SNAPSHOT_EVERY_EVENTS_DEFAULT = 1_000_000;
    public static final int SNAPSHOTS_NEWEST_KEPT_DEFAULT = 3;
    /**
     * One snapshot of history per million events, so that the state as of any past point
     * (time travel, what-if) replays at most about a million events: under a second on two
     * cores (BENCHMARKS.md "Read side": 157 ms median, 642 ms at worst on a busy machine, against
     * up to 9.7 s with one per 10 million). The price is disk: one snapshot (about 41 bytes an
     * account) per million events of history, next to the journal's ~38 MB per million events.
     */
    public static final long SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT = 1_000_000;

    /**
     * The high-water mark is written at most ten times a second: one small write and fsync per
     * 100 ms beside the journal's own (BENCHMARKS.md measures what it costs), and a damaged last
     * batch older than 100 ms is never cut as a torn write.
     */
    public static final long HIGH_WATER_INTERVAL_MILLIS_DEFAULT = 100;

    public static EngineConfig defaults(Path dataDirectory) {
        SecureRandom random = new SecureRandom();
        return new EngineConfig(dataDirectory, new FileStorage(), null, true, SEGMENT_BYTES_MAX_DEFAULT,
                SNAPSHOT_EVERY_EVENTS_DEFAULT, SNAPSHOTS_NEWEST_KEPT_DEFAULT, SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT,
                Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT, SequencerLimits.DEFAULT,
                clockMicrosOf(Clock.systemUTC()), () -> randomAccountNumber(random), List.of(),
                HIGH_WATER_INTERVAL_MILLIS_DEFAULT);
    }

    public Path journalDirectory() {
        return dataDirectory.resolve("journal");
    }

    public Path snapshotDirectory() {
        return dataDirectory.resolve("snapshots");
    }

    public EngineConfig withStorage(Storage storage, boolean lockDataDirectory) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    public EngineConfig withServerKey(byte[] key) {
        return new EngineConfig(dataDirectory, storage, key, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    public EngineConfig withSegmentBytesMax(long bytes) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, bytes,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    public EngineConfig withSnapshots(long everyEvents, int newestKept, long historySpanEvents) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                everyEvents, newestKept, historySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    public EngineConfig withIdempotencyWindowMicros(long windowMicros) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, windowMicros,
                sequencerLimits, clockMicros, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    public EngineConfig withSequencerLimits(SequencerLimits limits) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                limits, clockMicros, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    public EngineConfig withClock(LongSupplier clock) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clock, accountNumbers,
                evidence, highWaterIntervalMillis);
    }

    /** With the clock the rest of the server reads too. */
    public EngineConfig withClock(Clock clock) {
        return withClock(clockMicrosOf(clock));
    }

    public EngineConfig withAccountNumbers(LongSupplier numbers) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, numbers,
                evidence, highWaterIntervalMillis);
    }

    /** With {@code sources} of evidence besides the engine's own (the server's checkpoints and mail files). */
    public EngineConfig withEvidence(List<DurableEvidence.Source> sources) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, accountNumbers, List.copyOf(sources), highWaterIntervalMillis);
    }

    public EngineConfig withHighWaterIntervalMillis(long millis) {
        return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                sequencerLimits, clockMicros, accountNumbers, evidence, millis);
    }

    private static LongSupplier clockMicrosOf(Clock clock) {
        return () -> EpochMicros.of(clock.instant());
    }

    /** A uniformly random 16-digit number whose first digit is 1 to 9. */
    public static long randomAccountNumber(java.util.random.RandomGenerator random) {
        return random.nextLong(Limits.ACCOUNT_NUMBER_MIN, Limits.ACCOUNT_NUMBER_MAX + 1);
    }
}
