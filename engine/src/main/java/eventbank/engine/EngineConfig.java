package eventbank.engine;

import eventbank.core.BankCommandPolicy;
import eventbank.core.EpochMicros;
import eventbank.core.Limits;
import eventbank.engine.cluster.ClusterNode;
import eventbank.engine.cluster.SharedJournal;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.FileJournal;
import eventbank.engine.journal.Journal;
import eventbank.engine.keys.KeyTable;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.write.SequencerLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Everything the engine is started with. {@link #defaults(Path)} is what a real server uses,
 * with the system's clock; {@link #builder(Path)} starts from it, and the server sets its own
 * clock while tests replace the storage, the clock, the random source and the snapshot interval.
 *
 * @param serverKey                 the server's secret, or null to load (or create) {@code data/server.key}
 * @param clockMicros               the sequencer stamps events with this time ({@link EpochMicros})
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
 * @param journalOpener             opens a journal kept elsewhere (a database); null = the file
 *                                  journal in {@link #journalDirectory()}, the default
 * @param cluster                   a journal that several nodes share, which this node follows and
 *                                  leads when it may ({@link ClusterNode}); null = a journal of
 *                                  this node's own
 * @param kekFile                   the key-encryption key of the data keys openings are sealed
 *                                  under ({@code keys.kek_file}); null = {@code data/keys/kek}
 * @param sealPersonalData          seal each opening's email and password hash under a key of its
 *                                  own (DESIGN.md, "Personal data"); false records them in plain
 *                                  text as versions before did (tests of journals written then)
 */
public record EngineConfig(Path dataDirectory, Storage storage, byte[] serverKey, boolean lockDataDirectory,
                           long segmentBytesMax, long snapshotEveryEvents, int snapshotsNewestKept,
                           long snapshotHistorySpanEvents, long idempotencyWindowMicros,
                           SequencerLimits sequencerLimits, LongSupplier clockMicros, LongSupplier accountNumbers,
                           List<DurableEvidence.Source> evidence, long highWaterIntervalMillis,
                           Journal.Opener journalOpener, Cluster cluster, Path kekFile, boolean sealPersonalData) {

    /**
     * A journal shared by a cluster's nodes, this node's part in it, and the key store the
     * openings' data keys are kept in beside the journal (null: openings are recorded in plain
     * text, as before the key store had a table).
     */
    public record Cluster(SharedJournal journal, ClusterNode.Settings node, KeyTable keys) {
        public Cluster(SharedJournal journal, ClusterNode.Settings node) {
            this(journal, node, null);
        }
    }

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

    public EngineConfig {
        evidence = List.copyOf(evidence);
    }

    /** What a real server uses: every default, real files, a random source of account numbers. */
    public static EngineConfig defaults(Path dataDirectory) {
        SecureRandom random = new SecureRandom();
        return new EngineConfig(dataDirectory, new FileStorage(), null, true, SEGMENT_BYTES_MAX_DEFAULT,
                SNAPSHOT_EVERY_EVENTS_DEFAULT, SNAPSHOTS_NEWEST_KEPT_DEFAULT, SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT,
                Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT, SequencerLimits.DEFAULT,
                clockMicrosOf(Clock.systemUTC()), () -> BankCommandPolicy.randomAccountNumber(random), List.of(),
                HIGH_WATER_INTERVAL_MILLIS_DEFAULT, null, null, null, true);
    }

    /** The {@link #defaults} of {@code dataDirectory}, to change some of. */
    public static Builder builder(Path dataDirectory) {
        return defaults(dataDirectory).toBuilder();
    }

    /** This configuration, to change some of. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public Path journalDirectory() {
        return dataDirectory.resolve("journal");
    }

    public Path snapshotDirectory() {
        return dataDirectory.resolve("snapshots");
    }

    /**
     * Opens the journal for writing, as {@link FileJournal#recover} does: the file journal in
     * {@link #journalDirectory()}, or the one {@link #journalOpener} opens.
     */
    public Journal openJournal(long afterSeq, byte[] expectedHash, Journal.BatchConsumer replay,
                               Journal.EndCheck endCheck) throws IOException {
        if (journalOpener != null) {
            return journalOpener.open(afterSeq, expectedHash, replay, endCheck);
        }
        return FileJournal.recover(storage, journalDirectory(), segmentBytesMax, afterSeq, expectedHash, replay,
                endCheck);
    }

    /**
     * The bank's command policy for the sequencer: account numbers from {@link #accountNumbers},
     * room for a command's events by the journal's record sizes.
     */
    public BankCommandPolicy commandPolicy() {
        return new BankCommandPolicy(accountNumbers, EventCodec.RECORD_BYTES_MAX,
                EventCodec.KEYLESS_TRANSFER_RECORD_BYTES);
    }

    /** An {@link EngineConfig} under construction; each setter is named for the components it sets. */
    public static final class Builder {
        private final Path dataDirectory;
        private Storage storage;
        private byte[] serverKey;
        private boolean lockDataDirectory;
        private long segmentBytesMax;
        private long snapshotEveryEvents;
        private int snapshotsNewestKept;
        private long snapshotHistorySpanEvents;
        private long idempotencyWindowMicros;
        private SequencerLimits sequencerLimits;
        private LongSupplier clockMicros;
        private LongSupplier accountNumbers;
        private List<DurableEvidence.Source> evidence;
        private long highWaterIntervalMillis;
        private Journal.Opener journalOpener;
        private Cluster cluster;
        private Path kekFile;
        private boolean sealPersonalData;

        private Builder(EngineConfig from) {
            dataDirectory = from.dataDirectory;
            storage = from.storage;
            serverKey = from.serverKey;
            lockDataDirectory = from.lockDataDirectory;
            segmentBytesMax = from.segmentBytesMax;
            snapshotEveryEvents = from.snapshotEveryEvents;
            snapshotsNewestKept = from.snapshotsNewestKept;
            snapshotHistorySpanEvents = from.snapshotHistorySpanEvents;
            idempotencyWindowMicros = from.idempotencyWindowMicros;
            sequencerLimits = from.sequencerLimits;
            clockMicros = from.clockMicros;
            accountNumbers = from.accountNumbers;
            evidence = from.evidence;
            highWaterIntervalMillis = from.highWaterIntervalMillis;
            journalOpener = from.journalOpener;
            cluster = from.cluster;
            kekFile = from.kekFile;
            sealPersonalData = from.sealPersonalData;
        }

        /** The storage, and whether to lock the data directory (real files only). */
        public Builder storage(Storage storage, boolean lockDataDirectory) {
            this.storage = storage;
            this.lockDataDirectory = lockDataDirectory;
            return this;
        }

        public Builder serverKey(byte[] key) {
            this.serverKey = key;
            return this;
        }

        public Builder segmentBytesMax(long bytes) {
            this.segmentBytesMax = bytes;
            return this;
        }

        /** When snapshots are written (0: never) and which are kept; see the record's components. */
        public Builder snapshots(long everyEvents, int newestKept, long historySpanEvents) {
            this.snapshotEveryEvents = everyEvents;
            this.snapshotsNewestKept = newestKept;
            this.snapshotHistorySpanEvents = historySpanEvents;
            return this;
        }

        public Builder idempotencyWindowMicros(long windowMicros) {
            this.idempotencyWindowMicros = windowMicros;
            return this;
        }

        public Builder sequencerLimits(SequencerLimits limits) {
            this.sequencerLimits = limits;
            return this;
        }

        /** The wall clock in microseconds that the sequencer stamps. */
        public Builder clock(LongSupplier clockMicros) {
            this.clockMicros = clockMicros;
            return this;
        }

        /** The clock the rest of the server reads too. */
        public Builder clock(Clock clock) {
            return clock(clockMicrosOf(clock));
        }

        public Builder accountNumbers(LongSupplier numbers) {
            this.accountNumbers = numbers;
            return this;
        }

        /** Sources of evidence besides the engine's own (the server's checkpoints and mail files). */
        public Builder evidence(List<DurableEvidence.Source> sources) {
            this.evidence = sources;
            return this;
        }

        public Builder highWaterIntervalMillis(long millis) {
            this.highWaterIntervalMillis = millis;
            return this;
        }

        /** A journal kept elsewhere than in files (a database), opened by {@code opener}; null = files. */
        public Builder journal(Journal.Opener opener) {
            this.journalOpener = opener;
            return this;
        }

        /** The key-encryption key's file ({@code keys.kek_file}); null: {@code data/keys/kek}. */
        public Builder kekFile(Path file) {
            this.kekFile = file;
            return this;
        }

        /** Whether openings are sealed (the default) or recorded in plain text as before. */
        public Builder sealPersonalData(boolean seal) {
            this.sealPersonalData = seal;
            return this;
        }

        /** A journal several nodes share (null: this node's own), which this node follows and may lead. */
        public Builder cluster(Cluster shared) {
            this.cluster = shared;
            return this;
        }

        public EngineConfig build() {
            return new EngineConfig(dataDirectory, storage, serverKey, lockDataDirectory, segmentBytesMax,
                    snapshotEveryEvents, snapshotsNewestKept, snapshotHistorySpanEvents, idempotencyWindowMicros,
                    sequencerLimits, clockMicros, accountNumbers, evidence, highWaterIntervalMillis, journalOpener,
                    cluster, kekFile, sealPersonalData);
        }
    }

    private static LongSupplier clockMicrosOf(Clock clock) {
        return () -> EpochMicros.of(clock.instant());
    }
}
