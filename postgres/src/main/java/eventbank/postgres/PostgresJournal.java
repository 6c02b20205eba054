package eventbank.postgres;

import eventbank.engine.journal.BatchNotRecordedException;
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

    /**
     * Ends the sessions of the leader the head names (but this one), its key store's writing
     * session included (PostgresKeyTable: it may hold the head FOR SHARE), waiting up to the
     * given milliseconds for each.
     */
    private static final String END_LEADER_SESSIONS_SQL = """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, ?)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND application_name IN (SELECT leader_name FROM eventbank_head
                                        UNION ALL SELECT leader_name || ' keys' FROM eventbank_head)""";

    /**
     * The read-back of batches whose commit's outcome is unknown, in the writer's session: the
     * head, locked so that nothing moves it between this look and the confirming commit.
     */
    private static final String HEAD_FOR_UPDATE_SQL = "SELECT epoch, last_seq, chain_hash FROM eventbank_head FOR UPDATE";

    /**
     * The later transaction that confirms batches read back: it writes (so its commit waits for
     * the synchronous standby, and that wait covers all earlier WAL) and renews the lease. It
     * leaves the durable seq alone: a commit that returns a warning is visible here all the same,
     * and followers must not take the batches for durable before that is known. The next batch or
     * heartbeat moves it.
     */
    private static final String CONFIRM_SQL = """
            UPDATE eventbank_head
               SET lease_expires_at = clock_timestamp() + ? * interval '1 millisecond'
             WHERE epoch = ? AND last_seq = ?""";

    /** The longest pause between two attempts to read batches back. */
    private static final long RESOLVE_PAUSE_MAX_MILLIS = 1_000;

    private final PostgresJournalConfig config;
    private final long epoch;
    private final Recovery recovery;
    private final MessageDigest sha256 = JournalFormat.newSha256();
    /** The writer's session: another one after a commit whose outcome was unknown. */
    private Connection connection;
    private PreparedStatement appendStatement;
    /** The session's server process, to end it when it holds the head's lock after its commit failed. */
    private int backendPid;
    private long lastSeq;
    private byte[] headHash;
    /** The last seq whose commit is known clean, and the chain hash after it: durable. */
    private long durableSeq;
    private byte[] durableHash;
    /** Whether the open transaction holds batches not committed yet. */
    private boolean uncommitted;

    private PostgresJournal(PostgresJournalConfig config, Connection connection, long epoch, Recovery recovery)
            throws SQLException {
        this.config = config;
        this.epoch = epoch;
        this.recovery = recovery;
        this.lastSeq = recovery.lastSeq();
        this.headHash = recovery.headHash();
        this.durableSeq = lastSeq;
        this.durableHash = headHash;
        use(connection);
    }

    /** Makes {@code session}, out of autocommit, the writer's session. */
    private void use(Connection session) throws SQLException {
        connection = session;
        appendStatement = session.prepareStatement(APPEND_SQL);
        try (Statement statement = session.createStatement();
             ResultSet pid = statement.executeQuery("SELECT pg_backend_pid()")) {
            pid.next();
            backendPid = pid.getInt(1);
        }
        session.commit();
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
     * Commits the batches appended since the last commit. Durable when the commit returns
     * cleanly. A commit that throws (the primary lost, the connection dropped) or returns a
     * warning (a synchronous standby's wait cancelled: committed here, perhaps not on the
     * standby) leaves their outcome unknown, and it is resolved, never guessed ({@link #resolve}):
     * this returns only once the batches are known durable. No timeout is put on a commit.
     */
    @Override
    public void force() throws IOException {
        if (!uncommitted) {
            return;
        }
        uncommitted = false; // whatever the commit's outcome, the transaction is over
        Exception trouble;
        try {
            connection.clearWarnings();
            connection.commit();
            trouble = connection.getWarnings();
        } catch (SQLException e) {
            trouble = e;
        }
        if (trouble != null) {
            resolve(trouble);
        }
        durableSeq = lastSeq;
        durableHash = headHash;
    }

    /** What reading the batches back found. */
    private enum ReadBack { RECORDED, MISSING, FENCED }

    /**
     * Resolves a commit whose outcome is unknown (DESIGN.md, "Unknown outcomes") while the
     * batches' callers wait: in a new session on the primary (after a failover, the new one),
     * reads the head back. When it ends with these batches at this writer's epoch, a later
     * transaction on that same primary (a lease renewal) must commit cleanly: its wait for the synchronous standby covers the earlier WAL, so they are durable
     * and may be acknowledged. When the head ends before them, they are not recorded: a {@link
     * BatchNotRecordedException}. When another writer took the journal over meanwhile, or the
     * database cannot be reached for {@code journal.resolve_timeout}, the outcome stays unknown:
     * a {@link CommitOutcomeUnknownException}, and the callers retry with their keys.
     */
    private void resolve(Exception trouble) throws IOException {
        String batches = "the batches after seq " + durableSeq + " up to seq " + lastSeq;
        LOG.log(System.Logger.Level.WARNING, "the commit of " + batches + " " + (trouble instanceof SQLWarning
                ? "returned a warning" : "failed") + " (" + trouble.getMessage() + "): their outcome is unknown;"
                + " reading them back before anyone is answered");
        long deadline = System.nanoTime() + config.resolveTimeout().toNanos();
        long pauseMillis = 0;
        Exception last = trouble;
        while (true) {
            ReadBack found = null;
            try {
                found = readBack();
            } catch (SQLException | IOException e) {
                last = e;
                LOG.log(System.Logger.Level.WARNING, "reading back " + batches + " failed: " + e.getMessage()
                        + "; trying again");
            }
            if (found == ReadBack.RECORDED) {
                LOG.log(System.Logger.Level.WARNING, batches + " are recorded: read back, and a later commit on"
                        + " the same primary returned cleanly; their callers are answered now");
                return;
            }
            if (found == ReadBack.MISSING) {
                throw new BatchNotRecordedException(batches + " are not in the journal: the commit whose outcome"
                        + " was unknown did not last (" + trouble.getMessage() + "). Nothing of them is acknowledged,"
                        + " and this writer gives up what it decided after seq " + durableSeq);
            }
            if (found == ReadBack.FENCED) {
                throw new CommitOutcomeUnknownException("another writer took the journal over while " + batches
                        + " were being read back; whether they are recorded is the new leader's to answer", trouble);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new CommitOutcomeUnknownException("the outcome of " + batches + " could not be read back"
                        + " within journal.resolve_timeout (" + config.resolveTimeout() + "): " + last.getMessage(),
                        last);
            }
            pauseMillis = Math.min(RESOLVE_PAUSE_MAX_MILLIS, pauseMillis == 0 ? 10 : pauseMillis * 2);
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommitOutcomeUnknownException("interrupted while reading back " + batches, e);
            }
        }
    }

    /**
     * One attempt: a new writer's session, the head read and locked, and, when it ends with the
     * batches of the unknown commit at this epoch, the confirming commit. Returns null when that
     * commit too returned a warning (the synchronous standby still does not answer).
     */
    private ReadBack readBack() throws SQLException, IOException {
        int stalePid = backendPid;
        closeQuietly(connection, new IOException("closing the writer's session of a commit whose outcome is unknown"));
        use(Sessions.writer(config));
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCAL lock_timeout = " + config.takeoverLockTimeout().toMillis());
            long headEpoch;
            long headSeq;
            byte[] headChainHash;
            try (ResultSet head = statement.executeQuery(HEAD_FOR_UPDATE_SQL)) {
                if (!head.next()) {
                    throw new IOException("the journal's head row is missing");
                }
                headEpoch = head.getLong(1);
                headSeq = head.getLong(2);
                headChainHash = head.getBytes(3);
            } catch (SQLException e) {
                if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                    // The old session's server process still holds the head's lock (the connection
                    // was lost, not the server): it is ended, and the next attempt finds the lock free.
                    connection.rollback();
                    statement.execute("SELECT pg_terminate_backend(" + stalePid + ")");
                    connection.commit();
                }
                throw e;
            }
            if (headEpoch != epoch) {
                connection.rollback();
                return ReadBack.FENCED;
            }
            if (headSeq == durableSeq && Arrays.equals(headChainHash, durableHash)) {
                connection.rollback();
                return ReadBack.MISSING;
            }
            if (headSeq != lastSeq || !Arrays.equals(headChainHash, headHash)) {
                connection.rollback();
                throw new JournalCorruptException(BATCHES_TABLE, headSeq, "the head at this writer's epoch " + epoch
                        + " is at seq " + headSeq + ", neither the last batch written (" + lastSeq
                        + ") nor the last known durable (" + durableSeq + ")");
            }
        }
        try (PreparedStatement confirm = connection.prepareStatement(CONFIRM_SQL)) {
            confirm.setLong(1, config.lease().toMillis());
            confirm.setLong(2, epoch);
            confirm.setLong(3, lastSeq);
            confirm.executeUpdate();
        }
        connection.clearWarnings();
        connection.commit();
        SQLWarning warning = connection.getWarnings();
        if (warning != null) {
            LOG.log(System.Logger.Level.WARNING, "the commit confirming the batches up to seq " + lastSeq
                    + " returned a warning too (" + warning.getMessage() + "); trying again");
            return null;
        }
        return ReadBack.RECORDED;
    }

    @Override
    public Reader newReader() {
        return new PostgresJournalReader(config, false);
    }

    /** Closes the writer's session; batches appended and not forced were never durable, and are rolled back. */
    @Override
    public void close() throws IOException {
        try (Connection session = connection) {
            if (uncommitted) {
                uncommitted = false;
                session.rollback();
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
