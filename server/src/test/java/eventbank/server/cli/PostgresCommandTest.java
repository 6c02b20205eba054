package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank postgres} as a child process, as {@code ./eventbank postgres} runs it: it
 * prints a journal.url that answers, with fsync and synchronous_commit on; SIGTERM stops it and
 * PostgreSQL with it, exit 0; a second start on the same --data-dir finds what the first kept.
 */
class PostgresCommandTest {
    @TempDir
    Path temporary;

    @Test
    void servesUntilSigtermAndKeepsItsFilesAcrossARestart() throws Exception {
        Path files = temporary.resolve("pgdata");
        int port = Cli.freePort();
        Started first = start(files, port);
        try (Connection connection = DriverManager.getConnection(first.url());
             Statement statement = connection.createStatement()) {
            assertThat(show(statement, "fsync")).isEqualTo("on");
            assertThat(show(statement, "synchronous_commit")).isEqualTo("on");
            statement.execute("CREATE TABLE kept (value text)");
            statement.execute("INSERT INTO kept VALUES ('across a restart')");
        }
        assertThat(first.stop()).as(first.output()).isZero();
        assertThat(first.output()).contains("eventbank postgres: stopped cleanly");
        assertThatThrownBy(() -> DriverManager.getConnection(first.url()).close())
                .as("PostgreSQL stopped with it").isInstanceOf(SQLException.class);

        Started second = start(files, port);
        try (Connection connection = DriverManager.getConnection(second.url());
             Statement statement = connection.createStatement();
             ResultSet kept = statement.executeQuery("SELECT value FROM kept")) {
            assertThat(kept.next()).isTrue();
            assertThat(kept.getString(1)).isEqualTo("across a restart");
        }
        assertThat(second.stop()).as(second.output()).isZero();
    }

    private record Started(Process process, Path out, String url) {
        String output() throws IOException {
            return Files.readString(out);
        }

        /** SIGTERM, and the exit code once the process has ended. */
        int stop() throws Exception {
            process.toHandle().destroy();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("it stopped").isTrue();
            return process.exitValue();
        }
    }

    private Started start(Path files, int port) throws Exception {
        Path out = Files.createTempFile(temporary, "postgres", ".out");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "eventbank.server.Main", "postgres",
                "--port", Integer.toString(port), "--data-dir", files.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        // A bound, not a wait: initdb and a start take seconds, more on a loaded machine.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String url = null;
        while (url == null) {
            assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
            assertThat(System.nanoTime()).as("it did not start: " + Files.readString(out)).isLessThan(deadline);
            process.waitFor(50, TimeUnit.MILLISECONDS); // returns at once if it exits
            url = Files.readString(out).lines().filter(line -> line.startsWith("journal.url="))
                    .map(line -> line.substring("journal.url=".length())).findFirst().orElse(null);
        }
        assertThat(url).isEqualTo("jdbc:postgresql://localhost:" + port + "/postgres?user=postgres");
        return new Started(process, out, url);
    }

    private static String show(Statement statement, String setting) throws SQLException {
        try (ResultSet value = statement.executeQuery("SHOW " + setting)) {
            value.next();
            return value.getString(1);
        }
    }
}
