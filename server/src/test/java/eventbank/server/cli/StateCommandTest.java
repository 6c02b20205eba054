package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eventbank state --at SEQ|TIME} over the story of {@link TestBank}: seqs 1 to 8, one second apart. */
class StateCommandTest {
    private static final String AT_8 = "{\"seq\":8,\"time\":\"2026-11-26T10:00:07.123456Z\",\"accounts\":["
            + "{\"account_number\":\"1000000000000001\",\"balance\":92500,\"verified\":true},"
            + "{\"account_number\":\"1000000000000002\",\"balance\":102500,\"verified\":true},"
            + "{\"account_number\":\"1000000000000003\",\"balance\":100000,\"verified\":false}],"
            + "\"totals\":{\"accounts\":3,\"balance\":295000,\"opened\":300000,\"withdrawn\":5000,\"forfeited\":0}}\n";
    private static final String AT_5 = "{\"seq\":5,\"time\":\"2026-11-26T10:00:04.123456Z\",\"accounts\":["
            + "{\"account_number\":\"1000000000000001\",\"balance\":90000,\"verified\":true},"
            + "{\"account_number\":\"1000000000000002\",\"balance\":110000,\"verified\":true}],"
            + "\"totals\":{\"accounts\":2,\"balance\":200000,\"opened\":200000,\"withdrawn\":0,\"forfeited\":0}}\n";
    private static final String AT_4 = "{\"seq\":4,\"time\":\"2026-11-26T10:00:03.123456Z\",\"accounts\":["
            + "{\"account_number\":\"1000000000000001\",\"balance\":100000,\"verified\":true},"
            + "{\"account_number\":\"1000000000000002\",\"balance\":100000,\"verified\":true}],"
            + "\"totals\":{\"accounts\":2,\"balance\":200000,\"opened\":200000,\"withdrawn\":0,\"forfeited\":0}}\n";
    private static final String AT_0 = "{\"seq\":0,\"time\":null,\"accounts\":[],"
            + "\"totals\":{\"accounts\":0,\"balance\":0,\"opened\":0,\"withdrawn\":0,\"forfeited\":0}}\n";

    @TempDir
    Path data;

    @Test
    void atASeqPrintsTheStateAfterThatEvent() throws Exception {
        TestBank.writeStory(data);
        assertOk(state("--at", "8"), AT_8);
        assertOk(state("--at", "5"), AT_5);
        assertOk(state("--at", "4"), AT_4);
        assertOk(state("--at", "0"), AT_0);
        assertOk(state("--at", "000005"), AT_5);
    }

    @Test
    void atAnInstantPrintsTheStateAfterTheLastEventAtOrBeforeIt() throws Exception {
        TestBank.writeStory(data);
        assertOk(state("--at", "2026-11-26T10:00:04.123456Z"), AT_5); // exactly event 5's time
        assertOk(state("--at", "2026-11-26T10:00:04.9Z"), AT_5); // between events 5 and 6
        assertOk(state("--at", "2026-11-26T11:00:04.123455+01:00"), AT_4); // a microsecond before event 5
        assertOk(state("--at", "2026-11-26T10:00:00Z"), AT_0); // before the first event
        assertOk(state("--at", "2030-01-01T00:00:00Z"), AT_8); // after the last
    }

    @Test
    void aCorruptNewestSnapshotChangesNothing() throws Exception {
        TestBank.writeStory(data);
        List<Path> snapshots = DataFiles.snapshots(data);
        Path newest = snapshots.get(snapshots.size() - 1);
        DataFiles.flipByte(newest, Files.size(newest) / 2);
        assertOk(state("--at", "8"), AT_8);
        assertOk(state("--at", "5"), AT_5);
    }

    @Test
    void pastTheJournalsEndIsExitCodeOne() throws Exception {
        TestBank.writeStory(data);
        Cli.Run run = state("--at", "9");
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo(
                "eventbank state: seq 9 is beyond the end of the journal, which ends at seq 8\n");
    }

    @Test
    void aBadAtIsAUsageError() throws Exception {
        TestBank.writeStory(data);
        for (String bad : List.of("yesterday", "-1", "5.0", "2026-11-26T10:00:00", "99999999999999999999", "")) {
            Cli.Run run = state("--at", bad);
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(run.out()).isEmpty();
            assertThat(run.err()).startsWith("eventbank state: --at: ").endsWith("(see 'eventbank state --help')\n");
        }
        Cli.Run missing = run(Map.of(), "state", "--data-dir", data.toString());
        assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).contains("--at");
    }

    @Test
    void isACommandOfMain() {
        Cli.Run run = Cli.run("state", "--help");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("--at=SEQ|TIME").contains("--data-dir");
    }

    @Test
    void aMissingDataDirectoryIsExitCodeThree() {
        Path nowhere = data.resolve("nowhere");
        Cli.Run run = run(Map.of(), "state", "--at", "1", "--data-dir", nowhere.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("eventbank state: the data directory " + nowhere
                + " (from --data-dir) does not exist; give --data-dir or set EVENTBANK_DATA_DIR\n");
    }

    @Test
    void honoursTheDataDirectoryVariableAndAnEmptyJournal() throws Exception {
        Files.createDirectories(data.resolve("journal"));
        Map<String, String> environment = Map.of(DataDirectoryOption.ENVIRONMENT_VARIABLE, data.toString());
        assertOk(run(environment, "state", "--at", "0"), AT_0);
        assertOk(run(environment, "state", "--at", "2026-11-26T10:00:00Z"), AT_0);
        Cli.Run beyond = run(environment, "state", "--at", "1");
        assertThat(beyond.exitCode()).as(beyond.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(beyond.err()).contains("which ends at seq 0");
    }

    private Cli.Run state(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "state";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--data-dir";
        all[args.length + 2] = data.toString();
        return run(Map.of(), all);
    }

    private static Cli.Run run(Map<String, String> environment, String... args) {
        return Cli.run(environment, args);
    }

    private static void assertOk(Cli.Run run, String expected) {
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).isEqualTo(expected);
        assertThat(run.err()).isEmpty();
    }
}
