package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.ServerKey;
import eventbank.postgres.PostgresExtension;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresServerKey;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank migrate} between a real data directory and a real PostgreSQL: the round trip
 * keeps the bytes, the chain and the server key; a target that is not empty, or a journal that
 * fails verify, is refused with nothing changed.
 */
class MigrateCommandTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path temporary;

    @Test
    void aRoundTripKeepsTheBatchesTheChainAndTheServerKey() throws Exception {
        Path data = temporary.resolve("data");
        TestBank.writeStory(data);
        String head = headLine(Cli.run("verify", "--data-dir", data.toString()));

        Cli.Run toPostgres = Cli.run("migrate", "--data-dir", data.toString(), "--journal-url", postgres.url());
        assertThat(toPostgres.exitCode()).as(toPostgres.toString()).isZero();
        assertThat(toPostgres.out()).startsWith("copied 8 events in 8 batches from ").contains("server key: copied")
                .endsWith(head + "\n");
        assertThat(rowBytes()).as("the rows are the segments' batches").isEqualTo(segmentBatchBytes(data));
        byte[] key = ServerKey.read(data.resolve(ServerKey.FILE_NAME));
        assertThat(PostgresServerKey.load(config())).hasValueSatisfying(stored -> assertThat(stored).isEqualTo(key));
        assertThat(headRow()).isEqualTo("epoch 0, seq 8, durable 8");
        assertThat(headLine(Cli.run("verify", "--journal-url", postgres.url(), "--data-dir", data.toString())))
                .isEqualTo(head);

        Path copy = temporary.resolve("copy");
        Cli.Run toFiles = Cli.run("migrate", "--to-files", "--data-dir", copy.toString(), "--journal-url",
                postgres.url());
        assertThat(toFiles.exitCode()).as(toFiles.toString()).isZero();
        assertThat(toFiles.out()).startsWith("copied 8 events in 8 batches from ").endsWith(head + "\n");
        assertThat(segmentBatchBytes(copy)).as("byte-identical batches").isEqualTo(segmentBatchBytes(data));
        assertThat(ServerKey.read(copy.resolve(ServerKey.FILE_NAME))).isEqualTo(key);
        assertThat(headLine(Cli.run("verify", "--data-dir", copy.toString()))).isEqualTo(head);
    }

    @Test
    void aJournalThatIsNotEmptyIsRefusedAndLeftAsItWas() throws Exception {
        Path data = temporary.resolve("data");
        TestBank.writeStory(data);
        assertThat(Cli.run("migrate", "--data-dir", data.toString(), "--journal-url", postgres.url()).exitCode())
                .isZero();
        byte[] rows = rowBytes();

        Cli.Run again = Cli.run("migrate", "--data-dir", data.toString(), "--journal-url", postgres.url());
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(again.err()).startsWith("eventbank migrate: the journal in ").contains(" is not empty: it holds"
                + " events up to seq 8").endsWith("; nothing was changed\n");
        assertThat(rowBytes()).isEqualTo(rows);
        assertThat(headRow()).isEqualTo("epoch 0, seq 8, durable 8");

        Cli.Run intoData = Cli.run("migrate", "--to-files", "--data-dir", data.toString(), "--journal-url",
                postgres.url());
        assertThat(intoData.exitCode()).as(intoData.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(intoData.err()).contains("is not empty; --to-files copies only into a new or empty data directory");
    }

    @Test
    void aJournalThatFailsVerifyIsNotCopied() throws Exception {
        Path data = temporary.resolve("data");
        TestBank.writeStory(data);
        Path segment = DataFiles.segments(data).get(0);
        DataFiles.flipByte(segment, DataFiles.batchOffsets(segment).get(0) + 70);

        Cli.Run run = Cli.run("migrate", "--data-dir", data.toString(), "--journal-url", postgres.url());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(run.err()).contains("fails verify, so nothing was copied: journal corrupt in " + segment);
        try (Connection connection = DriverManager.getConnection(postgres.url());
             Statement statement = connection.createStatement();
             ResultSet table = statement.executeQuery("SELECT to_regclass('eventbank_batches')")) {
            table.next();
            assertThat(table.getString(1)).as("not even the tables were made").isNull();
        }
    }

    @Test
    void anUnreachableDatabaseIsExitCodeThree() throws Exception {
        Path data = temporary.resolve("data");
        TestBank.writeStory(data);
        String nowhere = "jdbc:postgresql://127.0.0.1:" + Cli.freePort() + "/bank";
        for (List<String> args : List.of(List.of("events"), List.of("verify"), List.of("state", "--at", "3"),
                List.of("migrate", "--data-dir", data.toString()))) {
            Cli.Run run = Cli.run(Map.of("EVENTBANK_JOURNAL_URL", nowhere), args.toArray(String[]::new));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.DATA_DIRECTORY);
            assertThat(run.err()).as(run.toString()).contains(nowhere).doesNotContain("\tat ");
            assertThat(run.err().lines()).hasSize(1);
        }
        Cli.Run toFiles = Cli.run("migrate", "--to-files", "--data-dir", temporary.resolve("copy").toString(),
                "--journal-url", nowhere);
        assertThat(toFiles.exitCode()).as(toFiles.toString()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(temporary.resolve("copy")).doesNotExist();
    }

    /** The line of {@code verify} to record elsewhere. */
    static String headLine(Cli.Run verify) {
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        return verify.lines().stream().filter(line -> line.startsWith("head: ")).findFirst().orElseThrow();
    }

    /** The batches of a data directory's segments, in order: each segment without its 64-byte header. */
    static byte[] segmentBatchBytes(Path data) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (Path segment : DataFiles.segments(data)) {
            byte[] contents = Files.readAllBytes(segment);
            bytes.write(Arrays.copyOfRange(contents, 64, contents.length));
        }
        return bytes.toByteArray();
    }

    private byte[] rowBytes() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Connection connection = DriverManager.getConnection(postgres.url());
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT batch FROM eventbank_batches ORDER BY first_seq")) {
            while (rows.next()) {
                bytes.write(rows.getBytes(1));
            }
        }
        return bytes.toByteArray();
    }

    private String headRow() throws Exception {
        try (Connection connection = DriverManager.getConnection(postgres.url());
             Statement statement = connection.createStatement();
             ResultSet head = statement.executeQuery("SELECT epoch, last_seq, durable_seq FROM eventbank_head")) {
            head.next();
            return "epoch " + head.getLong(1) + ", seq " + head.getLong(2) + ", durable " + head.getLong(3);
        }
    }

    private PostgresJournalConfig config() {
        return PostgresJournalConfig.of(postgres.url(), null, null, "test");
    }
}
