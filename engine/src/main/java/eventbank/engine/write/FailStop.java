package eventbank.engine.write;

/**
 * The failure that stopped the sequencer, shared by its two threads and its callers: set once by
 * the thread that meets it (a failed write or fsync on the journal thread, a bug or an interrupt
 * on the sequencer thread), never cleared. From then on every command is answered
 * {@code journal_failed} until the engine restarts.
 */
final class FailStop {
    /** The sequencer's logger: where an operator, and the tests, look for the failure. */
    private static final System.Logger LOG = System.getLogger(Sequencer.class.getName());

    private final SequencerStatistics statistics;
    private volatile Throwable failure;

    FailStop(SequencerStatistics statistics) {
        this.statistics = statistics;
    }

    /** The failure, or null while healthy. */
    Throwable failure() {
        return failure;
    }

    boolean failed() {
        return failure != null;
    }

    void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
            statistics.failed = true;
            // Said once, loudly, where an operator looks: until now only the replies and /health
            // told, and the server's log showed nothing but a run of 503s (docs/RELIABILITY.md).
            LOG.log(System.Logger.Level.ERROR, "the journal failed: " + cause + ". The bank takes no more changes"
                    + " (fail-stop): new commands are answered 503 journal_failed, those of the batch being"
                    + " written 503 commit_outcome_unknown. Fix the cause (a full disk, a failing device),"
                    + " then restart: the start recovers every acknowledged command, and clients retry with"
                    + " their Idempotency-Key.", cause);
        }
    }

    /** The answer to every command once the sequencer has failed. */
    Outcome journalFailed() {
        return new Outcome.Unavailable(Outcome.Failure.JOURNAL_FAILED,
                "The journal failed and the bank takes no more changes until it restarts: " + failure);
    }
}
