package eventbank.server.cli;

import eventbank.engine.DataDirectoryLock;
import eventbank.engine.keys.PersonalKeys;
import eventbank.postgres.JournalDatabaseException;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresKeyTable;
import eventbank.server.config.Config;
import eventbank.server.config.ConfigException;
import eventbank.server.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank rotate-keys}: re-wraps every live data key of the data directory's key store
 * under a new key-encryption key and destroys the old one ({@link PersonalKeys#rotate}). Offline:
 * it takes the data directory's lock, so it refuses while a server runs on it. The KEK file is
 * {@code --kek-file}, else {@code keys.kek_file} as {@code serve} reads it (environment, then the
 * properties file), else {@code keys/kek} in the data directory.
 */
@Command(name = "rotate-keys", sortOptions = false,
        description = {"Re-wraps every account's data key under a new key-encryption key (KEK) and destroys",
                "the old KEK (overwritten, then removed). Copies of the data directory taken before",
                "can no longer be decrypted, unless they hold the old KEK too.",
                "Stop the server first: it takes the data directory's lock."},
        footer = {"", "Exit codes: 0 rotated, 1 refused (no key store, the KEK missing or not the store's,",
                "a damaged slot), 2 usage error, 3 data directory missing, unreadable or locked."})
final class RotateKeysCommand implements Callable<Integer> {
    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private DataDirectoryOption dataDirectory;

    @Option(names = "--kek-file", paramLabel = "FILE",
            description = "keys.kek_file: the key-encryption key (default: $EVENTBANK_KEYS_KEK_FILE, else the"
                    + " properties file, else DIR/keys/kek).")
    private Path kekFile;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The server's properties file, for its keys.kek_file (default: ./eventbank.properties"
                    + " when present).")
    private Path configFile;

    @Mixin
    private HelpOption help;

    RotateKeysCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Option(names = "--journal-url", paramLabel = "URL",
            description = "journal.url: rotate the key store of the cluster whose journal is in this PostgreSQL"
                    + " database (default: $EVENTBANK_JOURNAL_URL, else the properties file; none: the data"
                    + " directory's key store). Stop every node first; copy the new KEK to every node after.")
    private String journalUrl;

    @Override
    public Integer call() throws IOException {
        if (config(null).cluster().journalUrl().isPresent()) {
            // A node's data directory holds no journal; it holds the KEK by default.
            Optional<Path> beside = dataDirectory.besideJournalElsewhere(environment);
            Config config = config(beside.map(path -> path.toAbsolutePath().normalize()).orElse(null));
            return rotateCluster(config.cluster(), kekFile != null ? kekFile.toAbsolutePath().normalize()
                    : config.data().kekFile());
        }
        Path directory = dataDirectory.existing(environment).toAbsolutePath().normalize();
        Path kek = kekFile != null ? kekFile.toAbsolutePath().normalize() : config(directory).data().kekFile();
        Path store = PersonalKeys.storeFile(directory);
        PersonalKeys.RotationReport report;
        try (DataDirectoryLock lock = DataDirectoryLock.acquire(directory)) {
            if (!Files.exists(store)) {
                throw new CommandFailure(ExitCodes.CHECK_FAILED, "the data directory " + directory + " has no key"
                        + " store (keys/data-keys): no account's personal data is encrypted there, so there is no"
                        + " key to rotate");
            }
            report = PersonalKeys.rotate(directory, kek);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("data directory: " + directory);
        print(out, store.toString(), report);
        return ExitCodes.OK;
    }

    /**
     * The cluster's key store, in the journal's database: every node stopped (a leader's lease
     * that still holds is refused), the rows replaced in one transaction; the new KEK is written
     * where this machine keeps it, to be copied to every other node.
     */
    private int rotateCluster(Config.Cluster cluster, Path kek) throws IOException {
        PostgresJournalConfig database = PostgresJournalConfig.of(cluster.journalUrl().orElseThrow(),
                cluster.journalUser().orElse(null), cluster.journalPassword().orElse(null), "eventbank " + spec.name());
        PostgresKeyTable table = new PostgresKeyTable(database);
        PersonalKeys.RotationReport report;
        try {
            if (table.header() == null) {
                table.close();
                throw new CommandFailure(ExitCodes.CHECK_FAILED, "the journal's database " + database.shownUrl()
                        + " holds no key store: no account's personal data is encrypted there, so there is no key"
                        + " to rotate");
            }
            report = PersonalKeys.rotate(table, kek);
        } catch (JournalDatabaseException e) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, e.getMessage());
        } catch (IOException e) {
            // Refused: the KEK missing or another, a leader's lease holding, a damaged slot.
            throw new CommandFailure(ExitCodes.CHECK_FAILED, e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("journal: " + database.shownUrl() + " (PostgreSQL)");
        print(out, table.describe(), report);
        spec.commandLine().getErr().println(spec.qualifiedName() + ": copy " + report.kekFile() + " to every node's"
                + " keys.kek_file before starting it: a node with the old key-encryption key refuses to start");
        return ExitCodes.OK;
    }

    private static void print(PrintWriter out, String store, PersonalKeys.RotationReport report) {
        out.println("key store: " + store);
        out.println("re-wrapped: " + report.liveKeys() + " live data key" + (report.liveKeys() == 1 ? "" : "s")
                + " (" + report.erasedSlots() + " erased, nothing to re-wrap)");
        out.println("old key-encryption key: " + report.oldKekId() + " destroyed (overwritten, then removed)");
        out.println("new key-encryption key: " + report.newKekId() + " in " + report.kekFile());
        out.println("rotate-keys: OK");
        out.flush();
    }

    /** The configuration as the server reads it, for this data directory (null: as configured) and {@code --journal-url}. */
    private Config config(Path directory) {
        Map<String, String> overrides = new HashMap<>();
        if (directory != null) {
            overrides.put("data.dir", directory.toString());
        }
        if (journalUrl != null) {
            overrides.put("journal.url", journalUrl);
        }
        try {
            return new ConfigLoader(environment, Path.of("").toAbsolutePath()).load(configFile, overrides);
        } catch (ConfigException e) {
            throw new CommandFailure(ExitCodes.USAGE, e.getMessage());
        }
    }
}
