package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.FileStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eventbank verify} on a sound data directory and on damaged ones. */
class VerifyCommandTest {
    @TempDir
    Path data;

    @Test
    void aSoundDirectoryPassesAndPrintsItsHead() throws Exception {
        TestBank.writeStory(data);
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).isEqualTo("""
                data directory: %s
                events: 8 in 8 batches
                accounts: 3
                snapshots checked: 2
                money: balances 295000 = opened 300000 - withdrawn 5000 cents: the invariant holds
                warnings: 0
                problems: 0
                head: {"seq":8,"hash":"%s"}
                verify: OK
                """.formatted(data.toAbsolutePath(), chainHashAt(8)));
        assertThat(run.err()).isEmpty();
    }

    @Test
    void aFlippedByteInTheMiddleOfASegmentFailsNamingTheFileAndOffset() throws Exception {
        TestBank.writeStory(data);
        Path segment = DataFiles.segments(data).get(0);
        long middle = Files.size(segment) / 2;
        long batch = DataFiles.batchOffsets(segment).stream().filter(offset -> offset <= middle).reduce((a, b) -> b)
                .orElseThrow();
        DataFiles.flipByte(segment, middle);
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        String corrupt = "journal corrupt in " + segment + " at offset " + batch + ": ";
        assertThat(run.out()).contains("problems: 1\n  problem: " + corrupt).endsWith("verify: FAILED\n");
        assertThat(run.out()).as("a failed check's head is not one to record")
                .doesNotContain("\nhead: ").contains("\nhead (verify failed: the last sound batch, not to be recorded): ");
        assertThat(run.err()).startsWith("eventbank verify: FAILED: " + corrupt);
        assertThat(run.err().lines()).hasSize(1);
    }

    @Test
    void afterDamageTheHeadIsTheLastSoundBatch() throws Exception {
        TestBank.writeStory(data);
        Path second = DataFiles.segments(data).get(1);
        DataFiles.flipByte(second, DataFiles.batchOffsets(second).get(0) + 70);
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(run.out()).contains("events: 2 in 2 batches\n").contains("not to be recorded): {\"seq\":2,\"hash\":\""
                + chainHashAt(2) + "\"}\n");
    }

    @Test
    void aCorruptSnapshotFails() throws Exception {
        TestBank.writeStory(data);
        List<Path> snapshots = DataFiles.snapshots(data);
        assertThat(snapshots).hasSize(2);
        Path newest = snapshots.get(1);
        DataFiles.flipByte(newest, Files.size(newest) / 2);
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(run.out()).contains("  problem: snapshot " + newest + " is unusable: its CRC32C does not match\n");
        assertThat(run.err()).isEqualTo("eventbank verify: FAILED: snapshot " + newest
                + " is unusable: its CRC32C does not match\n");
    }

    @Test
    void aTornTailIsAWarningNotAFailure() throws Exception {
        TestBank.writeStory(data);
        List<Path> segments = DataFiles.segments(data);
        DataFiles.append(segments.get(segments.size() - 1), new byte[100]);
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("warnings: 1\n  warning: the journal ends in bytes that are not a whole batch")
                .contains("problems: 0\n").contains("head: {\"seq\":8,").endsWith("verify: OK\n");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void theServersIdempotencyWindowIsReadFromItsConfiguration() throws Exception {
        // A server with a one-minute window whose commands come two minutes apart: its snapshots
        // hold fewer keys than a replay with the default 24 hours would.
        try (TestBank bank = TestBank.startWithWindow(data, 60_000_000L, 120_000_000L)) {
            bank.tellStory();
            bank.awaitSnapshots();
        }
        Cli.Run withDefault = Cli.run("verify", "--data-dir", data.toString());
        assertThat(withDefault.exitCode()).as(withDefault.err()).isEqualTo(1);

        Cli.Run fromEnvironment = Cli.run(Map.of("EVENTBANK_IDEMPOTENCY_WINDOW", "PT1M"),
                "verify", "--data-dir", data.toString());
        assertThat(fromEnvironment.exitCode()).as(fromEnvironment.err()).isZero();

        Path properties = Files.createTempFile("server", ".properties");
        Files.writeString(properties, "idempotency.window=PT1M\n");
        Cli.Run fromFile = Cli.run("verify", "--data-dir", data.toString(), "--config", properties.toString());
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        Cli.Run state = Cli.run("state", "--data-dir", data.toString(), "--config", properties.toString(),
                "--at", "8");
        assertThat(state.exitCode()).as(state.err()).isZero();

        Files.writeString(properties, "idempotency.window=soon\n");
        Cli.Run badFile = Cli.run("verify", "--data-dir", data.toString(), "--config", properties.toString());
        assertThat(badFile.exitCode()).isEqualTo(2);
        assertThat(badFile.err()).contains("idempotency.window");
        Files.delete(properties);
    }

    @Test
    void aMissingDataDirectoryIsExitCodeThree() {
        Path nowhere = data.resolve("nowhere");
        Cli.Run run = Cli.run("verify", "--data-dir", nowhere.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("eventbank verify: the data directory " + nowhere
                + " (from --data-dir) does not exist; give --data-dir or set EVENTBANK_DATA_DIR\n");
    }

    @Test
    void aFileInsteadOfADirectoryIsExitCodeThree() throws Exception {
        Path file = Files.writeString(data.resolve("file"), "not a directory");
        Cli.Run run = Cli.run("verify", "--data-dir", file.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(run.err()).endsWith(" is not a directory\n");
    }

    @Test
    void anEmptyJournalIsSound() throws Exception {
        Files.createDirectories(data.resolve("journal"));
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("events: 0 in 0 batches\n")
                .contains("head: {\"seq\":0,\"hash\":\"" + "0".repeat(64) + "\"}\n");
    }

    /** The chain hash as of a seq that ends a batch, read straight from the journal. */
    private String chainHashAt(long seq) throws Exception {
        try (JournalReader reader = new JournalReader(new FileStorage(), data.resolve("journal"), true)) {
            reader.seek(seq);
            return HexFormat.of().formatHex(reader.chainHash());
        }
    }
}
