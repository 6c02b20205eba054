package eventbank.server.cli;

import eventbank.engine.DataDirectoryLock;
import eventbank.engine.keys.PersonalKeys;
import eventbank.server.config.Config;
import eventbank.server.config.ConfigException;
import eventbank.server.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
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

    @Override
    public Integer call() throws IOException {
        Path directory = dataDirectory.existing(environment).toAbsolutePath().normalize();
        Path kek = kekFile(directory);
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
        out.println("key store: " + store);
        out.println("re-wrapped: " + report.liveKeys() + " live data key" + (report.liveKeys() == 1 ? "" : "s")
                + " (" + report.erasedSlots() + " erased, nothing to re-wrap)");
        out.println("old key-encryption key: " + report.oldKekId() + " destroyed (overwritten, then removed)");
        out.println("new key-encryption key: " + report.newKekId() + " in " + report.kekFile());
        out.println("rotate-keys: OK");
        out.flush();
        return ExitCodes.OK;
    }

    /** {@code --kek-file}, else {@code keys.kek_file} as the server reads it for this data directory. */
    private Path kekFile(Path directory) {
        if (kekFile != null) {
            return kekFile.toAbsolutePath().normalize();
        }
        Map<String, String> overrides = new HashMap<>();
        overrides.put("data.dir", directory.toString());
        try {
            Config config = new ConfigLoader(environment, Path.of("").toAbsolutePath()).load(configFile, overrides);
            return config.data().kekFile();
        } catch (ConfigException e) {
            throw new CommandFailure(ExitCodes.USAGE, e.getMessage());
        }
    }
}
