package eventbank.engine.history;

import eventbank.core.Bank;
import eventbank.engine.ServerKey;
import eventbank.engine.journal.FileJournalSource;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.journal.MalformedRecordException;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.snapshot.SnapshotCorruptException;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Checks a data directory end to end, read-only: every batch's checksums and the hash chain
 * from the first event, a replay from scratch, every snapshot against the replay at its seq,
 * the newest snapshot plus the journal's tail against the full replay, and the money
 * invariant. Safe beside a running server: it reads only what is there and writes nothing.
 *
 * <p>A journal kept elsewhere than in the data directory (PostgreSQL, a {@link JournalSource})
 * is checked the same way, batch by batch, and so are the snapshots of the data directory
 * beside it; besides, the head the journal records apart from its batches must be where its
 * batches lead, with the same chain hash.
 */
public final class Verifier {

    /**
     * What the check found. {@code problems} empty means everything checked out; warnings are
     * things a start repairs by itself (a torn last write, a leftover temporary file).
     */
    public record Report(long lastSeq, String headHash, long events, long batches, int snapshotsChecked,
                         int accounts, long balanceTotal, long openedTotal, long withdrawnTotal,
                         List<String> problems, List<String> warnings) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private Verifier() {}

    public static Report verify(Storage storage, Path dataDirectory, long idempotencyWindowMicros) throws IOException {
        return verify(storage, dataDirectory, idempotencyWindowMicros, List.of());
    }

    /**
     * As above, judging the journal's end with the same {@link DurableEvidence} as a start
     * does, {@code evidence} being the server's sources: a start refuses exactly when this
     * finds a problem with the journal.
     */
    public static Report verify(Storage storage, Path dataDirectory, long idempotencyWindowMicros,
                                List<DurableEvidence.Source> evidence) throws IOException {
        // Read before the journal: beside a running server, nothing read here is newer than it.
        DurableEvidence durable = DurableEvidence.gather(storage, dataDirectory, evidence);
        return verify(new FileJournalSource(storage, dataDirectory.resolve("journal")),
                ServerKey.snapshotsIn(storage, dataDirectory), idempotencyWindowMicros, durable);
    }

    /**
     * Checks {@code journal} and the snapshots in {@code snapshots} (an absent directory holds
     * none). The durable evidence of a data directory is a rule of the file journal, whose end a
     * start may cut; a journal kept elsewhere is the truth (DESIGN.md, "Cluster mode"), and a
     * node sets aside local data that runs ahead of it. So none is judged here, and a snapshot
     * that does not match the journal is a problem as it is with files.
     */
    public static Report verify(JournalSource journal, SnapshotStore snapshots, long idempotencyWindowMicros)
            throws IOException {
        return verify(journal, snapshots, idempotencyWindowMicros, DurableEvidence.none());
    }

    private static Report verify(JournalSource journal, SnapshotStore snapshots, long idempotencyWindowMicros,
                                 DurableEvidence durable) throws IOException {
        // Read before the batches: they may only have gone on since, never fallen behind.
        JournalSource.Head recorded = journal.recordedHead();
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        List<Long> snapshotSeqs = snapshots.seqs();
        Map<Long, byte[]> chainHashAt = new HashMap<>();
        Map<Long, String> digestAt = new HashMap<>();
        Bank replayed = snapshots.newBank(idempotencyWindowMicros);
        long events = 0;
        long batches = 0;
        byte[] head = JournalFormat.HASH_ZERO;
        boolean journalReadToItsEnd = false;
        boolean recordedHeadReached = recorded == null || recorded.lastSeq() == 0;
        try (Journal.Reader reader = journal.newReader(true)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                durable.observe(batch.header().firstSeq(), batch.header().lastSeq(), batch.header().chainHash());
                if (recorded != null && batch.header().lastSeq() == recorded.lastSeq()) {
                    recordedHeadReached = true;
                    checkRecordedHead(recorded, batch.header().chainHash(), problems);
                }
                batch.forEach(replayed::evolve);
                events += batch.header().count();
                batches++;
                head = batch.header().chainHash(); // so that damage further on leaves the last sound head
                long last = batch.header().lastSeq();
                if (snapshotSeqs.contains(last)) {
                    chainHashAt.put(last, batch.header().chainHash());
                    digestAt.put(last, replayed.stateDigest());
                }
            }
            head = reader.chainHash();
            journalReadToItsEnd = true;
            checkRecordedHeadReached(recorded, recordedHeadReached, reader.nextSeq() - 1, problems);
            JournalReader.TornTail torn = reader.tornTail();
            String refusal = durable.refusal(reader.nextSeq() - 1, torn);
            if (refusal != null) {
                problems.add(refusal + " (a start refuses this data directory)");
            } else if (torn != null) {
                warnings.add("the journal ends in bytes that are not a whole batch (a torn write, which the next "
                        + "start quarantines, or a batch being written right now): " + torn.length() + " bytes in "
                        + torn.file() + " at offset " + torn.offset() + ", " + torn.problem());
            }
        } catch (JournalCorruptException | MalformedRecordException | IllegalStateException e) {
            problems.add(e.getMessage());
        }
        for (String unreadable : durable.unreadable()) {
            String warning = "evidence of committed events cannot be read: " + unreadable;
            if (problems.stream().noneMatch(problem -> problem.contains(unreadable))) {
                warnings.add(warning);
            }
        }
        int checked = checkSnapshots(snapshots, snapshotSeqs, chainHashAt, digestAt, replayed, journalReadToItsEnd,
                idempotencyWindowMicros, problems, warnings);
        checkNewestPlusTail(journal, snapshots, snapshotSeqs, replayed, idempotencyWindowMicros, problems, warnings);
        String broken = replayed.checkInvariant();
        if (broken != null) {
            problems.add("the money invariant is broken: " + broken);
        }
        return new Report(replayed.lastSeq(), HexFormat.of().formatHex(head), events, batches, checked,
                replayed.accountCount(), replayed.balanceTotal(), replayed.openedTotal(), replayed.withdrawnTotal(),
                List.copyOf(problems), List.copyOf(warnings));
    }

    /** Each snapshot must read back whole and equal the replay at its seq, chain hash included. */
    private static int checkSnapshots(SnapshotStore snapshots, List<Long> seqs, Map<Long, byte[]> chainHashAt,
                                      Map<Long, String> digestAt, Bank replayed, boolean journalReadToItsEnd,
                                      long window, List<String> problems, List<String> warnings)
            throws IOException {
        int checked = 0;
        for (long seq : seqs) {
            try {
                SnapshotStore.Loaded loaded = snapshots.read(seq, window);
                checked++;
                if (!digestAt.containsKey(seq)) {
                    if (!journalReadToItsEnd && seq > replayed.lastSeq()) {
                        // Damage stopped the replay before this seq: the snapshot reads back whole,
                        // and there is nothing sound to compare it with; the damage is the problem.
                        continue;
                    }
                    if (seq <= replayed.lastSeq()) {
                        problems.add("snapshot " + snapshots.pathOf(seq) + " is at seq " + seq
                                + ", which does not end a batch of the journal");
                    } else {
                        problems.add("snapshot " + snapshots.pathOf(seq) + " is past the journal's end at seq "
                                + replayed.lastSeq());
                    }
                } else if (!Arrays.equals(chainHashAt.get(seq), loaded.chainHash())) {
                    problems.add("snapshot " + snapshots.pathOf(seq) + " records another chain hash than the journal's");
                } else if (!digestAt.get(seq).equals(loaded.bank().stateDigest())) {
                    problems.add("snapshot " + snapshots.pathOf(seq) + " differs from the replay at seq " + seq);
                }
            } catch (SnapshotCorruptException e) {
                problems.add(e.getMessage());
            } catch (NoSuchFileException e) {
                warnings.add(prunedWhileChecking(snapshots.pathOf(seq)));
            }
        }
        return checked;
    }

    /**
     * Once the batches are read to their end (at {@code lastSeq}): a batch must have ended at the
     * recorded head's seq, or the head be at seq 0 with the zero hash.
     */
    private static void checkRecordedHeadReached(JournalSource.Head recorded, boolean reached, long lastSeq,
                                                 List<String> problems) {
        if (recorded == null) {
            return;
        }
        if (!reached) {
            problems.add("the journal's head says seq " + recorded.lastSeq() + ", but no batch ends there: the "
                    + "batches end at seq " + lastSeq);
        } else if (recorded.lastSeq() == 0) {
            checkRecordedHead(recorded, JournalFormat.HASH_ZERO, problems);
        }
    }

    /** The head the journal records must hold the chain hash of the batch that ends at its seq. */
    private static void checkRecordedHead(JournalSource.Head recorded, byte[] chainHash, List<String> problems) {
        if (!Arrays.equals(recorded.chainHash(), chainHash)) {
            problems.add("the journal's head says seq " + recorded.lastSeq() + " with chain hash "
                    + HexFormat.of().formatHex(recorded.chainHash()) + ", but the batches have "
                    + HexFormat.of().formatHex(chainHash) + " there");
        }
    }

    /** What a start does, the newest snapshot plus the tail, must equal the replay from scratch. */
    private static void checkNewestPlusTail(JournalSource journal, SnapshotStore snapshots, List<Long> seqs,
                                            Bank replayed, long window, List<String> problems,
                                            List<String> warnings) throws IOException {
        if (seqs.isEmpty() || !problems.isEmpty()) {
            return;
        }
        Bank bank;
        try {
            bank = snapshots.read(seqs.get(seqs.size() - 1), window).bank();
        } catch (NoSuchFileException e) {
            String warning = prunedWhileChecking(snapshots.pathOf(seqs.get(seqs.size() - 1)));
            if (!warnings.contains(warning)) {
                warnings.add(warning);
            }
            return;
        }
        long after = bank.lastSeq();
        try (Journal.Reader reader = journal.newReader(false)) {
            reader.seek(after);
            JournalReader.Batch batch;
            while ((batch = reader.next(replayed.lastSeq())) != null) {
                batch.forEach(recorded -> {
                    if (recorded.seq() > after) {
                        bank.evolve(recorded);
                    }
                });
            }
        }
        if (!bank.stateDigest().equals(replayed.stateDigest())) {
            problems.add("the newest snapshot plus the journal's tail differs from the replay from scratch");
        }
    }

    /** A running server prunes old snapshots as it writes new ones; one may go while we check. */
    private static String prunedWhileChecking(Path snapshot) {
        return "snapshot " + snapshot + " was deleted while being checked (a running server prunes old snapshots)";
    }
}
