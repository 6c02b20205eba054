package eventbank.postgres;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The server key in the journal's database, table {@code eventbank_server_key} (docs/FORMAT.md):
 * the same key on every node of a cluster, so that a token, a verification link or a request
 * fingerprint made by one node holds on every other. The first writer to start creates it; a
 * data directory's {@code server.key} is copied in by {@code eventbank migrate}. Secret: nothing
 * here logs or shows it.
 */
public final class PostgresServerKey {
    /** A new key's length, as a data directory's {@code server.key} has it. */
    public static final int KEY_BYTES = 32;

    private static final String INSERT_IF_NONE_SQL =
            "INSERT INTO eventbank_server_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING";
    private static final String UPSERT_SQL =
            "INSERT INTO eventbank_server_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key,"
                    + " created_at = clock_timestamp()";
    private static final String SELECT_SQL = "SELECT key FROM eventbank_server_key WHERE id = 1";

    private PostgresServerKey() {}

    /**
     * The cluster's key: the one in the table, or, when there is none yet, 32 fresh random bytes
     * put there first. Nodes starting together race to insert; the loser's insert does nothing,
     * and every node reads back the same key. Creates or migrates the schema first.
     */
    public static byte[] loadOrCreate(PostgresJournalConfig config) throws JournalDatabaseException {
        Schema.migrate(config);
        byte[] fresh = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(fresh);
        try (Connection connection = Sessions.migration(config)) {
            try (PreparedStatement insert = connection.prepareStatement(INSERT_IF_NONE_SQL)) {
                insert.setBytes(1, fresh);
                insert.executeUpdate();
            }
            byte[] key = read(connection).orElseThrow(() -> new IllegalStateException("the key just inserted is gone"));
            connection.commit();
            return key;
        } catch (SQLException e) {
            throw JournalDatabaseException.failed("creating or reading the server key", e);
        }
    }

    /** The key in the table, or empty when none was made yet. Reads the schema as it is. */
    public static Optional<byte[]> load(PostgresJournalConfig config) throws JournalDatabaseException {
        try (Connection connection = Sessions.reader(config)) {
            Optional<byte[]> key = read(connection);
            connection.commit();
            return key;
        } catch (SQLException e) {
            throw JournalDatabaseException.failed("reading the server key", e);
        }
    }

    /**
     * Puts {@code key} in the table, replacing any key there; for {@code eventbank migrate},
     * which brings a data directory's key along with its journal, in the transaction that copies
     * the journal ({@code connection}'s).
     */
    static void store(Connection connection, byte[] key) throws SQLException {
        if (key.length < KEY_BYTES) {
            throw new IllegalArgumentException("a server key has at least " + KEY_BYTES + " bytes, not " + key.length);
        }
        try (PreparedStatement upsert = connection.prepareStatement(UPSERT_SQL)) {
            upsert.setBytes(1, key);
            upsert.executeUpdate();
        }
    }

    /** {@link #store(Connection, byte[])} in a transaction of its own; creates or migrates the schema first. */
    public static void store(PostgresJournalConfig config, byte[] key) throws JournalDatabaseException {
        Schema.migrate(config);
        try (Connection connection = Sessions.migration(config)) {
            store(connection, key);
            connection.commit();
        } catch (SQLException e) {
            throw JournalDatabaseException.failed("storing the server key", e);
        }
    }

    /** The key, or empty when there is none, or no table for it (a journal made before it existed). */
    private static Optional<byte[]> read(Connection connection) throws SQLException {
        try (PreparedStatement table = connection.prepareStatement("SELECT to_regclass('eventbank_server_key')");
             ResultSet row = table.executeQuery()) {
            row.next();
            if (row.getString(1) == null) {
                return Optional.empty();
            }
        }
        try (PreparedStatement select = connection.prepareStatement(SELECT_SQL);
             ResultSet row = select.executeQuery()) {
            return row.next() ? Optional.of(row.getBytes(1)) : Optional.empty();
        }
    }
}
