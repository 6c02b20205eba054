package eventbank.server.cli;

import static eventbank.server.cli.TestBank.STORY_LINES;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code eventbank events} over a data directory written by a real engine. */
class EventsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path story;

    @BeforeAll
    static void writeStory() throws Exception {
        TestBank.writeStory(story);
    }

    @Test
    void printsEveryEventAsItsEventLine() throws Exception {
        assertThat(DataFiles.segments(story)).as("the story spans several segments").hasSizeGreaterThan(2);
        Cli.Run run = Cli.run("events", "--data-dir", story.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).isEqualTo(String.join("\n", STORY_LINES) + "\n");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void eventLinesHaveTheDesignedFieldsAndNoPasswordHash() throws Exception {
        Cli.Run run = Cli.run("events", "--data-dir", story.toString());
        assertThat(run.out()).doesNotContain("password").doesNotContain(TestBank.PASSWORD_HASH).doesNotContain("a-secret");
        List<JsonNode> lines = new ArrayList<>();
        for (String line : run.lines()) {
            lines.add(JSON.readTree(line));
        }
        for (int index = 0; index < lines.size(); index++) {
            JsonNode line = lines.get(index);
            assertThat(fieldNames(line)).containsExactly("seq", "type", "version", "time", "data");
            assertThat(line.get("seq").isIntegralNumber()).isTrue();
            assertThat(line.get("seq").asLong()).isEqualTo(index + 1);
            assertThat(line.get("version").asInt()).isEqualTo(1);
            assertThat(line.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
        }
        JsonNode opened = lines.get(0).get("data");
        // No request fingerprint for an opening: an old one is an HMAC over the password (issue 10, finding 5).
        assertThat(fieldNames(opened)).containsExactly("account_number", "email", "opening_balance",
                "idempotency_key");
        assertThat(opened.get("account_number").isTextual()).isTrue();
        assertThat(opened.get("opening_balance").isIntegralNumber()).isTrue();
        assertThat(fieldNames(lines.get(1).get("data"))).containsExactly("account_number", "email", "opening_balance");
        JsonNode transferred = lines.get(4).get("data");
        assertThat(transferred.get("from_account_number").isTextual()).isTrue();
        assertThat(transferred.get("to_account_number").isTextual()).isTrue();
        assertThat(transferred.get("amount").isIntegralNumber()).isTrue();
    }

    @ParameterizedTest(name = "{0} -> seqs {1}")
    @CsvSource(delimiter = '|', value = {
        "--type MoneyTransferred | 5 8",
        "--type moneytransferred,AccountVerified | 3 4 5 8",
        "--type accountopened --type MONEYWITHDRAWN | 1 2 6 7",
        "--account 1000000000000001 | 1 3 5 8",
        "--account 1000000000000002 | 2 4 5 6 8",
        "--account 1000000000000003 | 7",
        "--account 9999999999999999 | ",
        "--after-seq 0 | 1 2 3 4 5 6 7 8",
        "--after-seq 5 | 6 7 8",
        "--after-seq 8 | ",
        "--after-seq 100 | ",
        "--until-seq 3 | 1 2 3",
        "--until-seq 0 | ",
        "--after-seq 2 --until-seq 5 | 3 4 5",
        "--after-seq 3 --until-seq 3 | ",
        "--from 2026-11-26T10:00:02.123456Z --to 2026-11-26T10:00:04.123456Z | 3 4",
        "--from 2026-11-26T10:00:02.1234561Z | 4 5 6 7 8",
        "--to 2026-11-26T10:00:00.1234561Z | 1",
        "--to 2026-11-26T10:00:00.123456Z | ",
        "--from 2026-11-26T11:00:05+01:00 | 6 7 8",
        "--from 2026-11-26t10:00:07.123456z | 8",
        "--type MoneyTransferred --account 1000000000000001 --after-seq 5 | 8",
        "--type AccountOpened --from 2026-11-26T10:00:01Z --until-seq 6 | 2",
    })
    void filters(String options, String seqs) {
        List<String> args = new ArrayList<>(List.of("events", "--data-dir", story.toString()));
        args.addAll(Arrays.asList(options.split(" ")));
        Cli.Run run = Cli.run(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.toString()).isZero();
        List<String> expected = seqs == null ? List.of()
                : Arrays.stream(seqs.split(" ")).map(seq -> STORY_LINES[Integer.parseInt(seq) - 1]).toList();
        assertThat(run.lines()).isEqualTo(expected);
        assertThat(run.err()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--after-seq abc | --after-seq: 'abc' is not a seq",
        "--after-seq -1 | --after-seq: '-1' is not a seq",
        "--until-seq 1.5 | --until-seq: '1.5' is not a seq",
        "--until-seq 99999999999999999999 | --until-seq: '99999999999999999999' is not a seq",
        "--after-seq 3 --until-seq 2 | --until-seq 2 is before --after-seq 3",
        "--from yesterday | --from: 'yesterday' is not an RFC 3339 instant",
        "--from 2026-11-26T10:00:00 | --from: '2026-11-26T10:00:00' is not an RFC 3339 instant",
        "--to 2026-13-01T00:00:00Z | --to: '2026-13-01T00:00:00Z' is not an RFC 3339 instant",
        "--from 2026-11-27T00:00:00Z --to 2026-11-26T00:00:00Z | is before --from",
        "--type Nope | --type: unknown event type 'Nope'; the types are AccountOpened, AccountVerified, "
                + "MoneyTransferred, MoneyWithdrawn",
        "--type MoneyTransferred,,AccountOpened | --type: unknown event type ''",
        "--account 12 | --account: '12' is not an account number",
        "--account 0123456789012345 | --account: '0123456789012345' is not an account number",
        "--bogus | Unknown option: '--bogus'",
        "--after-seq | Missing required parameter for option '--after-seq'",
        "extra | Unmatched argument at index",
    })
    void badArgumentsAreUsageErrors(String options, String message) {
        List<String> args = new ArrayList<>(List.of("events", "--data-dir", story.toString()));
        args.addAll(Arrays.asList(options.split(" ")));
        Cli.Run run = Cli.run(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("eventbank events: ").contains(message).endsWith("(see 'eventbank events --help')\n");
        assertThat(run.err().lines()).hasSize(1);
    }

    @Test
    void aBadArgumentIsReportedBeforeAMissingDataDirectory(@TempDir Path empty) {
        Cli.Run run = Cli.run("events", "--data-dir", empty.resolve("nowhere").toString(), "--after-seq", "x");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void aMissingDataDirectoryIsExitCodeThree(@TempDir Path empty) {
        Path nowhere = empty.resolve("nowhere");
        Cli.Run run = Cli.run("events", "--data-dir", nowhere.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(run.err()).isEqualTo("eventbank events: the data directory " + nowhere
                + " (from --data-dir) does not exist; give --data-dir or set EVENTBANK_DATA_DIR\n");
        assertThat(nowhere).doesNotExist();
    }

    @Test
    void aDirectoryWithoutAJournalIsExitCodeThree(@TempDir Path empty) {
        Cli.Run run = Cli.run("events", "--data-dir", empty.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(run.err()).contains("has no journal/ in it");
        assertThat(empty).isEmptyDirectory();
    }

    @Test
    void anEmptyJournalPrintsNothing(@TempDir Path data) throws Exception {
        Files.createDirectories(data.resolve("journal"));
        Cli.Run run = Cli.run("events", "--data-dir", data.toString(), "--after-seq", "5");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).isEmpty();
    }

    @Test
    void theDataDirectoryComesFromTheEnvironment() {
        Cli.Run run = Cli.run(Map.of("EVENTBANK_DATA_DIR", story.toString()), "events", "--until-seq", "1");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.lines()).containsExactly(STORY_LINES[0]);
        Cli.Run missing = Cli.run(Map.of("EVENTBANK_DATA_DIR", story.resolve("nowhere").toString()), "events");
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(missing.err()).contains("(from EVENTBANK_DATA_DIR)");
    }

    @Test
    void readsNothingPastTheUntilSeq(@TempDir Path data) throws Exception {
        TestBank.writeStory(data);
        List<Path> segments = DataFiles.segments(data);
        Path second = segments.get(1);
        DataFiles.flipByte(second, DataFiles.batchOffsets(second).get(0) + 70);
        Cli.Run upToTheDamage = Cli.run("events", "--data-dir", data.toString(), "--until-seq", "2");
        assertThat(upToTheDamage.exitCode()).as(upToTheDamage.toString()).isZero();
        assertThat(upToTheDamage.lines()).containsExactly(STORY_LINES[0], STORY_LINES[1]);
        Cli.Run acrossIt = Cli.run("events", "--data-dir", data.toString());
        assertThat(acrossIt.exitCode()).as(acrossIt.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(acrossIt.lines()).containsExactly(STORY_LINES[0], STORY_LINES[1]);
        assertThat(acrossIt.err()).isEqualTo("eventbank events: journal corrupt in " + second + " at offset 64: "
                + "the batch body fails its CRC32C in a segment that is not the last\n");
    }

    @Test
    void aTornTailIsAWarning(@TempDir Path data) throws Exception {
        TestBank.writeStory(data);
        List<Path> segments = DataFiles.segments(data);
        Path last = segments.get(segments.size() - 1);
        long size = Files.size(last);
        DataFiles.append(last, new byte[] {0x45, 0x56, 0x42, 0x42, 0, 0, 1});
        Map<String, String> before = DataFiles.contents(data);
        Cli.Run run = Cli.run("events", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.lines()).containsExactly(STORY_LINES);
        assertThat(run.err()).isEqualTo("eventbank events: warning: the journal ends in 7 bytes that are not a whole "
                + "batch, in " + last + " at offset " + size + " (the batch header is incomplete): a torn write, "
                + "which the next server start moves to journal/quarantine/, or a batch being written right now\n");
        assertThat(DataFiles.contents(data)).as("nothing is quarantined or cut").isEqualTo(before);
    }

    @Test
    void writesNothingAndTakesNoLock(@TempDir Path data) throws Exception {
        TestBank.writeStory(data);
        Files.delete(data.resolve("LOCK"));
        Map<String, String> before = DataFiles.contents(data);
        assertThat(Cli.run("events", "--data-dir", data.toString()).exitCode()).isZero();
        assertThat(Cli.run("verify", "--data-dir", data.toString()).exitCode()).isZero();
        assertThat(DataFiles.contents(data)).isEqualTo(before);
    }

    @Test
    void streamsALongLogInOrder(@TempDir Path data) throws Exception {
        int transfers = 3_000;
        try (TestBank bank = TestBank.startWithLargeSegments(data, 1_000)) {
            bank.tellStory();
            var futures = IntStream.range(0, transfers)
                    .mapToObj(i -> bank.engine.submit(new eventbank.core.Command.TransferMoney(
                            i % 2 == 0 ? TestBank.ALICE : TestBank.BOB, i % 2 == 0 ? TestBank.BOB : TestBank.ALICE,
                            1, null)))
                    .toList();
            futures.forEach(future -> assertThat(future.join()).isInstanceOf(eventbank.engine.write.Outcome.Committed.class));
        }
        Cli.Run run = Cli.run("events", "--data-dir", data.toString(), "--after-seq", "8", "--type", "MoneyTransferred");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.lines();
        assertThat(lines).hasSize(transfers);
        for (int index = 0; index < lines.size(); index++) {
            assertThat(lines.get(index)).startsWith("{\"seq\":" + (index + 9) + ",\"type\":\"MoneyTransferred\"");
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
