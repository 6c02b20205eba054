package eventbank.engine.journal;

import java.io.IOException;

/**
 * The commit of a batch did not end cleanly (it failed, the connection dropped, or it returned a
 * warning): the batch may or may not be durable, and must not be acknowledged as if it were.
 * Only reading it back can tell.
 */
public final class CommitOutcomeUnknownException extends IOException {
    public CommitOutcomeUnknownException(String message, Throwable cause) {
        super(message, cause);
    }
}
