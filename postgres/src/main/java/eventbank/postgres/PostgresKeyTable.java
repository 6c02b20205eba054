package eventbank.postgres;

import eventbank.engine.keys.KeyTable;
import eventbank.engine.keys.KeysFencedException;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The key store of a cluster in the journal's database (docs/FORMAT.md, "The key store in
 * PostgreSQL"): {@code eventbank_key_store} holds the header, {@code eventbank_data_keys} one
 * row per slot. Writes go in one transaction that holds the head's row and the header's (FOR
 * SHARE) and checks the writer epoch and the header, so a deposed leader, or one still running
 * with a KEK a rotation replaced, writes nothing; reads use a reader's session, which may be on
 * a hot standby.
 */
public final class PostgresKeyTable implements KeyTable {
    private static final String HEADER_SQL = "SELECT header FROM eventbank_key_store WHERE id = 1";
    private static final String HEADER_LOCKED_SQL = HEADER_SQL + " FOR SHARE";
    private static final String INSERT_HEADER_SQL =
            "INSERT INTO eventbank_key_store (id, header) VALUES (1, ?) ON CONFLICT (id) DO NOTHING";
    private static final String READ_SQL = "SELECT bytes FROM eventbank_data_keys WHERE slot = ?";
    private static final String READ_RANGE_SQL =
            "SELECT slot, bytes FROM eventbank_data_keys WHERE slot >= ? AND slot < ? ORDER BY slot";
    private static final String READ_ALL_SQL = "SELECT slot, bytes FROM eventbank_data_keys ORDER BY slot";
    private static final String BOUND_SQL = "SELECT coalesce(max(slot) + 1, 0) FROM eventbank_data_keys";
    private static final String FENCE_SQL = "SELECT head.epoch, keys.header FROM eventbank_head head"
            + " CROSS JOIN eventbank_key_store keys WHERE head.id = 1 AND keys.id = 1 FOR SHARE";
    private static final String UPSERT_SQL = "INSERT INTO eventbank_data_keys (slot, bytes) VALUES (?, ?)"
            + " ON CONFLICT (slot) DO UPDATE SET bytes = EXCLUDED.bytes";
    private static final String LEASE_SQL = "SELECT leader_name, coalesce(lease_expires_at > clock_timestamp(), false)"
            + " FROM eventbank_head WHERE id = 1 FOR UPDATE";
    private static final String FENCE_ALL_SQL = "UPDATE eventbank_head SET epoch = epoch + 1 WHERE id = 1";
    private static final String REPLACE_HEADER_SQL = "UPDATE eventbank_key_store SET header = ? WHERE id = 1";

    private final PostgresJournalConfig config;
    /** The transaction of {@code eventbank migrate} that this table writes in, or null: sessions of its own. */
    private final Connection shared;
    /** Guard the reader's session and the writer's apart: a login's read waits for no commit. */
    private final Object readLock = new Object();
    private final Object writeLock = new Object();
    /** Opened when first needed and again after a failure. */
    private Connection reader;
    private Connection writer;

    public PostgresKeyTable(PostgresJournalConfig config) {
        this.config = config;
        this.shared = null;
    }

    private PostgresKeyTable(PostgresJournalConfig config, Connection shared) {
        this.config = config;
        this.shared = shared;
        this.reader = shared;
        this.writer = shared;
    }

    /**
     * The table as seen in {@code connection}'s transaction, which its owner commits or rolls
     * back: {@code eventbank migrate} copies a key store in the transaction that copies the journal.
     */
    static PostgresKeyTable within(PostgresJournalConfig config, Connection connection) {
        return new PostgresKeyTable(config, connection);
    }

    @Override
    public byte[] header() throws IOException {
        return reading("reading the key store's header", connection -> readHeader(connection, HEADER_SQL));
    }

    /** A read on the reader's session. */
    @FunctionalInterface
    private interface Read<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code read} on the reader's session; when a session opened before fails (its server
     * went away: a failover), once more on a new one. Reads change nothing, so a second try is safe.
     */
    private <T> T reading(String what, Read<T> read) throws IOException {
        synchronized (readLock) {
            boolean fresh = reader == null;
            try {
                return read.run(reader());
            } catch (SQLException e) {
                JournalDatabaseException failure = failed(what, e, false);
                if (fresh || shared != null) {
                    throw failure;
                }
            }
            try {
                return read.run(reader());
            } catch (SQLException e) {
                throw failed(what, e, false);
            }
        }
    }

    @Override
    public byte[] committedHeader() throws IOException {
        synchronized (writeLock) {
            try {
                return readHeader(writer(), HEADER_LOCKED_SQL);
            } catch (SQLException e) {
                throw failed("reading the key store's header on the primary", e, true);
            }
        }
    }

    private byte[] readHeader(Connection connection, String sql) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(sql);
             ResultSet row = select.executeQuery()) {
            byte[] header = row.next() ? row.getBytes(1) : null;
            commit(connection);
            return header;
        }
    }

    @Override
    public byte[] createHeader(byte[] header) throws IOException {
        synchronized (writeLock) {
            try {
                Connection connection = writer();
                try (PreparedStatement insert = connection.prepareStatement(INSERT_HEADER_SQL)) {
                    insert.setBytes(1, header);
                    insert.executeUpdate();
                }
                return readHeader(connection, HEADER_SQL);
            } catch (SQLException e) {
                throw failed("creating the key store's header", e, true);
            }
        }
    }

    @Override
    public byte[] read(int slot) throws IOException {
        return reading("reading slot " + slot + " of the key store", connection -> {
            try (PreparedStatement select = connection.prepareStatement(READ_SQL)) {
                select.setInt(1, slot);
                try (ResultSet row = select.executeQuery()) {
                    byte[] bytes = row.next() ? row.getBytes(1) : null;
                    commit(connection);
                    return bytes;
                }
            }
        });
    }

    @Override
    public Map<Integer, byte[]> readRange(int from, int to) throws IOException {
        return reading("reading slots " + from + " to " + (to - 1) + " of the key store", connection -> {
            Map<Integer, byte[]> slots = new TreeMap<>();
            try (PreparedStatement select = connection.prepareStatement(READ_RANGE_SQL)) {
                select.setInt(1, from);
                select.setInt(2, to);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        slots.put(rows.getInt(1), rows.getBytes(2));
                    }
                }
            }
            commit(connection);
            return slots;
        });
    }

    @Override
    public void write(SortedMap<Integer, byte[]> slots, long epoch, byte[] header) throws IOException {
        synchronized (writeLock) {
            try {
                Connection connection = writer();
                if (epoch != UNFENCED || header != null) {
                    try (PreparedStatement select = connection.prepareStatement(FENCE_SQL);
                         ResultSet row = select.executeQuery()) {
                        boolean found = row.next();
                        long head = found ? row.getLong(1) : -1;
                        if (epoch != UNFENCED && head != epoch) {
                            rollback(connection);
                            throw new KeysFencedException("the journal's head is at writer epoch " + head
                                    + ", not at this leader's " + epoch + ": no key was written to " + describe());
                        }
                        if (header != null && !(found && Arrays.equals(row.getBytes(2), header))) {
                            rollback(connection);
                            throw new KeysFencedException("the key store " + describe() + " holds another header"
                                    + " than this node read at its start (a rotation since: this node needs the new"
                                    + " key-encryption key and a restart); no key was written");
                        }
                    }
                }
                upsert(connection, slots);
                commit(connection);
            } catch (SQLException e) {
                throw failed("writing " + slots.size() + " slot(s) of the key store", e, true);
            }
        }
    }

    private static void upsert(Connection connection, SortedMap<Integer, byte[]> slots) throws SQLException {
        try (PreparedStatement upsert = connection.prepareStatement(UPSERT_SQL)) {
            for (Map.Entry<Integer, byte[]> slot : slots.entrySet()) {
                upsert.setInt(1, slot.getKey());
                upsert.setBytes(2, slot.getValue());
                upsert.addBatch();
            }
            upsert.executeBatch();
        }
    }

    @Override
    public void rewrite(Rewrap rewrap) throws IOException {
        synchronized (writeLock) {
            try {
                Connection connection = writer();
                try {
                    try (PreparedStatement select = connection.prepareStatement(LEASE_SQL);
                         ResultSet row = select.executeQuery()) {
                        if (row.next() && row.getBoolean(2)) {
                            throw new IOException("node " + row.getString(1) + " leads the journal under a lease"
                                    + " that still holds: stop every node before rotating the keys; nothing was changed");
                        }
                    }
                    byte[] held;
                    try (PreparedStatement select = connection.prepareStatement(HEADER_SQL + " FOR UPDATE");
                         ResultSet row = select.executeQuery()) {
                        if (!row.next()) {
                            throw new IOException("the key store " + describe() + " holds no header to replace");
                        }
                        held = row.getBytes(1);
                    }
                    TreeMap<Integer, byte[]> slots = new TreeMap<>();
                    try (PreparedStatement select = connection.prepareStatement(READ_ALL_SQL);
                         ResultSet rows = select.executeQuery()) {
                        while (rows.next()) {
                            slots.put(rows.getInt(1), rewrap.slot(rows.getInt(1), rows.getBytes(2)));
                        }
                    }
                    try (PreparedStatement fence = connection.prepareStatement(FENCE_ALL_SQL);
                         PreparedStatement replace = connection.prepareStatement(REPLACE_HEADER_SQL)) {
                        fence.executeUpdate();
                        replace.setBytes(1, rewrap.header(held));
                        replace.executeUpdate();
                    }
                    upsert(connection, slots);
                    connection.commit();
                } catch (IOException | RuntimeException e) {
                    connection.rollback();
                    throw e;
                }
            } catch (SQLException e) {
                throw failed("replacing the key store's rows", e, true);
            }
        }
    }

    @Override
    public int slotsBound() throws IOException {
        return reading("reading the key store's size", connection -> {
            try (PreparedStatement select = connection.prepareStatement(BOUND_SQL);
                 ResultSet row = select.executeQuery()) {
                row.next();
                int bound = row.getInt(1);
                commit(connection);
                return bound;
            }
        });
    }

    @Override
    public void leading() {
        if (shared != null) {
            return;
        }
        synchronized (writeLock) {
            // A takeover ends the sessions named after the last leader's keys: perhaps this one.
            closeQuietly(writer);
            writer = null;
        }
    }

    @Override
    public String describe() {
        return "eventbank_data_keys in " + config.shownUrl();
    }

    private Connection reader() throws SQLException {
        if (reader == null) {
            reader = Sessions.reader(config);
        }
        return reader;
    }

    private Connection writer() throws SQLException {
        if (writer == null) {
            writer = Sessions.keyWriter(config);
        }
        return writer;
    }

    private void commit(Connection connection) throws SQLException {
        if (shared == null) {
            connection.commit();
        }
    }

    private void rollback(Connection connection) throws SQLException {
        if (shared == null) {
            connection.rollback();
        }
    }

    /** A failure's exception; a session of this table's own is closed, to be opened again by the next call. */
    private JournalDatabaseException failed(String what, SQLException e, boolean onWriter) {
        if (shared == null) {
            if (onWriter) {
                closeQuietly(writer);
                writer = null;
            } else {
                closeQuietly(reader);
                reader = null;
            }
        }
        return JournalDatabaseException.failed(what + " in " + config.shownUrl(), e);
    }

    private static void closeQuietly(Connection connection) {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // closing a session that failed: nothing more to do
        }
    }

    @Override
    public void close() throws IOException {
        if (shared != null) {
            return;
        }
        synchronized (readLock) {
            closeQuietly(reader);
            reader = null;
        }
        synchronized (writeLock) {
            closeQuietly(writer);
            writer = null;
        }
    }
}
