package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.DataDirectoryLock;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.snapshot.SnapshotCorruptException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The top of the command line: subcommands, help, usage errors, exit codes, the default data directory. */
class EventbankCommandTest {

    @Test
    void noCommandIsAUsageErrorThatShowsTheUsage() {
        Cli.Run run = Cli.run();
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("eventbank: a command is missing\nUsage: eventbank")
                .contains("events").contains("verify");
    }

    @Test
    void anUnknownCommandIsAUsageErrorWithASuggestion() {
        Cli.Run run = Cli.run("evnets");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).startsWith("eventbank: Unmatched argument at index 0: 'evnets'")
                .contains("did you mean events?").endsWith("(see 'eventbank --help')\n");
        assertThat(run.err().lines()).hasSize(1);
    }

    @Test
    void helpExitsZero() {
        Cli.Run top = Cli.run("--help");
        assertThat(top.exitCode()).isZero();
        assertThat(top.out()).startsWith("Usage: eventbank").contains("events").contains("verify");
        Cli.Run events = Cli.run("events", "--help");
        assertThat(events.exitCode()).isZero();
        assertThat(events.out()).contains("--data-dir=DIR").contains("--after-seq").contains("--until-seq")
                .contains("--from").contains("--to").contains("--type").contains("--account")
                .contains("(default: $EVENTBANK_DATA_DIR, else");
        Cli.Run verify = Cli.run("verify", "-h");
        assertThat(verify.exitCode()).isZero();
        assertThat(verify.out()).startsWith("Usage: eventbank verify");
    }

    @Test
    void theDataDirectoryDefaultsToTheEnvironmentThenToData() {
        DataDirectoryOption option = new DataDirectoryOption();
        assertThat(option.choose(Map.of())).isEqualTo(new DataDirectoryOption.Choice(Path.of("data"), "the default"));
        assertThat(option.choose(Map.of("EVENTBANK_DATA_DIR", " "))).isEqualTo(
                new DataDirectoryOption.Choice(Path.of("data"), "the default"));
        assertThat(option.choose(Map.of("EVENTBANK_DATA_DIR", "/srv/bank"))).isEqualTo(
                new DataDirectoryOption.Choice(Path.of("/srv/bank"), "EVENTBANK_DATA_DIR"));
    }

    @Test
    void failuresMapToTheDesignedExitCodes() {
        Path file = Path.of("data/journal/00000000000000000001.seg");
        assertThat(EventbankCommand.exitCodeOf(new JournalCorruptException(file, 64, "damaged"))).isEqualTo(1);
        assertThat(EventbankCommand.exitCodeOf(new SnapshotCorruptException(file, "damaged"))).isEqualTo(1);
        assertThat(EventbankCommand.exitCodeOf(new CommandFailure(3, "missing"))).isEqualTo(3);
        assertThat(EventbankCommand.exitCodeOf(new DataDirectoryLock.DataDirectoryLockedException(Path.of("data")))).isEqualTo(3);
        assertThat(EventbankCommand.exitCodeOf(new AccessDeniedException(file.toString()))).isEqualTo(3);
        assertThat(EventbankCommand.exitCodeOf(new IOException("disk on fire"))).isEqualTo(3);
        assertThat(EventbankCommand.exitCodeOf(new IllegalStateException("a bug"))).isEqualTo(1);
    }
}
