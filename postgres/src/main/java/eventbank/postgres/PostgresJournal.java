package eventbank.postgres;

import eventbank.engine.journal.CommitOutcomeUnknownException;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFencedException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader.Batch;
import eventbank.engine.journal.SnapshotReplay;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The {@link Journal} in PostgreSQL: one row of {@code eventbank_batches} per commit batch,
 * holding the batch's bytes exactly as a segment file would, and the one-row head {@code
 * eventbank_head} that fences writers by an epoch (docs/FORMAT.md, "The journal in
 * PostgreSQL"; DESIGN.md, "Cluster mode").
 *
 * <p>Opening it reads and checks the whole journal, then takes it over: the head's epoch goes
 * up by one, and from then on a batch is recorded only by the transaction that also moves the
 * head on, where the epoch is still this writer's and the head's last seq is the one just
 * before the batch. An older writer's next batch finds no such head: it is not recorded, and
 * that writer gets a {@link JournalFencedException}. A commit that does not end cleanly is a
 * {@link CommitOutcomeUnknownException}: never reported durable.
 *
 * <p>Only the sequencer's journal thread writes to it, through a session of its own; each
 * {@link #newReader reader} has its own session too.
 */
public final class PostgresJournal implements Journal {
    private static final System.Logger LOG = System.getLogger(PostgresJournal.class.getName());

    /** What a batch read from the database names as its file: the table (its offset is the row's first seq). */
    public static final Path BATCHES_TABLE = Path.of("eventbank_batches");

    /** PostgreSQL's SQLSTATE for a lock not had within {@code lock_timeout}. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * One statement, so one round trip before the commit: the head moves on only where this
     * writer's epoch and the batch's predecessor are still there, and the row is inserted once
     * for each head row moved, so exactly once or (fenced) not at all. The head's durable seq
     * becomes its old last seq, whose commit returned cleanly before this batch was begun.
     */
    private static final String APPEND_SQL = """
            WITH head AS (
                UPDATE eventbank_head
                   SET last_seq = ?, chain_hash = ?, durable_seq = last_seq,
                       lease_expires_at = clock_timestamp() + ? * interval '1 millisecond'
                 WHERE epoch = ? AND last_seq = ?
                RETURNING 1)
            INSERT INTO eventbank_batches (first_seq, last_seq, batch)
            SELECT ?, ?, ? FROM head""";

    /**
     * A takeover: the epoch goes up by one and the head's last seq and hash come back in the
     * same statement. Every batch up to that seq was read back by this writer, and this commit
     * is a later one on the same primary, so they are all known clean: the durable seq.
     */
    private static final String TAKEOVER_SQL = """
            UPDATE eventbank_head
               SET epoch = epoch + 1, durable_seq = last_seq, leader_name = ?, leader_url = ?,
                   lease_expires_at = clock_timestamp() + ? * interval '1 millisecond', format_version = ?
             WHERE format_version <= ?
               AND (? OR leader_name IS NULL OR lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())
            RETURNING epoch, last_seq, chain_hash""";

    /** Ends the sessions of the leader the head names (but this one), waiting up to the given milliseconds for each. */
    private static final String END_LEADER_SESSIONS_SQL = """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, ?)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND application_name = (SELECT leader_name FROM eventbank_head)""";

    private final PostgresJournalConfig config;
    private final Connection connection;
    private final PreparedStatement appendStatement;
    private final long epoch;
    private final Recovery recovery;
    private final MessageDigest sha256 = JournalFormat.newSha256();
    private long lastSeq;
    private byte[] headHash;
    /** Whether the open transaction holds batches not committed yet. */
    private boolean uncommitted;

    private PostgresJournal(PostgresJournalConfig config, Connection connection, long epoch, Recovery recovery)
            throws SQLException {
        this.config = config;
        this.connection = connection;
        this.appendStatement = connection.prepareStatement(APPEND_SQL);
        this.epoch = epoch;
        this.recovery = recovery;
        this.lastSeq = recovery.lastSeq();
        this.headHash = recovery.headHash();
    }

    /** Opens the journal in the database {@code config} names: for {@code EngineConfig.Builder.journal}. */
    public static Journal.Opener opener(PostgresJournalConfig config) {
        return (afterSeq, expectedHash, replay, endCheck) -> open(config, afterSeq, expectedHash, replay, endCheck);
    }

    /**
     * Creates or migrates the schema, reads the whole journal as {@link Journal.Opener} says,
     * then takes it over, and reads the batches that an earlier writer committed meanwhile. A
     * start that {@code endCheck} refuses leaves the database as it was.
     */
    public static PostgresJournal open(PostgresJournalConfig config, long afterSeq, byte[] expectedHash,
                                       BatchConsumer replay, EndCheck endCheck) throws IOException {
        Schema.migrate(config);
        Connection connection = writerSession(config);
        try (PostgresJournalReader reader = new PostgresJournalReader(config, true)) {
            SnapshotReplay snapshotReplay = new SnapshotReplay(afterSeq, expectedHash, replay);
            reader.recomputeChainAfter(afterSeq);
            reader.seek(0);
            readToEnd(reader, snapshotReplay);
            endCheck.check(reader.nextSeq() - 1, reader.chainHash(), null);
            snapshotReplay.requirePast(reader.nextSeq() - 1);
            Head head = takeOver(connection, config, true);
            readToEnd(reader, snapshotReplay);
            return tookOver(config, connection, reader, head);
        } catch (SQLException e) {
            closeQuietly(connection, e);
            throw new IOException("taking the journal over failed: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(connection, e);
            throw e;
        }
    }

    /**
     * Takes the journal over from a node that follows it, as {@link
     * eventbank.engine.cluster.SharedJournal#takeOver} says: only when no writer's lease holds;
     * reads the batches after {@code afterSeq} (where this node's chain hash must be the
     * journal's {@code afterHash}) into {@code replay}. Returns null, with nothing changed,
     * when another writer's lease still holds.
     */
    static PostgresJournal takeOverAfter(PostgresJournalConfig config, long afterSeq, byte[] afterHash,
                                         BatchConsumer replay) throws IOException {
        Connection connection = writerSession(config);
        try (PostgresJournalReader reader = new PostgresJournalReader(config, true)) {
            Head head = takeOver(connection, config, false);
            if (head == null) {
                connection.close();
                return null;
            }
            reader.seek(afterSeq);
            if (reader.nextSeq() != afterSeq + 1 || !Arrays.equals(reader.chainHash(), afterHash)) {
                throw new JournalCorruptException(BATCHES_TABLE, afterSeq, "this node holds seq " + afterSeq
                        + " with chain hash " + HexFormat.of().formatHex(afterHash) + ", which the journal does not");
            }
            Batch batch;
            while ((batch = reader.next(head.lastSeq())) != null) {
                replay.accept(batch);
            }
            return tookOver(config, connection, reader, head);
        } catch (SQLException e) {
            closeQuietly(connection, e);
            throw new IOException("taking the journal over failed: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(connection, e);
            throw e;
        }
    }

    private static Connection writerSession(PostgresJournalConfig config) throws IOException {
        try {
            return Sessions.writer(config);
        } catch (SQLException e) {
            throw new IOException("cannot open a writer's session on " + config.url() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The journal as taken over at {@code head}, once {@code reader} has read every batch up to
     * it: the batches must end at the head's seq with its chain hash.
     */
    private static PostgresJournal tookOver(PostgresJournalConfig config, Connection connection,
                                            PostgresJournalReader reader, Head head) throws SQLException {
        if (reader.nextSeq() - 1 != head.lastSeq() || !Arrays.equals(reader.chainHash(), head.chainHash())) {
            throw new JournalCorruptException(BATCHES_TABLE, reader.nextSeq(), "the batches end at seq "
                    + (reader.nextSeq() - 1) + ", the head says seq " + head.lastSeq() + " with hash "
                    + HexFormat.of().formatHex(head.chainHash()));
        }
        LOG.log(System.Logger.Level.INFO, "took the journal over at epoch " + head.epoch() + ", seq "
                + head.lastSeq() + ", as " + config.nodeName());
        return new PostgresJournal(config, connection, head.epoch(),
                new Recovery(head.lastSeq(), head.chainHash(), null, null));
    }

    /** The epoch this writer took the journal over at. */
    public long epoch() {
        return epoch;
    }

    @Override
    public Recovery recovery() {
        return recovery;
    }

    @Override
    public long lastSeq() {
        return lastSeq;
    }

    @Override
    public byte[] headHash() {
        return headHash.clone();
    }

    /**
     * Seals the batch, inserts its row and moves the head on in the open transaction; {@link
     * #force} commits it. Throws {@link JournalFencedException}, with nothing of the open
     * transaction recorded, when another writer took the journal over.
     */
    @Override
    public void append(ByteBuffer batch, long firstSeq, int count) throws IOException {
        Journal.requireFollows(lastSeq, firstSeq, count);
        byte[] hash = JournalFormat.sealBatch(batch, firstSeq, count, headHash, sha256);
        byte[] bytes = new byte[batch.limit()];
        batch.get(0, bytes);
        long batchLastSeq = firstSeq + count - 1;
        int inserted;
        try {
            appendStatement.setLong(1, batchLastSeq);
            appendStatement.setBytes(2, hash);
            appendStatement.setLong(3, config.lease().toMillis());
            appendStatement.setLong(4, epoch);
            appendStatement.setLong(5, lastSeq);
            appendStatement.setLong(6, firstSeq);
            appendStatement.setLong(7, batchLastSeq);
            appendStatement.setBytes(8, bytes);
            inserted = appendStatement.executeUpdate();
        } catch (SQLException e) {
            throw new IOException("writing the batch at seq " + firstSeq + " failed: " + e.getMessage(), e);
        }
        if (inserted != 1) {
            throw fenced(firstSeq);
        }
        uncommitted = true;
        lastSeq = batchLastSeq;
        headHash = hash;
    }

    /**
     * Commits the batches appended since the last commit. Durable only when the commit returns
     * cleanly: a commit that throws, or that returns a warning (a synchronous standby's wait
     * cancelled, say: committed here, perhaps not on the standby), is a {@link
     * CommitOutcomeUnknownException}. No timeout is put on it.
     */
    @Override
    public void force() throws IOException {
        if (!uncommitted) {
            return;
        }
        uncommitted = false; // whatever the commit's outcome, the transaction is over
        SQLWarning warning;
        try {
            connection.clearWarnings();
            connection.commit();
            warning = connection.getWarnings();
        } catch (SQLException e) {
            throw new CommitOutcomeUnknownException("the commit of the batches up to seq " + lastSeq
                    + " failed, and they may or may not be recorded: " + e.getMessage(), e);
        }
        if (warning != null) {
            throw new CommitOutcomeUnknownException("the commit of the batches up to seq " + lastSeq
                    + " returned a warning, so they may be recorded but not safe: " + warning.getMessage(), warning);
        }
    }

    @Override
    public Reader newReader() {
        return new PostgresJournalReader(config, false);
    }

    /** Closes the writer's session; batches appended and not forced were never durable, and are rolled back. */
    @Override
    public void close() throws IOException {
        try (connection) {
            if (uncommitted) {
                uncommitted = false;
                connection.rollback();
            }
        } catch (SQLException e) {
            throw new IOException("closing the journal's session failed: " + e.getMessage(), e);
        }
    }

    /** The head as a takeover left it. */
    private record Head(long epoch, long lastSeq, byte[] chainHash) {}

    /**
     * Raises the epoch. When the old leader's session holds the head's lock (stopped in the
     * middle of a batch) past the lock timeout, its sessions are ended and the update is tried
     * once more: the old leader's open batch is rolled back, and its commit fails.
     */
    private static Head takeOver(Connection connection, PostgresJournalConfig config, boolean evenUnderLease)
            throws SQLException, IOException {
        try {
            return raiseEpoch(connection, config, evenUnderLease);
        } catch (SQLException e) {
            connection.rollback();
            if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                throw e;
            }
        }
        long ended;
        try (PreparedStatement end = connection.prepareStatement(END_LEADER_SESSIONS_SQL)) {
            end.setLong(1, config.takeoverLockTimeout().toMillis());
            try (ResultSet count = end.executeQuery()) {
                count.next();
                ended = count.getLong(1);
            }
            connection.commit();
        }
        LOG.log(System.Logger.Level.WARNING, "the journal's head stayed locked for "
                + config.takeoverLockTimeout().toMillis() + " ms; ended " + ended
                + " session(s) of the leader it names, and takes it over now");
        return raiseEpoch(connection, config, evenUnderLease);
    }

    /** The head after raising its epoch, or null (nothing changed) when a lease holds and {@code evenUnderLease} is false. */
    private static Head raiseEpoch(Connection connection, PostgresJournalConfig config, boolean evenUnderLease)
            throws SQLException, IOException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCAL lock_timeout = " + config.takeoverLockTimeout().toMillis());
        }
        Head head;
        try (PreparedStatement update = connection.prepareStatement(TAKEOVER_SQL)) {
            update.setString(1, config.nodeName());
            update.setString(2, config.nodeUrl());
            update.setLong(3, config.lease().toMillis());
            update.setInt(4, JournalFormat.FORMAT_VERSION);
            update.setInt(5, JournalFormat.FORMAT_VERSION);
            update.setBoolean(6, evenUnderLease);
            try (ResultSet row = update.executeQuery()) {
                if (!row.next()) {
                    if (!evenUnderLease) {
                        connection.rollback(); // a lease holds (or the format is newer: the caller checks the head)
                        return null;
                    }
                    throw new IOException("the journal's head is missing or written in a newer format version than "
                            + JournalFormat.FORMAT_VERSION + ", which this build writes");
                }
                head = new Head(row.getLong(1), row.getLong(2), row.getBytes(3));
            }
        }
        connection.clearWarnings();
        connection.commit();
        SQLWarning warning = connection.getWarnings();
        if (warning != null) {
            throw new CommitOutcomeUnknownException("the takeover's commit returned a warning: "
                    + warning.getMessage(), warning);
        }
        return head;
    }

    /** Rolls back what the fenced batch's transaction held, and says who holds the journal now. */
    private JournalFencedException fenced(long firstSeq) throws IOException {
        uncommitted = false;
        try {
            connection.rollback();
            try (Statement statement = connection.createStatement();
                 ResultSet head = statement.executeQuery("SELECT epoch, last_seq, leader_name FROM eventbank_head")) {
                String now = head.next() ? "epoch " + head.getLong(1) + ", seq " + head.getLong(2) + ", led by "
                        + head.getString(3) : "no head";
                connection.rollback();
                return new JournalFencedException("fenced: the batch at seq " + firstSeq + " was not recorded, since"
                        + " the head is no longer at epoch " + epoch + " and seq " + lastSeq + " (it is at " + now
                        + "): another writer took the journal over");
            }
        } catch (SQLException e) {
            throw new IOException("the batch at seq " + firstSeq + " was fenced out, and rolling it back failed: "
                    + e.getMessage(), e);
        }
    }

    private static void readToEnd(PostgresJournalReader reader, SnapshotReplay replay) throws IOException {
        Batch batch;
        while ((batch = reader.next(Long.MAX_VALUE)) != null) {
            replay.accept(batch);
        }
    }

    private static void closeQuietly(Connection connection, Exception cause) {
        try {
            connection.close();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
