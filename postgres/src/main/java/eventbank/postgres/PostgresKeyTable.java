package eventbank.postgres;

import eventbank.engine.journal.JournalFencedException;
import eventbank.engine.keys.KeyTable;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The key store of a cluster in the journal's database (docs/FORMAT.md, "The key store in
 * PostgreSQL"): {@code eventbank_key_store} holds the header, {@code eventbank_data_keys} one
 * row per slot. Writes go in one transaction that holds the head's row (FOR SHARE) and checks
 * the writer epoch, so a deposed leader overwrites nothing; reads use a reader's session, which
 * may be on a hot standby.
 */
public final class PostgresKeyTable implements KeyTable {
    private static final String HEADER_SQL = "SELECT header FROM eventbank_key_store WHERE id = 1";
    private static final String INSERT_HEADER_SQL =
            "INSERT INTO eventbank_key_store (id, header) VALUES (1, ?) ON CONFLICT (id) DO NOTHING";
    private static final String READ_SQL = "SELECT bytes FROM eventbank_data_keys WHERE slot = ?";
    private static final String READ_RANGE_SQL =
            "SELECT slot, bytes FROM eventbank_data_keys WHERE slot >= ? AND slot < ? ORDER BY slot";
    private static final String BOUND_SQL = "SELECT coalesce(max(slot) + 1, 0) FROM eventbank_data_keys";
    private static final String EPOCH_SQL = "SELECT epoch FROM eventbank_head WHERE id = 1 FOR SHARE";
    private static final String UPSERT_SQL = "INSERT INTO eventbank_data_keys (slot, bytes) VALUES (?, ?)"
            + " ON CONFLICT (slot) DO UPDATE SET bytes = EXCLUDED.bytes";
    private static final String LEASE_SQL = "SELECT leader_name, coalesce(lease_expires_at > clock_timestamp(), false)"
            + " FROM eventbank_head WHERE id = 1 FOR UPDATE";
    private static final String FENCE_ALL_SQL = "UPDATE eventbank_head SET epoch = epoch + 1 WHERE id = 1";
    private static final String REPLACE_HEADER_SQL = "UPDATE eventbank_key_store SET header = ? WHERE id = 1";
    private static final String DELETE_SLOTS_SQL = "DELETE FROM eventbank_data_keys";

    private final PostgresJournalConfig config;
    /** Guarded by this: the sessions, opened when first needed and again after a failure. */
    private Connection reader;
    private Connection writer;

    public PostgresKeyTable(PostgresJournalConfig config) {
        this.config = config;
    }

    @Override
    public synchronized byte[] header() throws IOException {
        try {
            return readHeader(reader());
        } catch (SQLException e) {
            throw failed("reading the key store's header", e, false);
        }
    }

    private static byte[] readHeader(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(HEADER_SQL);
             ResultSet row = select.executeQuery()) {
            byte[] header = row.next() ? row.getBytes(1) : null;
            connection.commit();
            return header;
        }
    }

    @Override
    public synchronized byte[] createHeader(byte[] header) throws IOException {
        try {
            Connection connection = writer();
            try (PreparedStatement insert = connection.prepareStatement(INSERT_HEADER_SQL)) {
                insert.setBytes(1, header);
                insert.executeUpdate();
            }
            return readHeader(connection);
        } catch (SQLException e) {
            throw failed("creating the key store's header", e, true);
        }
    }

    @Override
    public synchronized byte[] read(int slot) throws IOException {
        try {
            Connection connection = reader();
            try (PreparedStatement select = connection.prepareStatement(READ_SQL)) {
                select.setInt(1, slot);
                try (ResultSet row = select.executeQuery()) {
                    byte[] bytes = row.next() ? row.getBytes(1) : null;
                    connection.commit();
                    return bytes;
                }
            }
        } catch (SQLException e) {
            throw failed("reading slot " + slot + " of the key store", e, false);
        }
    }

    @Override
    public synchronized Map<Integer, byte[]> readRange(int from, int to) throws IOException {
        try {
            Connection connection = reader();
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
            connection.commit();
            return slots;
        } catch (SQLException e) {
            throw failed("reading slots " + from + " to " + (to - 1) + " of the key store", e, false);
        }
    }

    @Override
    public synchronized void write(SortedMap<Integer, byte[]> slots, long epoch) throws IOException {
        try {
            Connection connection = writer();
            if (epoch != UNFENCED) {
                try (PreparedStatement select = connection.prepareStatement(EPOCH_SQL);
                     ResultSet row = select.executeQuery()) {
                    long head = row.next() ? row.getLong(1) : -1;
                    if (head != epoch) {
                        connection.rollback();
                        throw new JournalFencedException("the journal's head is at writer epoch " + head
                                + ", not at this leader's " + epoch + ": no key was written to " + describe());
                    }
                }
            }
            upsert(connection, slots);
            connection.commit();
        } catch (SQLException e) {
            throw failed("writing " + slots.size() + " slot(s) of the key store", e, true);
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
    public synchronized void replaceAll(byte[] header, SortedMap<Integer, byte[]> slots) throws IOException {
        try {
            Connection connection = writer();
            try (PreparedStatement select = connection.prepareStatement(LEASE_SQL);
                 ResultSet row = select.executeQuery()) {
                if (row.next() && row.getBoolean(2)) {
                    String leader = row.getString(1);
                    connection.rollback();
                    throw new IOException("node " + leader + " leads the journal under a lease that still holds:"
                            + " stop every node before rotating the keys; nothing was changed");
                }
            }
            try (PreparedStatement fence = connection.prepareStatement(FENCE_ALL_SQL);
                 PreparedStatement replace = connection.prepareStatement(REPLACE_HEADER_SQL);
                 PreparedStatement delete = connection.prepareStatement(DELETE_SLOTS_SQL)) {
                fence.executeUpdate();
                replace.setBytes(1, header);
                if (replace.executeUpdate() != 1) {
                    connection.rollback();
                    throw new IOException("the key store " + describe() + " holds no header to replace");
                }
                delete.executeUpdate();
            }
            upsert(connection, slots);
            connection.commit();
        } catch (SQLException e) {
            throw failed("replacing the key store's rows", e, true);
        }
    }

    @Override
    public synchronized int slotsBound() throws IOException {
        try {
            Connection connection = reader();
            try (PreparedStatement select = connection.prepareStatement(BOUND_SQL);
                 ResultSet row = select.executeQuery()) {
                row.next();
                int bound = row.getInt(1);
                connection.commit();
                return bound;
            }
        } catch (SQLException e) {
            throw failed("reading the key store's size", e, false);
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

    /** A failure's exception; the session it happened on is closed, to be opened again by the next call. */
    private JournalDatabaseException failed(String what, SQLException e, boolean onWriter) {
        Connection broken = onWriter ? writer : reader;
        if (onWriter) {
            writer = null;
        } else {
            reader = null;
        }
        try {
            if (broken != null) {
                broken.close();
            }
        } catch (SQLException closing) {
            e.addSuppressed(closing);
        }
        return JournalDatabaseException.failed(what + " in " + config.shownUrl(), e);
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            if (reader != null) {
                reader.close();
            }
            if (writer != null) {
                writer.close();
            }
        } catch (SQLException e) {
            throw new IOException("closing the key store's sessions", e);
        } finally {
            reader = null;
            writer = null;
        }
    }
}
