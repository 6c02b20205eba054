package eventbank.server.cli;

import eventbank.engine.ServerKey;
import eventbank.engine.journal.FileJournalSource;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import eventbank.postgres.JournalDatabaseException;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresJournalSource;
import eventbank.postgres.PostgresKeyTable;
import eventbank.server.config.Config;
import eventbank.server.config.ConfigException;
import eventbank.server.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where the tools find the journal: the data directory's segment files, or, when {@code
 * journal.url} is set, the journal in PostgreSQL (DESIGN.md, "Cluster mode"), with the data
 * directory then lending only its snapshots, when it has any. {@code journal.url}, {@code
 * journal.user} and {@code journal.password} are read as {@code serve} reads them: {@code
 * --journal-url} over {@code EVENTBANK_JOURNAL_URL} (and so on) over the properties file ({@code
 * --config}, else {@code ./eventbank.properties} when present). The data directory is {@code
 * --data-dir} over {@code EVENTBANK_DATA_DIR} over {@code ./data}, as before.
 */
final class JournalOptions {
    @Mixin
    private DataDirectoryOption dataDirectory;

    @Option(names = "--journal-url", paramLabel = "URL",
            description = "journal.url: the journal in PostgreSQL, a jdbc:postgresql:// URL (default: "
                    + "$EVENTBANK_JOURNAL_URL, else the properties file; none: the data directory's journal). "
                    + "journal.user and journal.password come from the environment or the properties file.")
    private String journalUrl;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The server's properties file, for its idempotency.window and journal.* keys "
                    + "(default: ./eventbank.properties when present; EVENTBANK_* variables apply).")
    private Path configFile;

    private Config config;

    /** The journal to read, and the snapshots to start from. */
    record History(JournalSource journal, SnapshotStore snapshots, Optional<Path> dataDirectory,
                   Optional<PostgresJournalConfig> postgres) {
        /** The first lines of a summary: where the journal and the snapshots are. */
        String describe() {
            String directory = dataDirectory.map(path -> "data directory: " + path.toAbsolutePath().normalize())
                    .orElse("data directory: none (no snapshots)");
            return postgres.map(database -> "journal: " + database.shownUrl() + " (PostgreSQL)\n" + directory)
                    .orElse(directory);
        }
    }

    /**
     * The configuration as {@code serve} reads it but for its flags, with {@code --journal-url}
     * over the rest; a configuration error is a usage error (exit 2).
     */
    Config config(Map<String, String> environment) {
        if (config == null) {
            Map<String, String> overrides = journalUrl == null ? Map.of() : Map.of("journal.url", journalUrl);
            try {
                config = new ConfigLoader(environment, Path.of("").toAbsolutePath()).load(configFile, overrides);
            } catch (ConfigException e) {
                throw new CommandFailure(ExitCodes.USAGE, e.getMessage());
            }
        }
        return config;
    }

    /**
     * The data directory's key store, to open sealed openings with (DESIGN.md, "Personal data"),
     * with the key-encryption key {@code keys.kek_file} names; null, with a warning on {@code err}
     * when there is one it cannot open, when there is none (the personal fields then read as null).
     */
    PersonalKeys personalKeys(Map<String, String> environment, History history, PrintWriter err, String tool) {
        if (history.postgres().isPresent()) {
            // A cluster's keys are in its database, with the KEK that keys.kek_file names.
            PostgresKeyTable table = new PostgresKeyTable(history.postgres().get());
            try {
                if (table.header() == null) {
                    table.close();
                    return null; // nothing sealed there: the openings are in plain text
                }
                return PersonalKeys.open(table, kekFile(environment, history), false);
            } catch (IOException e) {
                err.println(tool + ": warning: sealed emails are shown as null: " + e.getMessage());
                return null;
            }
        }
        if (history.dataDirectory().isEmpty()
                || !Files.exists(PersonalKeys.storeFile(history.dataDirectory().get()))) {
            return null;
        }
        try {
            return PersonalKeys.open(history.dataDirectory().get(), kekFile(environment, history), false);
        } catch (IOException e) {
            err.println(tool + ": warning: sealed emails are shown as null: " + e.getMessage());
            return null;
        }
    }

    /**
     * {@code keys.kek_file}; by default beside the configuration's data directory, which for a
     * tool is its own data directory ({@code --data-dir}) when it has one.
     */
    private Path kekFile(Map<String, String> environment, History history) {
        Config.Data data = config(environment).data();
        if (!data.kekFile().equals(PersonalKeys.defaultKekFile(data.directory()))) {
            return data.kekFile();
        }
        return PersonalKeys.defaultKekFile(history.dataDirectory().orElse(data.directory()));
    }

    /** The data directory option itself, for the tools that create one ({@code migrate --to-files}). */
    DataDirectoryOption dataDirectory() {
        return dataDirectory;
    }

    /**
     * The journal in PostgreSQL when {@code journal.url} is set, as a reader named {@code
     * "eventbank " + tool}; empty for the file journal.
     */
    Optional<PostgresJournalConfig> postgres(Map<String, String> environment, String tool) {
        Config.Cluster cluster = config(environment).cluster();
        return cluster.journalUrl().map(url -> PostgresJournalConfig.of(url, cluster.journalUser().orElse(null),
                cluster.journalPassword().orElse(null), "eventbank " + tool));
    }

    /**
     * The journal to read: the data directory's (which must exist, with a journal in it), or the
     * one in PostgreSQL, reached once to see that it answers (else exit 3, as for a data
     * directory that cannot be read).
     */
    History open(Map<String, String> environment, String tool) {
        Storage storage = new FileStorage();
        Optional<PostgresJournalConfig> postgres = postgres(environment, tool);
        if (postgres.isEmpty()) {
            Path directory = dataDirectory.existing(environment);
            return new History(new FileJournalSource(storage, directory.resolve("journal")),
                    snapshotsIn(storage, directory), Optional.of(directory), postgres);
        }
        Optional<Path> directory = dataDirectory.besideJournalElsewhere(environment);
        JournalSource journal;
        try {
            journal = PostgresJournalSource.connect(postgres.get());
        } catch (JournalDatabaseException e) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, e.getMessage());
        }
        // Without a data directory, a directory that does not exist: it lists no snapshot.
        return new History(journal, snapshotsIn(storage, directory.orElse(Path.of(DataDirectoryOption.DEFAULT))),
                directory, postgres);
    }

    /** The data directory's snapshots, readable when its server key is there (see SnapshotStore.inDataDirectory). */
    private static SnapshotStore snapshotsIn(Storage storage, Path directory) {
        try {
            return ServerKey.snapshotsIn(storage, directory);
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, "the server key in " + directory + " cannot be read: "
                    + e.getMessage());
        }
    }
}
