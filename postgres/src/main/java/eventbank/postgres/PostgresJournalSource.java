package eventbank.postgres;

import eventbank.core.Recorded;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The journal in PostgreSQL as the history tools read it ({@link JournalSource}): readers of its
 * rows, checked as a segment reader checks batches, and its head row. Read-only: its sessions
 * are read-only ones named {@code node.name + " reader"}, so a takeover leaves them alone, and
 * it never creates or migrates the schema (a database without the journal's tables is refused
 * by {@link #connect}).
 */
public final class PostgresJournalSource implements JournalSource {
    /** Where the head's damage is reported, as {@link PostgresJournal#BATCHES_TABLE} is for the rows. */
    static final Path HEAD_TABLE = Path.of("eventbank_head");

    private final PostgresJournalConfig config;

    private PostgresJournalSource(PostgresJournalConfig config) {
        this.config = config;
    }

    /** The journal in the database {@code config} names, whose tables a node has made sure of already. */
    static PostgresJournalSource of(PostgresJournalConfig config) {
        return new PostgresJournalSource(config);
    }

    /**
     * The journal in the database {@code config} names, once a session there has shown that the
     * database answers and holds the journal's tables; a {@link JournalDatabaseException} that
     * says which otherwise.
     */
    public static PostgresJournalSource connect(PostgresJournalConfig config) throws JournalDatabaseException {
        try (Connection connection = Sessions.reader(config);
             PreparedStatement tables = connection.prepareStatement("SELECT to_regclass('eventbank_batches'),"
                     + " to_regclass('eventbank_head')");
             ResultSet row = tables.executeQuery()) {
            row.next();
            if (row.getString(1) == null || row.getString(2) == null) {
                throw new JournalDatabaseException("the database at " + config.shownUrl()
                        + " holds no eventbank journal (no table eventbank_batches or eventbank_head): no node has"
                        + " started on it yet, or it is another database", null);
            }
        } catch (SQLException e) {
            throw JournalDatabaseException.unreachable(config, e);
        }
        return new PostgresJournalSource(config);
    }

    @Override
    public Journal.Reader newReader(boolean verifyChain) {
        return new PostgresJournalReader(config, verifyChain);
    }

    @Override
    public boolean isEmpty() throws IOException {
        return lastSeq() == 0;
    }

    /** The last row's last seq: the unique index on it answers without a scan. */
    @Override
    public long lastSeq() throws IOException {
        try (Connection connection = Sessions.reader(config)) {
            return lastSeq(connection);
        } catch (SQLException e) {
            throw JournalDatabaseException.failed("reading where the journal ends", e);
        }
    }

    /**
     * Binary-searches the rows by the time of their first event, one row read per probe (found
     * by the primary key), then reads on from the row that holds the answer until the first
     * event after the instant.
     */
    @Override
    public long seqAtTimeMicros(long timeMicros) throws IOException {
        long found = 0;
        try (Connection connection = Sessions.reader(config);
             PreparedStatement holding = connection.prepareStatement("SELECT first_seq, last_seq, batch"
                     + " FROM eventbank_batches WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1")) {
            long low = 1;
            long high = lastSeq(connection);
            while (low <= high) {
                long middle = (low + high) >>> 1;
                holding.setLong(1, middle);
                try (ResultSet row = holding.executeQuery()) {
                    if (!row.next()) {
                        throw new JournalCorruptException(PostgresJournal.BATCHES_TABLE, middle,
                                "no row holds seq " + middle + ", below the journal's end");
                    }
                    long firstSeq = row.getLong(1);
                    if (firstEventTime(firstSeq, row.getBytes(3)) <= timeMicros) {
                        found = firstSeq;
                        low = row.getLong(2) + 1;
                    } else {
                        high = firstSeq - 1;
                    }
                }
            }
            connection.commit();
        } catch (SQLException e) {
            throw JournalDatabaseException.failed("searching the journal by time", e);
        }
        if (found == 0) {
            return 0;
        }
        try (Journal.Reader reader = newReader(false)) {
            return JournalSource.lastSeqAtOrBefore(reader, found, timeMicros);
        }
    }

    @Override
    public Head recordedHead() throws IOException {
        try (Connection connection = Sessions.reader(config);
             PreparedStatement head = connection.prepareStatement(
                     "SELECT last_seq, chain_hash FROM eventbank_head WHERE id = 1");
             ResultSet row = head.executeQuery()) {
            if (!row.next()) {
                throw new JournalCorruptException(HEAD_TABLE, 0, "the journal's head row is missing");
            }
            return new Head(row.getLong(1), row.getBytes(2));
        } catch (SQLException e) {
            throw JournalDatabaseException.failed("reading the journal's head", e);
        }
    }

    private static long lastSeq(Connection connection) throws SQLException {
        try (PreparedStatement last = connection.prepareStatement(
                "SELECT coalesce(max(last_seq), 0) FROM eventbank_batches");
             ResultSet row = last.executeQuery()) {
            row.next();
            return row.getLong(1);
        }
    }

    /** The time of a row's first event, its header and body checked as a reader checks them. */
    private static long firstEventTime(long firstSeq, byte[] bytes) {
        ByteBuffer batch = ByteBuffer.wrap(bytes);
        JournalFormat.BatchHeader header = JournalFormat.parseBatchHeader(batch);
        int bodyLength = bytes.length - JournalFormat.BATCH_HEADER_BYTES;
        if (header == null || header.firstSeq() != firstSeq || header.count() <= 0 || header.bodyLength() != bodyLength
                || JournalFormat.crc(batch, JournalFormat.BATCH_HEADER_BYTES, bodyLength) != header.bodyCrc()) {
            throw new JournalCorruptException(PostgresJournal.BATCHES_TABLE, firstSeq, "the row of seq " + firstSeq
                    + ": its header or body fails its CRC32C, or names another seq");
        }
        Recorded first = EventCodec.decode(batch.slice(JournalFormat.BATCH_HEADER_BYTES, bodyLength), firstSeq);
        return first.timeMicros();
    }
}
