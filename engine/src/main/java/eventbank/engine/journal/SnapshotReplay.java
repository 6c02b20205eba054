package eventbank.engine.journal;

import java.util.Arrays;

/**
 * What a journal being opened does with the batches it reads, wherever it keeps them: hands
 * those after the snapshot's seq ({@code afterSeq}, or 0) to the replay, and checks that the
 * batch ending at that seq carries the chain hash the snapshot recorded (when it recorded one).
 * A snapshot that does not match is a {@link SnapshotMismatchException}: the start then tries an
 * older one.
 */
public final class SnapshotReplay {
    private final long afterSeq;
    private final byte[] expectedHash;
    private final Journal.BatchConsumer replay;
    private boolean pastSnapshot;

    public SnapshotReplay(long afterSeq, byte[] expectedHash, Journal.BatchConsumer replay) {
        this.afterSeq = afterSeq;
        this.expectedHash = expectedHash;
        this.replay = replay;
        this.pastSnapshot = afterSeq == 0;
    }

    /** Takes the next batch read, in order. */
    public void accept(JournalReader.Batch batch) {
        if (pastSnapshot) {
            replay.accept(batch);
        } else if (batch.header().lastSeq() >= afterSeq) {
            if (batch.header().lastSeq() != afterSeq
                    || expectedHash != null && !Arrays.equals(batch.header().chainHash(), expectedHash)) {
                throw new SnapshotMismatchException("the journal's chain hash at seq " + afterSeq
                        + " is not the one the snapshot recorded");
            }
            pastSnapshot = true;
        }
    }

    /**
     * Called when the journal ended at {@code lastSeq}, after the end check: a journal that ends
     * before the snapshot's seq does not match it. The snapshot proves that seq was committed,
     * so the end check refuses such a start; failing that, the start tries an older snapshot.
     */
    public void requirePast(long lastSeq) {
        if (!pastSnapshot) {
            throw new SnapshotMismatchException("the journal ends at seq " + lastSeq + ", before the snapshot's seq "
                    + afterSeq);
        }
    }
}
