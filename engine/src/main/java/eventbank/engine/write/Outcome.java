package eventbank.engine.write;

import eventbank.core.Recorded;
import eventbank.core.Rejection;
import java.util.List;

/** How a submitted command ended, told only once everything it depends on is durable. */
public sealed interface Outcome
        permits Outcome.Committed, Outcome.CommittedOneByOne, Outcome.Rejected, Outcome.Replayed,
        Outcome.Unavailable {

    /**
     * Accepted and durable. {@code seq} is the seq of its last event, or the log's head when
     * nothing needed recording (verifying a verified account); {@code balance} is the balance
     * of the command's own account afterwards.
     */
    record Committed(long seq, List<Recorded> events, long balance) implements Outcome {}

    /**
     * A batch decided one by one ({@link eventbank.core.Command.TransferMoneyOneByOne}), durable:
     * one part per transfer, in order, each the outcome that transfer sent alone at its turn would
     * have had ({@link Committed} with its one event and the sender's balance after it, or {@link
     * Rejected}). {@code seq} is the seq of its last event, or the log's head when none was
     * recorded; {@code balance} is the sender's balance after the whole batch.
     */
    record CommittedOneByOne(long seq, List<Outcome> parts, long balance) implements Outcome {
        public CommittedOneByOne {
            parts = List.copyOf(parts);
        }
    }

    /**
     * Refused by the bank's rules; nothing recorded. {@code index} is the position of the
     * refused transfer in an all-or-none batch, else -1.
     */
    record Rejected(Rejection reason, int index) implements Outcome {
        public Rejected(Rejection reason) {
            this(reason, -1);
        }
    }

    /** An earlier command with the same idempotency key and request was accepted as {@code seq}. */
    record Replayed(long seq) implements Outcome {}

    /** The engine could not take or finish the command. */
    record Unavailable(Failure failure, String message) implements Outcome {}

    /** Why the engine could not answer, with the API's error code. */
    enum Failure {
        /** The command queue is full: retry later. */
        BUSY("busy"),
        /** The journal failed earlier; the engine takes no more writes until it restarts. */
        JOURNAL_FAILED("journal_failed"),
        /** The batch holding this command failed to write or fsync: it may or may not be on disk. */
        COMMIT_OUTCOME_UNKNOWN("commit_outcome_unknown"),
        /** The engine is shutting down or has not started. */
        STOPPED("busy"),
        /** In a cluster, this node does not lead: the leader takes commands. */
        NOT_LEADER("not_leader");

        private final String code;

        Failure(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }
}
