package eventbank.postgres;

import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalFormat.BatchHeader;
import eventbank.engine.journal.JournalReader.Batch;
import eventbank.engine.journal.JournalReader.TornTail;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * Reads the journal's rows in seq order from any seq, checking each batch as the file reader
 * does (its header and body CRC32Cs, that its seqs follow on, and, when asked, the hash chain),
 * so a reader of the database hands out the very batches a reader of the segments would. A
 * database has no torn writes (a batch's row is committed whole or not at all): every damage is
 * a {@link JournalCorruptException} naming the table and, as its offset, the row's first seq.
 *
 * <p>It has a session of its own, opened at the first read. A read streams the rows after the
 * last one read, a few megabytes a round trip, and ends (with its transaction) at the end of the
 * log or at a batch past the limit it is given, so no transaction stays open while it waits.
 */
final class PostgresJournalReader implements Journal.Reader {
    /** About how many bytes of rows one round trip fetches while reading. */
    private static final int FETCH_BYTES = 16 << 20;
    private static final int FETCH_ROWS_MAX = 1_024;
    private static final int FETCH_ROWS_FIRST = 64;

    private final PostgresJournalConfig config;
    private final boolean verifyChain;
    private final MessageDigest sha256 = JournalFormat.newSha256();
    /** The chain is recomputed only for batches after this seq (see {@link #recomputeChainAfter}). */
    private long recomputeChainAfterSeq;
    private Connection connection;
    private PreparedStatement select;
    private ResultSet rows;
    private long nextSeq = 1;
    private byte[] previousHash = JournalFormat.HASH_ZERO;

    PostgresJournalReader(PostgresJournalConfig config, boolean verifyChain) {
        this.config = config;
        this.verifyChain = verifyChain;
    }

    /** As {@link eventbank.engine.journal.JournalReader#recomputeChainAfter}: only with {@code verifyChain}. */
    void recomputeChainAfter(long seq) {
        recomputeChainAfterSeq = seq;
    }

    /** The chain hash of the last batch read or skipped: the journal's head hash at its end. */
    @Override
    public byte[] chainHash() {
        return previousHash.clone();
    }

    @Override
    public long nextSeq() {
        return nextSeq;
    }

    /** Always null: a row is committed whole or not at all. */
    @Override
    public TornTail tornTail() {
        return null;
    }

    /**
     * Positions the reader after the batch that ends at or before {@code afterSeq}, which is the
     * batch before the one that holds {@code afterSeq + 1}; its header gives the chain hash.
     */
    @Override
    public void seek(long afterSeq) throws IOException {
        endRead();
        nextSeq = 1;
        previousHash = JournalFormat.HASH_ZERO;
        try (PreparedStatement before = connection().prepareStatement("SELECT first_seq, substring(batch FROM 1 FOR "
                + JournalFormat.BATCH_HEADER_BYTES + ") FROM eventbank_batches WHERE last_seq <= ?"
                + " ORDER BY last_seq DESC LIMIT 1")) {
            before.setLong(1, afterSeq);
            try (ResultSet row = before.executeQuery()) {
                if (row.next()) {
                    long firstSeq = row.getLong(1);
                    BatchHeader header = JournalFormat.parseBatchHeader(ByteBuffer.wrap(row.getBytes(2)));
                    if (header == null || header.firstSeq() != firstSeq) {
                        throw corrupt(firstSeq, "the batch header fails its CRC32C or names another seq");
                    }
                    nextSeq = header.lastSeq() + 1;
                    previousHash = header.chainHash();
                }
            }
            connection.commit();
        } catch (SQLException e) {
            throw failed("seeking to seq " + afterSeq, e);
        }
    }

    @Override
    public Batch next(long seqLimit) throws IOException {
        try {
            if (nextSeq > seqLimit) {
                endRead();
                return null;
            }
            if (rows == null) {
                startRead();
            }
            if (!rows.next()) {
                endRead();
                return null;
            }
            long firstSeq = rows.getLong(1);
            if (firstSeq > seqLimit) {
                endRead(); // read again once it is within the limit
                return null;
            }
            long lastSeq = rows.getLong(2);
            byte[] bytes = rows.getBytes(3);
            rows.setFetchSize(Math.clamp(FETCH_BYTES / Math.max(1, bytes.length), 1, FETCH_ROWS_MAX));
            return checked(firstSeq, lastSeq, bytes);
        } catch (SQLException e) {
            throw failed("reading from seq " + nextSeq, e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (connection != null) {
                connection.close(); // ends the read and its transaction with it
            }
        } catch (SQLException e) {
            throw new IOException("closing a journal reader's session failed", e);
        } finally {
            connection = null;
            select = null;
            rows = null;
        }
    }

    /** The row's batch, checked as {@link eventbank.engine.journal.JournalReader} checks one in a segment. */
    private Batch checked(long firstSeq, long lastSeq, byte[] bytes) {
        if (firstSeq != nextSeq) {
            throw corrupt(firstSeq, "expected a batch starting at seq " + nextSeq + ", found seq " + firstSeq);
        }
        ByteBuffer batch = ByteBuffer.wrap(bytes);
        BatchHeader header = JournalFormat.parseBatchHeader(batch);
        if (header == null) {
            throw corrupt(firstSeq, "the batch header fails its CRC32C");
        }
        if (header.firstSeq() != firstSeq || header.lastSeq() != lastSeq || header.count() <= 0) {
            throw corrupt(firstSeq, "the batch header says seqs " + header.firstSeq() + " to " + header.lastSeq()
                    + ", the row " + firstSeq + " to " + lastSeq);
        }
        int bodyLength = bytes.length - JournalFormat.BATCH_HEADER_BYTES;
        ByteBuffer body = batch.slice(JournalFormat.BATCH_HEADER_BYTES, bodyLength);
        if (header.bodyLength() != bodyLength || JournalFormat.crc(body, 0, bodyLength) != header.bodyCrc()) {
            throw corrupt(firstSeq, "the batch body is incomplete or fails its CRC32C");
        }
        if (verifyChain && firstSeq > recomputeChainAfterSeq) {
            byte[] expected = JournalFormat.chainHash(sha256, previousHash, JournalFormat.hashedHeaderFields(batch),
                    body);
            if (!Arrays.equals(expected, header.chainHash())) {
                throw corrupt(firstSeq, "the hash chain is broken at seq " + firstSeq);
            }
        }
        nextSeq = lastSeq + 1;
        previousHash = header.chainHash();
        return new Batch(header, body, PostgresJournal.BATCHES_TABLE, firstSeq);
    }

    private void startRead() throws SQLException {
        if (select == null) {
            select = connection().prepareStatement(
                    "SELECT first_seq, last_seq, batch FROM eventbank_batches WHERE first_seq >= ? ORDER BY first_seq");
        }
        select.setLong(1, nextSeq);
        select.setFetchSize(FETCH_ROWS_FIRST);
        rows = select.executeQuery();
    }

    private void endRead() throws IOException {
        if (rows == null) {
            return;
        }
        try {
            rows.close();
            connection.commit();
        } catch (SQLException e) {
            throw failed("ending a read", e);
        } finally {
            rows = null;
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = Sessions.reader(config);
        }
        return connection;
    }

    /** A failed read; the session is dropped, and the next read opens another. */
    private JournalDatabaseException failed(String what, SQLException e) {
        try {
            close();
        } catch (IOException closing) {
            e.addSuppressed(closing);
        }
        return JournalDatabaseException.failed(what, e);
    }

    private static JournalCorruptException corrupt(long firstSeq, String problem) {
        return new JournalCorruptException(PostgresJournal.BATCHES_TABLE, firstSeq, "the row of seq " + firstSeq
                + ": " + problem);
    }
}
