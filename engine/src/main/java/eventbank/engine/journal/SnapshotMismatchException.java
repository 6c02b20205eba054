package eventbank.engine.journal;

/** A snapshot does not belong to this journal: its chain hash or seq is not in the log. */
public final class SnapshotMismatchException extends RuntimeException {
    public SnapshotMismatchException(String message) {
        super(message);
    }
}
