package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Recorded;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads a data directory the way the tests check it: a full replay, or a snapshot plus the tail. */
final class JournalContents {

    /**
     * The journal read from seq 1 with every checksum and the hash chain checked, applied to a
     * fresh bank: the full replay. {@code digestAt} holds the state digest at each of the asked
     * seqs that ends a batch, {@code chainHashAt} the journal's chain hash there.
     */
    record Replay(Bank bank, List<Recorded> events, Map<Long, String> digestAt, Map<Long, byte[]> chainHashAt,
                  JournalReader.TornTail tornTail) {
        Recorded at(long seq) {
            return seq >= 1 && seq <= events.size() ? events.get((int) (seq - 1)) : null;
        }
    }

    private JournalContents() {}

    static Path journalDirectory(Path data) {
        return data.resolve("journal");
    }

    static SnapshotStore snapshots(Storage storage, Path data) throws IOException {
        return ServerKey.snapshotsIn(storage, data);
    }

    static Replay replay(Storage storage, Path data, long window, Collection<Long> seqsOfInterest) throws IOException {
        Bank bank = new Bank(window);
        List<Recorded> events = new ArrayList<>();
        Map<Long, String> digestAt = new HashMap<>();
        Map<Long, byte[]> chainHashAt = new HashMap<>();
        try (JournalReader reader = new JournalReader(storage, journalDirectory(data), true)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(recorded -> {
                    bank.evolve(recorded);
                    events.add(recorded);
                });
                long last = batch.header().lastSeq();
                if (seqsOfInterest.contains(last)) {
                    digestAt.put(last, bank.stateDigest());
                    chainHashAt.put(last, batch.header().chainHash());
                }
            }
            return new Replay(bank, events, digestAt, chainHashAt, reader.tornTail());
        }
    }

    static Replay replay(Storage storage, Path data, long window) throws IOException {
        return replay(storage, data, window, List.of());
    }

    /**
     * What a start from the snapshot at {@code seq} rebuilds: the snapshot, checked to hold the
     * journal's chain hash at its seq, plus every later event of the journal.
     */
    static Bank snapshotPlusTail(Storage storage, Path data, long seq, long window) throws IOException {
        SnapshotStore.Loaded loaded = snapshots(storage, data).read(seq, window);
        Bank bank = loaded.bank();
        try (JournalReader reader = new JournalReader(storage, journalDirectory(data), true)) {
            reader.seek(seq);
            if (reader.nextSeq() != seq + 1 || !Arrays.equals(reader.chainHash(), loaded.chainHash())) {
                throw new AssertionError("snapshot " + seq + " does not match the journal's chain at its seq");
            }
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(bank::evolve);
            }
        }
        return bank;
    }
}
