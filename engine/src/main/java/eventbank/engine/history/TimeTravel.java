package eventbank.engine.history;

import eventbank.core.Bank;
import eventbank.core.EpochMicros;
import eventbank.engine.ServerKey;
import eventbank.engine.journal.FileJournalSource;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.snapshot.SnapshotCorruptException;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The write model as of any past seq or instant, rebuilt from a data directory: the newest
 * retained snapshot at or before the point that reads back whole (and records the journal's
 * chain hash at its seq), plus a replay of the journal from it up to exactly that point. The
 * journal is a {@link JournalSource}: the data directory's segments, or a journal kept elsewhere
 * (PostgreSQL) with the snapshots still local files, used when their chain hash matches. Read-only like {@link Verifier}: it takes no lock, writes
 * nothing and never touches a running engine's state, so it works beside a running server. It
 * reads the journal only up to where it ends at the time of reading; a batch being written (or
 * torn) at the end is just the end.
 *
 * <p>Costs: {@link #stateAt} reads one snapshot and replays at most the events between it and
 * the point asked (snapshot retention bounds that; see {@link SnapshotStore#prune}).
 * {@link #seqAtTime} is the source's {@link JournalSource#seqAtTimeMicros}: for the files, a
 * binary search of the segments by the time of their first event, then a scan of one segment.
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

    private final JournalSource journal;
    private final SnapshotStore snapshots;
    private final long idempotencyWindowMicros;
    private final PersonalKeys keys;

    /** Over a data directory: its journal's segments and its snapshots. */
    public TimeTravel(Storage storage, Path dataDirectory, long idempotencyWindowMicros) throws IOException {
        this(new FileJournalSource(storage, dataDirectory.resolve("journal")),
                ServerKey.snapshotsIn(storage, dataDirectory), idempotencyWindowMicros);
    }

    /** Over any journal, with the snapshots of {@code snapshots} (an absent directory holds none). */
    public TimeTravel(JournalSource journal, SnapshotStore snapshots, long idempotencyWindowMicros) {
        this(journal, snapshots, idempotencyWindowMicros, null);
    }

    /** With the key store to open sealed openings with (null: their personal fields read as null). */
    public TimeTravel(JournalSource journal, SnapshotStore snapshots, long idempotencyWindowMicros,
                      PersonalKeys keys) {
        this.keys = keys;
        this.journal = journal;
        this.snapshots = snapshots;
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
            return new State(snapshots.newBank(idempotencyWindowMicros), 0, 0, List.of());
        }
        if (journal.isEmpty()) {
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
            bank = snapshots.newBank(idempotencyWindowMicros);
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
        try (Journal.Reader reader = journal.newReader(false)) {
            reader.seek(from);
            if (from > 0 && (reader.nextSeq() != from + 1 || !Arrays.equals(reader.chainHash(), chainHash))) {
                passedOver.add("snapshot " + snapshots.pathOf(from) + " does not match the journal at its seq "
                        + "(it does not end a batch there, lies past the journal's end or records another chain hash)");
                return null;
            }
            JournalReader.Batch batch;
            while ((batch = reader.next(seq)) != null) {
                batch.forEach(keys, recorded -> {
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
        return journal.seqAtTimeMicros(timeMicros);
    }
}
