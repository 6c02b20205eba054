package eventbank.server.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The {@code --data-dir} option every subcommand takes, and the checks that the directory is
 * one eventbank can read. The default is {@code $EVENTBANK_DATA_DIR}, else {@code ./data};
 * relative paths are relative to the current directory.
 */
final class DataDirectoryOption {
    static final String ENVIRONMENT_VARIABLE = "EVENTBANK_DATA_DIR";
    static final String DEFAULT = "data";
    private static final String DEFAULT_SOURCE = "the default";

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory (default: $" + ENVIRONMENT_VARIABLE + ", else ./" + DEFAULT + ").")
    private Path dataDirectory;

    /** The data directory chosen and where the choice came from, for messages. */
    record Choice(Path directory, String source) {}

    Choice choose(Map<String, String> environment) {
        if (dataDirectory != null) {
            return new Choice(dataDirectory, "--data-dir");
        }
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return new Choice(Path.of(fromEnvironment), ENVIRONMENT_VARIABLE);
        }
        return new Choice(Path.of(DEFAULT), DEFAULT_SOURCE);
    }

    /**
     * The data directory, checked to exist and to be readable with a journal in it; otherwise
     * a {@link CommandFailure} with exit code 3 that says which directory and why. Reads only:
     * unlike a server start, nothing is created.
     */
    Path existing(Map<String, String> environment) {
        Choice choice = choose(environment);
        Path directory = choice.directory();
        String named = readable(choice);
        Path journal = directory.resolve("journal");
        if (!Files.isDirectory(journal)) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, named + " has no journal/ in it, so it is not an "
                    + "eventbank data directory (a server creates it on its first start)");
        }
        if (!Files.isReadable(journal) || !Files.isExecutable(journal)) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, "the journal " + journal.toAbsolutePath().normalize()
                    + " cannot be read (permission denied)");
        }
        return directory;
    }

    /**
     * The data directory beside a journal kept elsewhere (PostgreSQL), where only its snapshots
     * are read: checked as {@link #existing} checks it, but it needs no journal, and when it was
     * not chosen (the default {@code ./data}) and does not exist there are no snapshots: empty.
     */
    Optional<Path> besideJournalElsewhere(Map<String, String> environment) {
        Choice choice = choose(environment);
        if (choice.source().equals(DEFAULT_SOURCE) && !Files.exists(choice.directory())) {
            return Optional.empty();
        }
        readable(choice);
        return Optional.of(choice.directory());
    }

    /** Checks that the chosen directory exists and can be read; answers how messages name it. */
    private static String readable(Choice choice) {
        Path directory = choice.directory();
        String named = "the data directory " + directory.toAbsolutePath().normalize()
                + " (from " + choice.source() + ")";
        if (!Files.exists(directory)) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, named + " does not exist; give --data-dir or set "
                    + ENVIRONMENT_VARIABLE);
        }
        if (!Files.isDirectory(directory)) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, named + " is not a directory");
        }
        if (!Files.isReadable(directory) || !Files.isExecutable(directory)) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, named + " cannot be read (permission denied)");
        }
        return named;
    }
}
