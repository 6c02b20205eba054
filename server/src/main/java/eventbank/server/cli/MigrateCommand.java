package eventbank.server.cli;

import eventbank.engine.DataDirectoryLock;
import eventbank.engine.ServerKey;
import eventbank.engine.history.Verifier;
import eventbank.engine.journal.FileJournalSource;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.storage.FileStorage;
import eventbank.postgres.JournalDatabaseException;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresJournalSource;
import eventbank.postgres.PostgresKeyTable;
import eventbank.postgres.PostgresMigration;
import eventbank.postgres.PostgresServerKey;
import eventbank.server.config.Config;
import eventbank.server.config.DataDirectoryEvidence;
import eventbank.server.mail.OutboxMigration;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank migrate --data-dir D --journal-url U}: copies the file journal of data
 * directory D into the empty journal in PostgreSQL at U, batch by batch, the same bytes and the
 * same chain, with D's server key; {@code --to-files} copies the other way, into a new (or
 * empty) data directory. Either way {@code verify} of the copy prints the same head. It holds
 * the data directory's lock while it copies, so no server writes it meanwhile.
 *
 * <p>Into PostgreSQL it first verifies the data directory as {@code verify} does and refuses a
 * journal that fails (exit 1, nothing changed); a PostgreSQL journal that holds events, or that
 * a node leads, is refused too (exit 1, nothing changed). The copy is one transaction.
 */
@Command(name = "migrate", sortOptions = false,
        description = {"Copies a file journal into an empty PostgreSQL journal, batch by batch (the same bytes,",
                "the same chain), with the data directory's server key; or back with --to-files.",
                "Stop every server and node first: it takes the data directory's lock."},
        footer = {"", "Exit codes: 0 copied, 1 refused (the target is not empty, or the journal fails",
                "verify), 2 usage error, 3 data directory missing, unreadable or locked, or the",
                "database unreachable.",
                "", "Examples: eventbank migrate --data-dir data --journal-url jdbc:postgresql://db/bank",
                "          eventbank migrate --to-files --data-dir copy \\",
                "              --journal-url jdbc:postgresql://db/bank"})
final class MigrateCommand implements Callable<Integer> {
    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private JournalOptions journal;

    @Option(names = "--to-files",
            description = "Copy the PostgreSQL journal (and its server key) into the data directory, which must be"
                    + " new or empty, instead.")
    private boolean toFiles;

    @Mixin
    private HelpOption help;

    MigrateCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws IOException {
        PostgresJournalConfig database = journal.postgres(environment, spec.name()).orElseThrow(() ->
                new CommandFailure(ExitCodes.USAGE, "migrate needs the PostgreSQL journal: give --journal-url (or set"
                        + " EVENTBANK_JOURNAL_URL or journal.url)"));
        Config config = journal.config(environment);
        return toFiles ? toFiles(database, config) : toPostgres(database, config);
    }

    @SuppressWarnings("try") // the lock is only held, for as long as the copy takes
    private int toPostgres(PostgresJournalConfig database, Config config) throws IOException {
        Path directory = journal.dataDirectory().existing(environment);
        FileStorage storage = new FileStorage();
        PrintWriter out = spec.commandLine().getOut();
        try (DataDirectoryLock lock = DataDirectoryLock.acquire(directory)) {
            Verifier.Report report = Verifier.verify(storage, directory, config.data().idempotencyWindowMicros(),
                    DataDirectoryEvidence.sources(storage, directory));
            if (!report.ok()) {
                throw new CommandFailure(ExitCodes.CHECK_FAILED, "the data directory " + absolute(directory)
                        + " fails verify, so nothing was copied: " + report.problems().get(0));
            }
            Path keyFile = directory.resolve(ServerKey.FILE_NAME);
            byte[] key = Files.exists(keyFile) ? ServerKey.read(keyFile) : null;
            PostgresMigration.Copied copied;
            int slots;
            try {
                PostgresMigration.WithKeys withKeys = PostgresMigration.toPostgres(
                        new FileJournalSource(storage, directory.resolve("journal")), key, directory, database);
                copied = withKeys.copied();
                slots = withKeys.keySlots();
            } catch (PostgresMigration.RefusedException e) {
                throw new CommandFailure(ExitCodes.CHECK_FAILED, e.getMessage() + "; nothing was changed");
            }
            if (copied.lastSeq() != report.lastSeq() || !copied.headHashHex().equals(report.headHash())) {
                throw new IllegalStateException("the copy ends at seq " + copied.lastSeq() + ", verify at seq "
                        + report.lastSeq() + ", though the data directory was locked");
            }
            if (copied.tornTail() != null) {
                spec.commandLine().getErr().println(spec.qualifiedName() + ": warning: "
                        + EventsCommand.describe(copied.tornTail()) + "; it was not copied");
            }
            out.println("copied " + copied.lastSeq() + " events in " + copied.batches() + " batches from "
                    + absolute(directory.resolve("journal")) + " to " + database.shownUrl());
            OutboxMigration.Copied outbox = OutboxMigration.toPostgres(storage, directory, copied.lastSeq(), database);
            out.println("outbox: checkpoint at seq " + outbox.checkpoint() + " and " + outbox.deadLetters()
                    + " dead letter(s) copied; the first leader sends only the mails after it");
            out.println(key != null ? "server key: copied from " + absolute(keyFile)
                    : "server key: none in the data directory (configured elsewhere?); give the nodes server.key_file,"
                            + " or the first writer makes a new one");
            out.println(slots < 0 ? "data keys: no key store in the data directory; the first writer makes one"
                    : "data keys: " + slots + " slot(s) copied from " + absolute(PersonalKeys.storeFile(directory))
                            + "; copy the key-encryption key (" + absolute(PersonalKeys.defaultKekFile(directory))
                            + ", or where keys.kek_file says) to every node's keys.kek_file, and keep it apart from"
                            + " the database's backups");
            printHead(out, copied);
        }
        return ExitCodes.OK;
    }

    @SuppressWarnings("try") // the lock is only held, for as long as the copy takes
    private int toFiles(PostgresJournalConfig database, Config config) throws IOException {
        Path directory = journal.dataDirectory().choose(environment).directory();
        refuseUnlessNewOrEmpty(directory);
        try {
            PostgresJournalSource.connect(database);
        } catch (JournalDatabaseException e) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, e.getMessage());
        }
        boolean created = !Files.exists(directory);
        PrintWriter out = spec.commandLine().getOut();
        try (DataDirectoryLock lock = DataDirectoryLock.acquire(directory)) {
            PostgresMigration.Copied copied;
            Optional<byte[]> key;
            int slots;
            try {
                copied = PostgresMigration.toFiles(database, new FileStorage(), directory.resolve("journal"),
                        config.data().journalSegmentBytesMax());
                key = PostgresServerKey.load(database);
                if (key.isPresent()) {
                    ServerKey.store(directory, key.get());
                }
                try (PostgresKeyTable table = new PostgresKeyTable(database)) {
                    slots = PersonalKeys.copyFromTable(table, directory);
                }
            } catch (IOException | RuntimeException e) {
                removeCopy(directory, created);
                throw e;
            }
            out.println("copied " + copied.lastSeq() + " events in " + copied.batches() + " batches from "
                    + database.shownUrl() + " to " + absolute(directory.resolve("journal")));
            out.println(key.isPresent() ? "server key: copied to " + absolute(directory.resolve(ServerKey.FILE_NAME))
                    : "server key: none in the database; the server makes a new one at its first start");
            out.println(slots < 0 ? "data keys: none in the database"
                    : "data keys: " + slots + " slot(s) copied to " + absolute(PersonalKeys.storeFile(directory))
                            + "; the server needs the cluster's key-encryption key at its keys.kek_file");
            printHead(out, copied);
        }
        return ExitCodes.OK;
    }

    /** The head line as {@code verify} prints it, to compare with {@code verify}'s of the copy. */
    private static void printHead(PrintWriter out, PostgresMigration.Copied copied) {
        out.println("head: {\"seq\":" + copied.lastSeq() + ",\"hash\":\"" + copied.headHashHex() + "\"}");
        out.flush();
    }

    private static void refuseUnlessNewOrEmpty(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        if (!Files.isDirectory(directory)) {
            throw new CommandFailure(ExitCodes.DATA_DIRECTORY, absolute(directory) + " is not a directory");
        }
        try (Stream<Path> entries = Files.list(directory)) {
            if (entries.anyMatch(entry -> !entry.getFileName().toString().equals(DataDirectoryLock.FILE_NAME))) {
                throw new CommandFailure(ExitCodes.CHECK_FAILED, "the data directory " + absolute(directory) + " is"
                        + " not empty; --to-files copies only into a new or empty data directory; nothing was changed");
            }
        }
    }

    /** Takes back what a failed copy wrote: the journal and the key, or the whole directory it made. */
    private static void removeCopy(Path directory, boolean created) throws IOException {
        Path removed = created ? directory : directory.resolve("journal");
        if (Files.exists(removed)) {
            try (Stream<Path> paths = Files.walk(removed)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        Files.deleteIfExists(directory.resolve(ServerKey.FILE_NAME));
        Files.deleteIfExists(PersonalKeys.storeFile(directory));
    }

    private static Path absolute(Path path) {
        return path.toAbsolutePath().normalize();
    }
}
