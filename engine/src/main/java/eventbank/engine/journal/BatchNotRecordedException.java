package eventbank.engine.journal;

import java.io.IOException;

/**
 * A batch whose commit's outcome was unknown was read back and is not in the journal (a failover
 * lost it, or its transaction was rolled back): nobody may be told it was recorded. Its callers
 * are answered that it was not, and the writer discards what it decided after it: it goes on from
 * what the journal holds (DESIGN.md, "Unknown outcomes").
 */
public final class BatchNotRecordedException extends IOException {
    public BatchNotRecordedException(String message) {
        super(message);
    }
}
