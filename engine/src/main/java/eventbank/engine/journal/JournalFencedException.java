package eventbank.engine.journal;

import java.io.IOException;

/**
 * Another writer took the journal over (a newer epoch): this writer's batch was not recorded,
 * and it must write no more. Its callers are answered {@code commit_outcome_unknown}, as after
 * any failed write: what a deposed writer acknowledges is decided by the journal alone.
 */
public final class JournalFencedException extends IOException {
    public JournalFencedException(String message) {
        super(message);
    }
}
