package eventbank.server.mail;

import eventbank.postgres.PostgresJournalConfig;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * The outbox's state in the journal's PostgreSQL database, for a cluster: the one-row {@code
 * eventbank_outbox} (checkpoint and the epoch that claimed it) and {@code eventbank_dead_letters}
 * (docs/FORMAT.md, "The outbox in PostgreSQL"). The journal's Flyway migrations create them
 * (V4), so a node opens its journal before its outbox uses this store.
 *
 * <p><b>Fencing.</b> Every write checks, in the same statement, that the epoch it names is the
 * journal head's: after a takeover, the old leader's writes change nothing. That alone would let
 * a write whose statement began just before a takeover commit just after the new leader read the
 * checkpoint, so the outbox row serializes them besides: a new leader's outbox {@link #claim
 * claims} the row at its epoch (an {@code UPDATE}, which waits for any write holding the row and
 * then reads it as that write left it), a checkpoint is written only at the epoch that claimed the
 * row, and a dead letter is written only under a share lock on the row at an epoch not below the
 * row's. No write takes a lock on the head, so the outbox never holds up the journal's batches.
 *
 * <p>It lives in the server, not in the postgres module, because it stores the server's mail
 * types ({@link DeadLetter}, {@link OutgoingMail.Kind}); the tables are the journal's, so their
 * migration is the postgres module's. One session, made on first use and again after any error;
 * methods are synchronized (the outbox's thread and operators' HTTP threads share it). Close it
 * after the engine, whose close stops the outbox's thread.
 */
public final class PostgresOutboxStore implements OutboxStore, AutoCloseable {
    static final String OUTBOX_TABLE = "eventbank_outbox";
    static final String DEAD_LETTERS_TABLE = "eventbank_dead_letters";

    private static final String CHECKPOINT_SQL = """
            SELECT outbox.checkpoint_seq, head.last_seq
              FROM eventbank_outbox outbox CROSS JOIN eventbank_head head""";

    /** The checkpoint as the last write left it, once no earlier epoch can write it again. */
    private static final String CLAIM_SQL = """
            UPDATE eventbank_outbox SET epoch = ?
             WHERE id = 1 AND epoch <= ? AND (SELECT epoch FROM eventbank_head WHERE id = 1) = ?
            RETURNING checkpoint_seq""";

    private static final String WRITE_CHECKPOINT_SQL = """
            UPDATE eventbank_outbox SET checkpoint_seq = ?
             WHERE id = 1 AND epoch = ? AND (SELECT epoch FROM eventbank_head WHERE id = 1) = ?""";

    /** A row when the epoch may write dead letters, locked against a later epoch's claim until the statement commits. */
    private static final String FENCE = """
            WITH fence AS (
                SELECT 1 FROM eventbank_outbox
                 WHERE id = 1 AND epoch <= ? AND (SELECT epoch FROM eventbank_head WHERE id = 1) = ?
                   FOR SHARE)
            """;

    private static final String SET_ASIDE_SQL = FENCE + """
            INSERT INTO eventbank_dead_letters (seq, kind, message_id, recipient, subject, event_time,
                                                account_number, amount, balance_after, reason, set_aside_at)
            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM fence
            ON CONFLICT (seq) DO UPDATE
               SET kind = EXCLUDED.kind, message_id = EXCLUDED.message_id, recipient = EXCLUDED.recipient,
                   subject = EXCLUDED.subject, event_time = EXCLUDED.event_time,
                   account_number = EXCLUDED.account_number, amount = EXCLUDED.amount,
                   balance_after = EXCLUDED.balance_after, reason = EXCLUDED.reason,
                   set_aside_at = EXCLUDED.set_aside_at""";

    private static final String REMOVE_SQL = FENCE + """
            , removed AS (DELETE FROM eventbank_dead_letters WHERE seq = ? AND EXISTS (SELECT 1 FROM fence))
            SELECT count(*) FROM fence""";

    private static final String ERASE_SQL = "DELETE FROM eventbank_dead_letters WHERE account_number = ANY(?)";

    private static final String COLUMNS = "seq, kind, message_id, recipient, subject, event_time, account_number,"
            + " amount, balance_after, reason, set_aside_at";
    private static final String LIST_SQL = "SELECT " + COLUMNS
            + " FROM eventbank_dead_letters WHERE seq > ? ORDER BY seq LIMIT ?";
    private static final String FIND_SQL = "SELECT " + COLUMNS + " FROM eventbank_dead_letters WHERE seq = ?";

    /** A statement that needs a database answer. */
    @FunctionalInterface
    private interface Work<T> {
        T run(Connection connection) throws SQLException, IOException;
    }

    private final PostgresJournalConfig config;
    /** Null until first used, and after an error. */
    private Connection connection;

    /** A store in the database of the journal {@code config} names, with a session named for the node. */
    public PostgresOutboxStore(PostgresJournalConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public synchronized long checkpoint() throws IOException {
        return run("reading the outbox's checkpoint", connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet row = statement.executeQuery(CHECKPOINT_SQL)) {
                if (!row.next()) {
                    throw new IOException("the table " + OUTBOX_TABLE + " has no row: its migration (V4) made one");
                }
                long seq = row.getLong(1);
                long head = row.getLong(2);
                if (seq > head) {
                    throw new IllegalStateException("the outbox checkpoint in " + OUTBOX_TABLE + " is at seq " + seq
                            + ", past the journal's head " + head
                            + ": the outbox and the journal do not belong together");
                }
                return seq;
            }
        });
    }

    @Override
    public synchronized OptionalLong claim(long epoch) throws IOException {
        return run("claiming the outbox at epoch " + epoch, connection -> {
            try (PreparedStatement claim = connection.prepareStatement(CLAIM_SQL)) {
                claim.setLong(1, epoch);
                claim.setLong(2, epoch);
                claim.setLong(3, epoch);
                try (ResultSet row = claim.executeQuery()) {
                    return row.next() ? OptionalLong.of(row.getLong(1)) : OptionalLong.empty();
                }
            }
        });
    }

    @Override
    public synchronized boolean writeCheckpoint(long seq, long epoch) throws IOException {
        return run("writing the outbox's checkpoint " + seq, connection -> {
            try (PreparedStatement write = connection.prepareStatement(WRITE_CHECKPOINT_SQL)) {
                write.setLong(1, seq);
                write.setLong(2, epoch);
                write.setLong(3, epoch);
                return write.executeUpdate() == 1;
            }
        });
    }

    @Override
    public synchronized boolean setAside(DeadLetter letter, long epoch) throws IOException {
        return run("setting the mail of seq " + letter.seq() + " aside", connection -> {
            try (PreparedStatement insert = connection.prepareStatement(SET_ASIDE_SQL)) {
                insert.setLong(1, epoch);
                insert.setLong(2, epoch);
                insert.setLong(3, letter.seq());
                insert.setString(4, letter.kind().label());
                insert.setString(5, letter.messageId());
                insert.setString(6, letter.to());
                insert.setString(7, letter.subject());
                insert.setObject(8, timestamp(letter.time()));
                insert.setLong(9, letter.accountNumber());
                insert.setLong(10, letter.amount());
                insert.setLong(11, letter.balanceAfter());
                insert.setString(12, letter.reason());
                insert.setObject(13, timestamp(letter.setAsideAt()));
                return insert.executeUpdate() == 1;
            }
        });
    }

    @Override
    public synchronized List<DeadLetter> deadLetters(long afterSeq, int limit) throws IOException {
        return run("listing the dead letters", connection -> {
            try (PreparedStatement list = connection.prepareStatement(LIST_SQL)) {
                list.setLong(1, afterSeq);
                list.setInt(2, limit);
                try (ResultSet rows = list.executeQuery()) {
                    List<DeadLetter> letters = new ArrayList<>();
                    while (rows.next()) {
                        letters.add(letterOf(rows));
                    }
                    return letters;
                }
            }
        });
    }

    @Override
    public synchronized Optional<DeadLetter> deadLetter(long seq) throws IOException {
        return run("reading the dead letter of seq " + seq, connection -> {
            try (PreparedStatement find = connection.prepareStatement(FIND_SQL)) {
                find.setLong(1, seq);
                try (ResultSet row = find.executeQuery()) {
                    return row.next() ? Optional.of(letterOf(row)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public synchronized boolean remove(DeadLetter letter, long epoch) throws IOException {
        return run("deleting the dead letter of seq " + letter.seq(), connection -> {
            try (PreparedStatement remove = connection.prepareStatement(REMOVE_SQL)) {
                remove.setLong(1, epoch);
                remove.setLong(2, epoch);
                remove.setLong(3, letter.seq());
                try (ResultSet fence = remove.executeQuery()) {
                    fence.next();
                    return fence.getLong(1) == 1;
                }
            }
        });
    }

    @Override
    public synchronized void eraseDeadLettersOf(List<Long> accounts) throws IOException {
        if (accounts.isEmpty()) {
            return;
        }
        run("deleting the dead letters of forgotten accounts " + accounts, connection -> {
            try (PreparedStatement erase = connection.prepareStatement(ERASE_SQL)) {
                erase.setArray(1, connection.createArrayOf("bigint", accounts.toArray()));
                return erase.executeUpdate();
            }
        });
    }

    @Override
    public String placeOf(long seq, OutgoingMail.Kind kind) {
        return DEAD_LETTERS_TABLE + " (seq " + seq + ")";
    }

    @Override
    public synchronized void close() throws IOException {
        if (connection == null) {
            return;
        }
        try (Connection closing = connection) {
            connection = null;
        } catch (SQLException e) {
            throw new IOException("closing the outbox's database session failed: " + e.getMessage(), e);
        }
    }

    /** Runs one statement in autocommit; any error ends the session, and the next call makes a new one. */
    private <T> T run(String what, Work<T> work) throws IOException {
        try {
            if (connection == null) {
                connection = open();
            }
            return work.run(connection);
        } catch (SQLException e) {
            IOException failure = new IOException(what + " in " + config.url() + " failed: " + e.getMessage(), e);
            discardConnection(failure);
            throw failure;
        }
    }

    /**
     * The outbox's own session: every commit waits for the WAL to be flushed (a dead letter must
     * not be lost once the checkpoint passes its mail), named for the node apart from its journal
     * writer's, so a takeover that ends the old writer's sessions leaves it alone: fencing, not
     * the end of a session, keeps a deposed outbox from writing.
     */
    private Connection open() throws SQLException {
        Properties properties = new Properties();
        if (config.user() != null) {
            properties.setProperty("user", config.user());
        }
        if (config.password() != null) {
            properties.setProperty("password", config.password());
        }
        properties.setProperty("ApplicationName", config.nodeName() + " outbox");
        properties.setProperty("tcpKeepAlive", "true");
        if (!config.readsFromStandby()) {
            // A writer node's outbox writes when it leads; a reader's only reads the checkpoint,
            // from a hot standby if its URL leads there.
            properties.setProperty("targetServerType", "primary");
        }
        Connection opened = DriverManager.getConnection(config.url(), properties);
        try (Statement statement = opened.createStatement()) {
            statement.execute("SET synchronous_commit = on");
            return opened;
        } catch (SQLException | RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    private void discardConnection(Exception cause) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
        connection = null;
    }

    /** To the microsecond, PostgreSQL's precision, so that what is written reads back equal. */
    private static OffsetDateTime timestamp(Instant instant) {
        return OffsetDateTime.ofInstant(instant.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
    }

    private static DeadLetter letterOf(ResultSet row) throws SQLException, IOException {
        OutgoingMail.Kind kind = DeadLetters.kindOf(row.getString("kind"));
        return new DeadLetter(row.getLong("seq"), kind, row.getString("message_id"), row.getString("recipient"),
                row.getString("subject"), row.getObject("event_time", OffsetDateTime.class).toInstant(),
                row.getLong("account_number"), row.getLong("amount"), row.getLong("balance_after"),
                row.getString("reason"), row.getObject("set_aside_at", OffsetDateTime.class).toInstant());
    }
}
