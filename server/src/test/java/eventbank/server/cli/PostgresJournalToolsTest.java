package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.postgres.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code events}, {@code verify}, {@code state} and {@code what-if} on the journal in a real
 * PostgreSQL answer what they answer on the file journal of the same history: the story of
 * {@link TestBank}, written by the engine on files and copied by {@code eventbank migrate}.
 */
class PostgresJournalToolsTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path temporary;

    private Path data;

    @BeforeEach
    void migrateTheStory() throws Exception {
        data = temporary.resolve("data");
        TestBank.writeStory(data);
        Cli.Run migrate = Cli.run("migrate", "--data-dir", data.toString(), "--journal-url", postgres.url());
        assertThat(migrate.exitCode()).as(migrate.toString()).isZero();
    }

    @Test
    void eventsStateAndWhatIfPrintTheSameAsOnTheFiles() throws Exception {
        Path request = temporary.resolve("what-if.json");
        Files.writeString(request, "{\"exclude_seqs\": [4], \"commands\": [{\"after_seq\": 8, \"type\": \"open\","
                + " \"account_number\": \"1000000000000009\", \"email\": \"dave@example.com\", \"opening_balance\": 500}]}");
        List<List<String>> commands = List.of(
                List.of("events"),
                List.of("events", "--type", "MoneyTransferred", "--after-seq", "2", "--until-seq", "7"),
                List.of("events", "--from", "2026-11-26T10:00:02.5Z", "--to", "2026-11-26T10:00:06Z"),
                List.of("state", "--at", "0"),
                List.of("state", "--at", "5"),
                List.of("state", "--at", "8"),
                List.of("state", "--at", "2026-11-26T10:00:04.5Z"),
                List.of("state", "--at", "2026-11-26T09:00:00Z"),
                List.of("state", "--at", "2026-11-27T00:00:00Z"),
                List.of("what-if", "--file", request.toString()));
        for (List<String> command : commands) {
            Cli.Run files = run(command, "--data-dir", data.toString());
            Cli.Run database = run(command, "--data-dir", data.toString(), "--journal-url", postgres.url());
            assertThat(files.exitCode()).as(files.toString()).isZero();
            assertThat(database.exitCode()).as(database.toString()).isZero();
            assertThat(database.out()).as(String.join(" ", command)).isEqualTo(files.out());
            assertThat(database.err()).isEqualTo(files.err());
        }
        Path properties = temporary.resolve("eventbank.properties");
        Files.writeString(properties, "journal.url=" + postgres.url() + "\n");
        Cli.Run configured = Cli.run("events", "--config", properties.toString(), "--data-dir", temporary.toString());
        assertThat(configured.out()).as("journal.url from the properties file").isEqualTo(
                String.join("\n", TestBank.STORY_LINES) + "\n");
    }

    @Test
    void verifyPrintsTheSameSummaryAndHead() {
        Cli.Run files = Cli.run("verify", "--data-dir", data.toString());
        Cli.Run database = Cli.run("verify", "--data-dir", data.toString(), "--journal-url", postgres.url());
        assertThat(database.exitCode()).as(database.toString()).isZero();
        assertThat(database.out()).startsWith("journal: " + postgres.url().replaceAll("\\?.*", "") + " (PostgreSQL)\n")
                .as("the rest, snapshots checked included").endsWith(files.out());

        Cli.Run alone = Cli.run(Map.of("EVENTBANK_JOURNAL_URL", postgres.url()), "verify");
        assertThat(alone.exitCode()).as(alone.toString()).isZero();
        assertThat(alone.out()).contains("\ndata directory: none (no snapshots)\n").contains("\nsnapshots checked: 0\n")
                .contains("\n" + MigrateCommandTest.headLine(files) + "\n");
    }

    /** The snapshots beside a journal in PostgreSQL are used only when they lie on its chain. */
    @Test
    void snapshotsOfAnotherHistoryArePassedOver() throws Exception {
        Path other = temporary.resolve("other");
        try (TestBank bank = TestBank.start(other)) {
            for (int index = 0; index < 7; index++) {
                bank.open("someone" + index + "@example.com", null);
            }
            bank.awaitSnapshots();
        }
        assertThat(DataFiles.snapshots(other)).isNotEmpty();
        Cli.Run files = Cli.run("state", "--at", "8", "--data-dir", data.toString());
        Cli.Run database = Cli.run("state", "--at", "8", "--data-dir", other.toString(), "--journal-url",
                postgres.url());
        assertThat(database.exitCode()).as(database.toString()).isZero();
        assertThat(database.out()).isEqualTo(files.out());

        Cli.Run verify = Cli.run("verify", "--data-dir", other.toString(), "--journal-url", postgres.url());
        assertThat(verify.exitCode()).as("a snapshot off the journal's chain fails verify").isEqualTo(1);
        assertThat(verify.out()).contains("records another chain hash than the journal's");
    }

    @Test
    void verifyFailsWhenTheHeadIsNotWhereTheRowsEnd() throws Exception {
        try (Connection connection = DriverManager.getConnection(postgres.url());
             Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE eventbank_head SET chain_hash = decode(repeat('ab', 32), 'hex')");
            Cli.Run otherHash = Cli.run("verify", "--journal-url", postgres.url());
            assertThat(otherHash.exitCode()).as(otherHash.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(otherHash.err()).startsWith("eventbank verify: FAILED: the journal's head says seq 8 with chain"
                    + " hash " + "ab".repeat(32) + ", but the batches have ");

            statement.executeUpdate("UPDATE eventbank_head SET last_seq = 9");
            Cli.Run pastTheRows = Cli.run("verify", "--journal-url", postgres.url());
            assertThat(pastTheRows.exitCode()).as(pastTheRows.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(pastTheRows.err()).isEqualTo("eventbank verify: FAILED: the journal's head says seq 9, but no"
                    + " batch ends there: the batches end at seq 8\n");
        }
    }

    private static Cli.Run run(List<String> command, String... more) {
        List<String> args = new ArrayList<>(command);
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }
}
