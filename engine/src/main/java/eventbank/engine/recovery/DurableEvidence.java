package eventbank.engine.recovery;

import eventbank.engine.journal.HighWaterMark;
import eventbank.engine.journal.JournalReader.TornTail;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the data directory proves about the journal's end, apart from the journal itself: a
 * torn write is only ever a batch nobody was told about, so recovery may cut the end of the log
 * only when nothing durable proves that the cut events were committed. Everything that is
 * written after a commit and names its seq is such proof: the journal's own {@link
 * HighWaterMark}, a snapshot, a subscriber's checkpoint, a mail file. The engine knows its own
 * (the mark and the snapshots); the server adds its subscribers' through {@link
 * eventbank.engine.EngineConfig#evidence()}.
 *
 * <p>The start ({@link eventbank.engine.Engine#start}) and the checker ({@link
 * eventbank.engine.history.Verifier}) judge with this one class, so they never disagree: the
 * journal must reach the newest evidence, and a torn tail is cut only when every piece of
 * evidence could be read.
 */
public final class DurableEvidence {

    /** One durable claim: {@code file} proves the journal held {@code seq} (with this chain hash, when known). */
    public record Claim(long seq, byte[] chainHash, Path file, String what) {
        @Override
        public String toString() {
            return what + " " + file + " (seq " + seq + ")";
        }
    }

    /**
     * A place that may hold evidence: answers its newest claim, nothing when it holds none, and
     * an IOException when it exists but cannot be read (then what it proved is unknown).
     */
    @FunctionalInterface
    public interface Source {
        Optional<Claim> newest() throws IOException;
    }

    private final Claim newest;
    private final Claim highWater;
    private final List<String> unreadable;
    /** The journal's chain hash at the high-water mark's seq, once a batch read passed it. */
    private byte[] hashAtHighWater;

    private DurableEvidence(Claim newest, Claim highWater, List<String> unreadable) {
        this.newest = newest;
        this.highWater = highWater;
        this.unreadable = List.copyOf(unreadable);
    }

    /**
     * Reads every piece of evidence in a data directory: the engine's own and {@code sources}.
     * Read before the journal, so that beside a running server nothing read here is newer than
     * the journal read after it.
     */
    public static DurableEvidence gather(Storage storage, Path dataDirectory, List<Source> sources) {
        Path journalDirectory = dataDirectory.resolve("journal");
        SnapshotStore snapshots = new SnapshotStore(storage, dataDirectory.resolve("snapshots"), null);
        List<String> unreadable = new ArrayList<>();
        Claim highWater = claimOf(() -> Optional.ofNullable(HighWaterMark.read(storage, journalDirectory))
                .map(mark -> new Claim(mark.seq(), mark.chainHash(), HighWaterMark.pathIn(journalDirectory),
                        "the journal's high-water mark")), unreadable);
        List<Source> others = new ArrayList<>();
        others.add(() -> {
            List<Long> seqs = snapshots.seqs();
            // A snapshot's name is made durable only after the snapshotter saw its seq committed.
            return seqs.isEmpty() ? Optional.empty() : Optional.of(new Claim(seqs.get(seqs.size() - 1), null,
                    snapshots.pathOf(seqs.get(seqs.size() - 1)), "the snapshot"));
        });
        others.addAll(sources);
        Claim newest = highWater;
        for (Source source : others) {
            Claim claim = claimOf(source, unreadable);
            if (claim != null && (newest == null || claim.seq() > newest.seq())) {
                newest = claim;
            }
        }
        return new DurableEvidence(newest, highWater, unreadable);
    }

    /** No evidence at all: for a journal that is the truth on its own (kept in PostgreSQL). */
    public static DurableEvidence none() {
        return new DurableEvidence(null, null, List.of());
    }

    /** The source's newest claim, or null; what cannot be read goes to {@code unreadable}. */
    private static Claim claimOf(Source source, List<String> unreadable) {
        try {
            return source.newest().orElse(null);
        } catch (IOException e) {
            unreadable.add(e.getMessage());
            return null;
        }
    }

    /** The claim with the highest seq, or null. */
    public Claim newest() {
        return newest;
    }

    /** The seq of the high-water mark, or -1 without one; its chain hash is checked on the way. */
    public long highWaterSeq() {
        return highWater == null ? -1 : highWater.seq();
    }

    /** Evidence that exists but could not be read; a start goes on unless it would have to cut a tail. */
    public List<String> unreadable() {
        return unreadable;
    }

    /**
     * Called for every batch read, in order, so that the chain hash at the high-water mark's seq
     * can be compared with the mark's: a journal that passes the seq without a batch ending
     * there, or with another hash, is not the journal the mark was written for.
     */
    public void observe(long firstSeq, long lastSeq, byte[] chainHash) {
        if (highWater != null && firstSeq <= highWater.seq() && highWater.seq() <= lastSeq) {
            hashAtHighWater = lastSeq == highWater.seq() ? chainHash.clone() : new byte[0];
        }
    }

    /**
     * Why a journal that ends at {@code lastSeq} (with {@code tornTail} about to be cut, or
     * null) must not be started from, or null when it may. Starting would drop an acknowledged
     * event and hand its seq out again.
     */
    public String refusal(long lastSeq, TornTail tornTail) {
        String end = "the journal ends at seq " + lastSeq
                + (tornTail == null ? "" : " once the damaged bytes at its end are cut (" + tornTail.length()
                        + " bytes in " + tornTail.file() + " at offset " + tornTail.offset() + ": "
                        + tornTail.problem() + ")");
        if (newest != null && newest.seq() > lastSeq) {
            return end + ", but " + newest + " proves that every event up to seq " + newest.seq()
                    + " was committed: acknowledged events are missing or damaged";
        }
        if (hashAtHighWater != null && !Arrays.equals(hashAtHighWater, highWater.chainHash())) {
            return "the journal's chain hash at seq " + highWater.seq() + " is not the one " + highWater
                    + " recorded: the journal was replaced or rewritten";
        }
        if (tornTail != null && !unreadable.isEmpty()) {
            return end + ", and whether those bytes were committed cannot be told, since evidence is unreadable: "
                    + String.join("; ", unreadable);
        }
        return null;
    }
}
