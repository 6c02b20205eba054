package eventbank.postgres;

import eventbank.engine.journal.FileJournal;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Copies a journal between segment files and PostgreSQL, batch by batch, the same bytes and the
 * same chain ({@code eventbank migrate}; DESIGN.md, "Upgrades and migration"). A copy holds one
 * batch in memory at a time (and up to {@link #INSERT_BYTES_MAX} of rows waiting to be sent),
 * whatever the journal's length.
 *
 * <p>Into PostgreSQL, the copy is one transaction, which holds the head's row locked from the
 * check that the journal is empty to the commit: a writer that starts meanwhile waits, and
 * finds the copy; a copy that fails or is refused leaves nothing behind. Out of PostgreSQL, the
 * file journal's own writer writes the segments, so they are what a server would have written.
 */
public final class PostgresMigration {
    /** Rows are sent in groups of at most this many, or of about this many bytes. */
    private static final int INSERT_ROWS_MAX = 256;
    private static final long INSERT_BYTES_MAX = 16 << 20;

    private static final String LOCK_HEAD_SQL = "SELECT last_seq, leader_name, lease_expires_at,"
            + " lease_expires_at > clock_timestamp() FROM eventbank_head WHERE id = 1 FOR UPDATE";
    private static final String INSERT_SQL = "INSERT INTO eventbank_batches (first_seq, last_seq, batch) VALUES (?, ?, ?)";
    private static final String SET_HEAD_SQL =
            "UPDATE eventbank_head SET last_seq = ?, chain_hash = ?, durable_seq = ? WHERE id = 1";

    /** What a copy copied: the journal's end (its head) and how much. */
    public record Copied(long batches, long lastSeq, byte[] chainHash, JournalReader.TornTail tornTail) {
        public String headHashHex() {
            return HexFormat.of().formatHex(chainHash);
        }
    }

    /** A copy that was not begun: the target is not empty, or someone writes to it. Nothing was changed. */
    public static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    private PostgresMigration() {}

    /**
     * Copies every whole batch of {@code from} into the empty journal {@code to} names, and
     * {@code serverKey} (null: none) into its key table, replacing a key a writer made there.
     * Creates or migrates the schema first. The chain is checked from seq 1 as the batches are
     * read; the batches' end is set as the head's last seq, chain hash and durable seq, its epoch
     * left as it is. Refused, with nothing changed, when the journal holds a batch, or a
     * writer's lease on it has not run out.
     */
    public static Copied toPostgres(JournalSource from, byte[] serverKey, PostgresJournalConfig to)
            throws IOException, RefusedException {
        return toPostgres(from, serverKey, null, to).copied();
    }

    /** What {@link #toPostgres(JournalSource, byte[], Path, PostgresJournalConfig)} copied: the journal, and how many key slots (-1: no key store). */
    public record WithKeys(Copied copied, int keySlots) {}

    /**
     * {@link #toPostgres(JournalSource, byte[], PostgresJournalConfig)}, with the key store of the
     * data directory {@code keysOf} (its {@code keys/data-keys}, when it has one) copied into the
     * key store's tables in the same transaction: the journal's sealed openings never reach the
     * database without their keys.
     */
    public static WithKeys toPostgres(JournalSource from, byte[] serverKey, Path keysOf, PostgresJournalConfig to)
            throws IOException, RefusedException {
        try (Connection connection = session(to)) {
            Schema.migrate(to);
            try {
                refuseUnlessEmpty(connection, to);
                Copied copied = insertAll(from, connection);
                try (PreparedStatement head = connection.prepareStatement(SET_HEAD_SQL)) {
                    head.setLong(1, copied.lastSeq());
                    head.setBytes(2, copied.chainHash());
                    head.setLong(3, copied.lastSeq());
                    head.executeUpdate();
                }
                if (serverKey != null) {
                    PostgresServerKey.store(connection, serverKey);
                }
                int keySlots = keysOf == null ? -1
                        : PersonalKeys.copyToTable(keysOf, PostgresKeyTable.within(to, connection));
                commit(connection, copied);
                return new WithKeys(copied, keySlots);
            } catch (SQLException | IOException | RefusedException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new JournalDatabaseException("copying the journal into " + to.shownUrl() + " failed, and nothing"
                    + " of it was committed: " + e.getMessage(), e);
        }
    }

    /** Opens the copy's session, or says that the database cannot be reached. */
    private static Connection session(PostgresJournalConfig config) throws JournalDatabaseException {
        try {
            return Sessions.migration(config);
        } catch (SQLException e) {
            throw JournalDatabaseException.unreachable(config, e);
        }
    }

    /**
     * Copies every batch of the journal in PostgreSQL into a journal directory that holds no
     * segment yet, written by {@link FileJournal} with segments of at most {@code segmentBytesMax},
     * and forced to disk. Fails (with what it wrote left for the caller to remove) when a batch is
     * damaged, or when the journal's head is not where its batches end after the copy: a writer
     * went on meanwhile.
     */
    public static Copied toFiles(PostgresJournalConfig from, Storage storage, Path journalDirectory,
                                 long segmentBytesMax) throws IOException {
        PostgresJournalSource source = PostgresJournalSource.connect(from);
        long batches = 0;
        try (FileJournal files = FileJournal.recover(storage, journalDirectory, segmentBytesMax, 0, null, batch -> { });
             Journal.Reader reader = source.newReader(true)) {
            if (files.lastSeq() != 0) {
                throw new IllegalStateException(journalDirectory + " holds a journal already");
            }
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                files.append(withHeaderRoom(batch), batch.header().firstSeq(), batch.header().count());
                requireSameHash(batch, files.headHash());
                batches++;
            }
            files.force();
            JournalSource.Head head = source.recordedHead();
            if (head.lastSeq() != files.lastSeq() || !Arrays.equals(head.chainHash(), files.headHash())) {
                throw new IOException("the journal's head is at seq " + head.lastSeq() + " now, but its batches were"
                        + " copied up to seq " + files.lastSeq() + ": a node wrote to it during the copy; stop every"
                        + " node, then migrate again");
            }
            return new Copied(batches, files.lastSeq(), files.headHash(), null);
        }
    }

    /** Locks the head's row and refuses a journal that is not empty or that a writer holds. */
    private static void refuseUnlessEmpty(Connection connection, PostgresJournalConfig to)
            throws SQLException, RefusedException {
        try (PreparedStatement lock = connection.prepareStatement(LOCK_HEAD_SQL);
             ResultSet head = lock.executeQuery()) {
            if (!head.next()) {
                throw new RefusedException("the journal in " + to.shownUrl() + " has no head row: it is damaged");
            }
            if (head.getLong(1) != 0 || hasBatches(connection)) {
                throw new RefusedException("the journal in " + to.shownUrl() + " is not empty: it holds events up to"
                        + " seq " + head.getLong(1) + "; migrate copies only into an empty journal (a new database)");
            }
            if (head.getBoolean(4)) {
                throw new RefusedException("node " + head.getString(2) + " leads the journal in " + to.shownUrl()
                        + " (its lease runs until " + head.getString(3) + "): stop every node, then migrate");
            }
        }
    }

    private static boolean hasBatches(Connection connection) throws SQLException {
        try (PreparedStatement any = connection.prepareStatement("SELECT EXISTS (SELECT 1 FROM eventbank_batches)");
             ResultSet row = any.executeQuery()) {
            row.next();
            return row.getBoolean(1);
        }
    }

    /** Reads {@code from} from seq 1, checking the chain, and inserts each batch as a row, a group at a time. */
    private static Copied insertAll(JournalSource from, Connection connection) throws IOException, SQLException {
        MessageDigest sha256 = JournalFormat.newSha256();
        byte[] previousHash = JournalFormat.HASH_ZERO;
        long batches = 0;
        long lastSeq = 0;
        try (Journal.Reader reader = from.newReader(true);
             PreparedStatement insert = connection.prepareStatement(INSERT_SQL)) {
            reader.seek(0);
            int pendingRows = 0;
            long pendingBytes = 0;
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                ByteBuffer row = withHeaderRoom(batch);
                previousHash = JournalFormat.sealBatch(row, batch.header().firstSeq(), batch.header().count(),
                        previousHash, sha256);
                requireSameHash(batch, previousHash);
                insert.setLong(1, batch.header().firstSeq());
                insert.setLong(2, batch.header().lastSeq());
                insert.setBytes(3, row.array());
                insert.addBatch();
                batches++;
                lastSeq = batch.header().lastSeq();
                pendingRows++;
                pendingBytes += row.capacity();
                if (pendingRows >= INSERT_ROWS_MAX || pendingBytes >= INSERT_BYTES_MAX) {
                    insert.executeBatch();
                    pendingRows = 0;
                    pendingBytes = 0;
                }
            }
            if (pendingRows > 0) {
                insert.executeBatch();
            }
            return new Copied(batches, lastSeq, previousHash, reader.tornTail());
        }
    }

    /**
     * The batch as a journal's append takes it: 64 bytes of room for the header, then the body.
     * Sealing it again writes the very header it had, since a header holds nothing but its seqs,
     * lengths, checksums and the chain hash (docs/FORMAT.md), and the chain is the same.
     */
    private static ByteBuffer withHeaderRoom(JournalReader.Batch batch) {
        ByteBuffer body = batch.body().duplicate();
        ByteBuffer row = ByteBuffer.allocate(JournalFormat.BATCH_HEADER_BYTES + body.remaining());
        row.position(JournalFormat.BATCH_HEADER_BYTES).put(body).flip();
        return row;
    }

    /** The copy's chain hash after a batch must be the one its header recorded (the chain was checked on reading). */
    private static void requireSameHash(JournalReader.Batch batch, byte[] chainHash) {
        if (!Arrays.equals(chainHash, batch.header().chainHash())) {
            throw new JournalCorruptException(batch.file(), batch.offset(), "the batch at seq "
                    + batch.header().firstSeq() + " seals to another chain hash than its header records");
        }
    }

    /** Commits the copy; a commit that fails or warns leaves its outcome unknown, and says what to do. */
    private static void commit(Connection connection, Copied copied) throws SQLException, IOException {
        connection.clearWarnings();
        try {
            connection.commit();
        } catch (SQLException e) {
            throw new JournalDatabaseException("the commit of the copy up to seq " + copied.lastSeq() + " failed, and"
                    + " it may or may not be recorded: " + e.getMessage() + "; run eventbank verify on it", e);
        }
        SQLWarning warning = connection.getWarnings();
        if (warning != null) {
            throw new IOException("the commit of the copy up to seq " + copied.lastSeq() + " returned a warning, so it"
                    + " may be recorded but not safe: " + warning.getMessage() + "; run eventbank verify on it");
        }
    }
}
