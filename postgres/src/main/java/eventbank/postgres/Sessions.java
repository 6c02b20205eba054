package eventbank.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** Opens the journal's database sessions, each with the settings its role needs (DESIGN.md, "Cluster mode"). */
final class Sessions {
    /** The server's TCP keepalives on a writer's session: probes one second apart, three unanswered end it. */
    private static final int KEEPALIVE_INTERVAL_SECONDS = 1;
    private static final int KEEPALIVE_COUNT = 3;

    private Sessions() {}

    /**
     * The writer's session, out of autocommit: every commit waits for the WAL to be flushed
     * ({@code synchronous_commit=on}, whatever the server's default); named for the node, so a
     * new writer can end it; ended by the server when idle in a transaction for half the lease,
     * so that a writer stopped mid-batch does not hold the head's lock for long; TCP keepalives
     * on both ends, so that a dead peer is noticed within about a lease.
     */
    static Connection writer(PostgresJournalConfig config) throws SQLException {
        return writer(config, config.nodeName());
    }

    /**
     * The key store's writing session ({@link PostgresKeyTable}): as the writer's, but named apart
     * from it, so that this node's own takeover, which ends the sessions named as the head's last
     * leader, leaves it alone; its writes are fenced by the epoch instead.
     */
    static Connection keyWriter(PostgresJournalConfig config) throws SQLException {
        return writer(config, config.nodeName() + " keys");
    }

    private static Connection writer(PostgresJournalConfig config, String applicationName) throws SQLException {
        Properties properties = properties(config, applicationName, true);
        Connection connection = DriverManager.getConnection(config.url(), properties);
        try (Statement statement = connection.createStatement()) {
            long leaseMillis = config.lease().toMillis();
            long keepaliveIdleSeconds = Math.max(1, config.lease().toSeconds() / 2);
            statement.execute("SET synchronous_commit = on");
            statement.execute("SET idle_in_transaction_session_timeout = " + Math.max(1, leaseMillis / 2));
            statement.execute("SET tcp_keepalives_idle = " + keepaliveIdleSeconds);
            statement.execute("SET tcp_keepalives_interval = " + KEEPALIVE_INTERVAL_SECONDS);
            statement.execute("SET tcp_keepalives_count = " + KEEPALIVE_COUNT);
            connection.setAutoCommit(false);
            return connection;
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * A reader's session: read-only, out of autocommit so that a read streams its rows a few at
     * a time instead of holding the whole journal in memory. Named apart from the writer's, so a
     * takeover leaves it alone.
     */
    static Connection reader(PostgresJournalConfig config) throws SQLException {
        Properties properties = properties(config, config.nodeName() + " reader", !config.readsFromStandby());
        Connection connection = DriverManager.getConnection(config.url(), properties);
        try {
            connection.setAutoCommit(false);
            connection.setReadOnly(true);
            return connection;
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * A node's control session (its head reads, lease renewals and wake-ups), in autocommit.
     * Named apart from the writer's, so a takeover leaves it alone; a renewal waits for the head's
     * lock at most a quarter of the lease, so a lease that cannot be renewed is noticed in time.
     */
    static Connection control(PostgresJournalConfig config) throws SQLException {
        Properties properties = properties(config, config.nodeName() + " control", !config.readsFromStandby());
        Connection connection = DriverManager.getConnection(config.url(), properties);
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET lock_timeout = " + Math.max(1, config.lease().toMillis() / 4));
            return connection;
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * A session for the tools that write outside a writer's role ({@code eventbank migrate}, the
     * server key): out of autocommit, every commit waiting for the WAL to be flushed, named for
     * {@code config}'s node. Without a writer's idle timeout, since a copy reads files between
     * its statements.
     */
    static Connection migration(PostgresJournalConfig config) throws SQLException {
        Connection connection = DriverManager.getConnection(config.url(), properties(config, config.nodeName(), true));
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET synchronous_commit = on");
            connection.setAutoCommit(false);
            return connection;
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * A session's properties. With {@code primary}, the session asks for the primary: on a
     * multi-host URL pgjdbc tries the hosts in turn and takes the one that is not in recovery, so a
     * writer that reconnects after a failover finds the new primary. A {@code targetServerType} in
     * the URL itself would win over it: docs/CONFIGURATION.md says to give it only on a reader's URL.
     */
    private static Properties properties(PostgresJournalConfig config, String applicationName, boolean primary) {
        Properties properties = new Properties();
        if (config.user() != null) {
            properties.setProperty("user", config.user());
        }
        if (config.password() != null) {
            properties.setProperty("password", config.password());
        }
        properties.setProperty("ApplicationName", applicationName);
        properties.setProperty("tcpKeepAlive", "true");
        if (primary) {
            properties.setProperty("targetServerType", "primary");
        }
        return properties;
    }
}
