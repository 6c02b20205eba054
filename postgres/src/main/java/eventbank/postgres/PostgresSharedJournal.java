package eventbank.postgres;

import eventbank.engine.cluster.SharedJournal;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.journal.JournalFormat;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;

/**
 * The journal in PostgreSQL as the nodes of a cluster share it ({@link SharedJournal}): the
 * leader's writes go through a {@link PostgresJournal} that {@link #takeOver} opens; everything
 * else a node asks (the head, its lease, the chain hash at a seq, the durability settings, the
 * wake-ups) goes through one control session of its own, listening on {@code eventbank_head}.
 * The session is opened on first use and again after a failure.
 *
 * <p>One thread uses it (the node's); {@link #newReader} may be called from any thread.
 */
public final class PostgresSharedJournal implements SharedJournal {
    private static final String HEAD_SQL = """
            SELECT epoch, last_seq, durable_seq, leader_name, leader_url,
                   coalesce(lease_expires_at < clock_timestamp(), true), format_version
              FROM eventbank_head""";

    /** The lease renewed and the durable seq recorded, only while the head is still at this leader's epoch. */
    private static final String RENEW_SQL = """
            UPDATE eventbank_head
               SET lease_expires_at = clock_timestamp() + ? * interval '1 millisecond',
                   durable_seq = greatest(durable_seq, least(?, last_seq))
             WHERE epoch = ?""";

    private static final String CHAIN_HASH_AT_SQL = "SELECT last_seq, substring(batch FROM 1 FOR "
            + JournalFormat.BATCH_HEADER_BYTES + ") FROM eventbank_batches WHERE last_seq <= ?"
            + " ORDER BY last_seq DESC LIMIT 1";

    private final PostgresJournalConfig config;
    private final boolean requireSyncStandby;
    private Connection control;
    /** Whether the control session listens for the head's moves: not on a hot standby. */
    private boolean listening;

    /**
     * @param requireSyncStandby whether leading needs a synchronous standby
     *                           ({@code journal.require_sync_standby})
     */
    public PostgresSharedJournal(PostgresJournalConfig config, boolean requireSyncStandby) {
        this.config = config;
        this.requireSyncStandby = requireSyncStandby;
    }

    /** Creates the tables or brings them up to this build's version (Flyway), as a node does at start. */
    public void migrate() throws IOException {
        try {
            Schema.migrate(config);
        } catch (RuntimeException e) {
            throw new IOException("cannot create or migrate the journal's tables on " + config.url() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Head head() throws IOException {
        try (Statement statement = control().createStatement(); ResultSet row = statement.executeQuery(HEAD_SQL)) {
            if (!row.next()) {
                throw new IOException("the journal's head row is missing");
            }
            return new Head(row.getLong(1), row.getLong(2), row.getLong(3), row.getString(4), row.getString(5),
                    row.getBoolean(6), row.getInt(7));
        } catch (SQLException e) {
            throw failed("reading the journal's head", e);
        }
    }

    @Override
    public Journal.Reader newReader() {
        return new PostgresJournalReader(config, true);
    }

    @Override
    public JournalSource source() {
        return PostgresJournalSource.of(config);
    }

    @Override
    public byte[] chainHashAt(long seq) throws IOException {
        if (seq == 0) {
            return JournalFormat.HASH_ZERO.clone();
        }
        try (PreparedStatement select = control().prepareStatement(CHAIN_HASH_AT_SQL)) {
            select.setLong(1, seq);
            try (ResultSet row = select.executeQuery()) {
                if (!row.next() || row.getLong(1) != seq) {
                    return null;
                }
                JournalFormat.BatchHeader header = JournalFormat.parseBatchHeader(
                        java.nio.ByteBuffer.wrap(row.getBytes(2)));
                return header == null ? null : header.chainHash();
            }
        } catch (SQLException e) {
            throw failed("reading the chain hash at seq " + seq, e);
        }
    }

    @Override
    public Taken takeOver(long afterSeq, byte[] afterHash, Journal.BatchConsumer replay) throws IOException {
        PostgresJournal journal = PostgresJournal.takeOverAfter(config, afterSeq, afterHash, replay);
        return journal == null ? null : new Taken(journal, journal.epoch());
    }

    @Override
    public boolean renewLease(long epoch, long durableSeq) throws IOException {
        try (PreparedStatement renew = control().prepareStatement(RENEW_SQL)) {
            renew.setLong(1, config.lease().toMillis());
            renew.setLong(2, durableSeq);
            renew.setLong(3, epoch);
            return renew.executeUpdate() == 1;
        } catch (SQLException e) {
            throw failed("renewing the lease", e);
        }
    }

    @Override
    public String durabilityProblem() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Statement statement = control().createStatement()) {
            if (!"on".equals(setting(statement, "fsync"))) {
                problems.add("PostgreSQL runs with fsync off, so a commit it confirms may be lost in a crash");
            }
            // The writer's session sets synchronous_commit on for its own commits; a database set
            // up not to wait is refused all the same, since that is not the database it should be.
            String synchronousCommit = setting(statement, "synchronous_commit");
            if ("off".equals(synchronousCommit)) {
                problems.add("PostgreSQL runs with synchronous_commit off, so a commit it confirms may be lost"
                        + " in a crash");
            } else if (requireSyncStandby && "local".equals(synchronousCommit)) {
                problems.add("journal.require_sync_standby is true and PostgreSQL runs with synchronous_commit"
                        + " local, so commits do not wait for the synchronous standby");
            }
            if (requireSyncStandby && setting(statement, "synchronous_standby_names").isBlank()) {
                problems.add("journal.require_sync_standby is true and PostgreSQL has no synchronous standby"
                        + " (synchronous_standby_names is empty)");
            }
        } catch (SQLException e) {
            throw failed("reading PostgreSQL's durability settings", e);
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    @Override
    public void awaitChange(Duration timeout) throws IOException, InterruptedException {
        int millis = (int) Math.clamp(timeout.toMillis(), 1, Integer.MAX_VALUE);
        if (!listening) {
            Thread.sleep(millis); // a hot standby cannot LISTEN: a poll
            return;
        }
        try {
            // Returns at the first notification, or after the timeout with none.
            control().unwrap(PGConnection.class).getNotifications(millis);
        } catch (SQLException e) {
            throw failed("waiting for the journal's head to move", e);
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (control != null) {
                control.close();
            }
        } catch (SQLException e) {
            throw new IOException("closing the journal's control session failed: " + e.getMessage(), e);
        } finally {
            control = null;
        }
    }

    private static String setting(Statement statement, String name) throws SQLException {
        try (ResultSet row = statement.executeQuery("SHOW " + name)) {
            row.next();
            return row.getString(1);
        }
    }

    /**
     * The control session, in autocommit, opened when needed: on the primary it listens for the
     * head's moves; on a hot standby (a reader's, when its URL leads there) it cannot, and the
     * node polls.
     */
    private Connection control() throws SQLException {
        if (control == null) {
            Connection connection = Sessions.control(config);
            try (Statement statement = connection.createStatement()) {
                boolean standby;
                try (ResultSet recovery = statement.executeQuery("SELECT pg_is_in_recovery()")) {
                    recovery.next();
                    standby = recovery.getBoolean(1);
                }
                if (!standby) {
                    statement.execute("LISTEN eventbank_head");
                }
                listening = !standby;
            } catch (SQLException e) {
                connection.close();
                throw e;
            }
            control = connection;
        }
        return control;
    }

    /** A failed request; the session is dropped, and the next one opens another. */
    private IOException failed(String what, SQLException e) {
        try {
            close();
        } catch (IOException closing) {
            e.addSuppressed(closing);
        }
        return new IOException("the journal's database failed " + what + ": " + e.getMessage(), e);
    }
}
