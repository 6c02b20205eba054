package eventbank.postgres;

import java.io.IOException;
import java.sql.SQLException;

/**
 * The journal's database could not be reached, or failed a statement: the database's own
 * trouble (down, refused the login, lost the connection), not damage in the journal, which is a
 * {@code JournalCorruptException}. The command line answers it as it answers a data directory
 * it cannot read.
 */
public final class JournalDatabaseException extends IOException {
    public JournalDatabaseException(String message, Throwable cause) {
        super(message, cause);
    }

    /** No session could be opened on the database {@code config} names. */
    static JournalDatabaseException unreachable(PostgresJournalConfig config, SQLException cause) {
        return new JournalDatabaseException("cannot reach the journal's database at " + config.shownUrl() + ": "
                + cause.getMessage(), cause);
    }

    /** A statement failed while doing {@code what} ("reading the journal's head"). */
    static JournalDatabaseException failed(String what, SQLException cause) {
        return new JournalDatabaseException("the journal's database failed " + what + ": " + cause.getMessage(), cause);
    }
}
