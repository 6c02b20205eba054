package eventbank.engine.history;

import eventbank.core.Bank;
import eventbank.core.EpochMicros;
import eventbank.core.Recorded;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.snapshot.SnapshotCorruptException;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The write model as of any past seq or instant, rebuilt from a data directory: the newest
 * retained snapshot at or before the point that reads back whole, plus a replay of the journal
 * from it up to exactly that point. Read-only like {@link Verifier}: it takes no lock, writes
 * nothing and never touches a running engine's state, so it works beside a running server. It
 * reads the journal only up to where it ends at the time of reading; a batch being written (or
 * torn) at the end is just the end.
 *
 * <p>Costs: {@link #stateAt} reads one snapshot and replays at most the events between it and
 * the point asked (snapshot retention bounds that; see {@link SnapshotStore#prune}).
 * {@link #seqAtTime} binary-searches the segments by the time of their first event (one small
 * read per probe), then scans the one segment that holds the answer linearly, batch by batch,
 * stopping at the first event after the instant; so it costs at most about one segment's read.
 *
 * <p>Not thread-safe: give each thread its own, or synchronize; it holds no open files between
 * calls.
 */
public final class TimeTravel {

    /** The state as of a seq, and how it was rebuilt. */
    public record State(Bank bank, long fromSnapshotSeq, long eventsReplayed, List<String> passedOver) {}

    /** The seq asked for is past the journal's end as it is now. */
    public static final class BeyondTheEndException extends IllegalArgumentException {
        private final long seq;
        private final long lastSeq;

        public BeyondTheEndException(long seq, long lastSeq) {
            super("seq " + seq + " is beyond the end of the journal, which ends at seq " + lastSeq);
            this.seq = seq;
            this.lastSeq = lastSeq;
        }

        public long seq() {
            return seq;
        }

        /** The journal's last seq when it was read. */
        public long lastSeq() {
            return lastSeq;
        }
    }

    private final Storage storage;
    private final Path journalDirectory;
    private final SnapshotStore snapshots;
    private final long idempotencyWindowMicros;

    public TimeTravel(Storage storage, Path dataDirectory, long idempotencyWindowMicros) {
        this.storage = storage;
        this.journalDirectory = dataDirectory.resolve("journal");
        this.snapshots = new SnapshotStore(storage, dataDirectory.resolve("snapshots"));
        this.idempotencyWindowMicros = idempotencyWindowMicros;
    }

    /** The state as of {@code seq}: after event {@code seq} and before the next; 0 is the empty bank. */
    public Bank stateAt(long seq) throws IOException {
        return travel(seq).bank();
    }

    /**
     * The state as of {@code seq}, with the snapshot it started from and the snapshots passed
     * over (corrupt, pruned while reading, or not matching the journal's chain at their seq).
     *
     * @throws IllegalArgumentException  when {@code seq} is negative
     * @throws BeyondTheEndException     when {@code seq} is past the journal's end
     * @throws JournalCorruptException   when the journal is damaged before {@code seq}
     */
    public State travel(long seq) throws IOException {
        if (seq < 0) {
            throw new IllegalArgumentException("seq " + seq + " is negative");
        }
        if (seq == 0) {
            return new State(new Bank(idempotencyWindowMicros), 0, 0, List.of());
        }
        if (segmentFirstSeqs().isEmpty()) {
            throw new BeyondTheEndException(seq, 0);
        }
        List<Long> candidates = new ArrayList<>(snapshots.seqs().stream().filter(s -> s <= seq).sorted().toList());
        List<String> passedOver = new ArrayList<>();
        for (int i = candidates.size() - 1; i >= -1; i--) {
            long from = i >= 0 ? candidates.get(i) : 0;
            State state = replayFrom(from, seq, passedOver);
            if (state != null) {
                return state;
            }
        }
        throw new AssertionError("a replay from seq 0 always answers");
    }

    /** The snapshot at {@code from} (0: none) plus the journal up to {@code seq}; null when that snapshot is unusable. */
    private State replayFrom(long from, long seq, List<String> passedOver) throws IOException {
        Bank bank;
        byte[] chainHash = null;
        if (from == 0) {
            bank = new Bank(idempotencyWindowMicros);
        } else {
            try {
                SnapshotStore.Loaded loaded = snapshots.read(from, idempotencyWindowMicros);
                bank = loaded.bank();
                chainHash = loaded.chainHash();
            } catch (SnapshotCorruptException e) {
                passedOver.add(e.getMessage());
                return null;
            } catch (NoSuchFileException e) {
                passedOver.add("snapshot " + snapshots.pathOf(from) + " was deleted while being read "
                        + "(a running server prunes old snapshots)");
                return null;
            }
        }
        try (JournalReader reader = new JournalReader(storage, journalDirectory, false)) {
            reader.seek(from);
            if (from > 0 && (reader.nextSeq() != from + 1 || !Arrays.equals(reader.chainHash(), chainHash))) {
                passedOver.add("snapshot " + snapshots.pathOf(from) + " does not match the journal at its seq "
                        + "(it does not end a batch there, lies past the journal's end or records another chain hash)");
                return null;
            }
            JournalReader.Batch batch;
            while ((batch = reader.next(seq)) != null) {
                batch.forEach(recorded -> {
                    if (recorded.seq() <= seq) {
                        bank.evolve(recorded);
                    }
                });
            }
        }
        if (bank.lastSeq() < seq) {
            throw new BeyondTheEndException(seq, bank.lastSeq());
        }
        return new State(bank, from, seq - from, List.copyOf(passedOver));
    }

    /**
     * The seq of the last event stamped at or before {@code instant}; 0 when there is none (the
     * journal is empty or starts later). Event times never go backwards, so this is the state
     * "as it was at" that instant.
     */
    public long seqAtTime(Instant instant) throws IOException {
        return seqAtTimeMicros(EpochMicros.of(instant));
    }

    /** {@link #seqAtTime} for a time in microseconds since the epoch. */
    public long seqAtTimeMicros(long timeMicros) throws IOException {
        List<Long> segments = segmentFirstSeqs();
        // The last segment whose first event is at or before the instant holds the answer (or,
        // when it ends before the instant, its last event is the answer).
        int low = 0;
        int high = segments.size() - 1;
        int found = -1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            long first = firstEventTime(segments.get(middle), middle == segments.size() - 1);
            if (first <= timeMicros) {
                found = middle;
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        if (found < 0) {
            return 0;
        }
        long segmentFirst = segments.get(found);
        long[] answer = {segmentFirst};
        boolean[] past = {false};
        try (JournalReader reader = new JournalReader(storage, journalDirectory, false)) {
            reader.seek(segmentFirst);
            JournalReader.Batch batch;
            while (!past[0] && (batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(recorded -> {
                    if (past[0]) {
                        return;
                    }
                    if (recorded.timeMicros() <= timeMicros) {
                        answer[0] = Math.max(answer[0], recorded.seq());
                    } else {
                        past[0] = true;
                    }
                });
            }
        }
        return answer[0];
    }

    /**
     * The time of a segment's first event, read straight from its first batch; for the last
     * segment, {@link Long#MAX_VALUE} when it has no whole batch yet (just rolled over, or being
     * written). Damage in any other segment is corruption.
     */
    private long firstEventTime(long firstSeq, boolean last) throws IOException {
        Path path = journalDirectory.resolve(JournalFormat.segmentName(firstSeq));
        try (StorageFile file = storage.openReadOnly(path)) {
            int headers = JournalFormat.SEGMENT_HEADER_BYTES + JournalFormat.BATCH_HEADER_BYTES;
            ByteBuffer bytes = ByteBuffer.allocate(headers);
            String problem = null;
            JournalFormat.BatchHeader batch = null;
            if (file.read(bytes, 0) < headers) {
                problem = "the segment holds no whole batch header";
            } else {
                JournalFormat.SegmentHeader segment =
                        JournalFormat.parseSegmentHeader(bytes.slice(0, JournalFormat.SEGMENT_HEADER_BYTES));
                batch = JournalFormat.parseBatchHeader(
                        bytes.slice(JournalFormat.SEGMENT_HEADER_BYTES, JournalFormat.BATCH_HEADER_BYTES));
                if (segment == null || segment.firstSeq() != firstSeq) {
                    problem = "the segment header is damaged";
                } else if (batch == null || batch.firstSeq() != firstSeq || batch.count() <= 0) {
                    problem = "the first batch header is damaged";
                }
            }
            if (problem == null) {
                ByteBuffer body = ByteBuffer.allocate(batch.bodyLength());
                if (file.read(body, headers) < batch.bodyLength()) {
                    problem = "the first batch body is incomplete";
                } else if (JournalFormat.crc(body.flip(), 0, batch.bodyLength()) != batch.bodyCrc()) {
                    problem = "the first batch body fails its CRC32C";
                } else {
                    Recorded recorded = EventCodec.decode(body, firstSeq);
                    return recorded.timeMicros();
                }
            }
            if (last) {
                return Long.MAX_VALUE;
            }
            throw new JournalCorruptException(path, JournalFormat.SEGMENT_HEADER_BYTES,
                    problem + " in a segment that is not the last");
        }
    }

    private List<Long> segmentFirstSeqs() throws IOException {
        return storage.list(journalDirectory).stream().map(JournalFormat::firstSeqOf).filter(first -> first > 0)
                .sorted().toList();
    }
}
