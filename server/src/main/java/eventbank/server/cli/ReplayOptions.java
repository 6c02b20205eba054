package eventbank.server.cli;

import eventbank.server.config.ConfigException;
import eventbank.server.config.ConfigLoader;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of the tools that replay the journal ({@code verify}, {@code state},
 * {@code what-if}): {@code --data-dir}, and {@code --config}, since a replay must use the
 * idempotency window the server used: the window decides which keys the state (and every
 * snapshot) holds. The configuration is read as {@code serve} reads it (flags aside): the file
 * given, else
 * {@code ./eventbank.properties} when present, with {@code EVENTBANK_*} variables over it.
 */
final class ReplayOptions {
    @Mixin
    private DataDirectoryOption dataDirectory;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The server's properties file, for its idempotency.window "
                    + "(default: ./eventbank.properties when present; EVENTBANK_* variables apply).")
    private Path configFile;

    /** The data directory, checked to be one to read ({@link DataDirectoryOption#existing}). */
    Path existingDataDirectory(Map<String, String> environment) {
        return dataDirectory.existing(environment);
    }

    /** {@code idempotency.window} in microseconds; a configuration error is a usage error (exit 2). */
    long idempotencyWindowMicros(Map<String, String> environment) {
        try {
            return new ConfigLoader(environment, Path.of("").toAbsolutePath()).load(configFile, Map.of())
                    .data().idempotencyWindowMicros();
        } catch (ConfigException e) {
            throw new CommandFailure(ExitCodes.USAGE, e.getMessage());
        }
    }
}
