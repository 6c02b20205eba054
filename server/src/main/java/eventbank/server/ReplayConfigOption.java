package eventbank.server;

import eventbank.server.config.ConfigException;
import eventbank.server.config.ConfigLoader;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --config} option of the tools that replay the journal ({@code verify},
 * {@code state}, {@code what-if}): a replay must use the idempotency window the server used,
 * since the window decides which keys the state (and every snapshot) holds. The configuration
 * is read as {@code serve} reads it (flags aside): the file given, else
 * {@code ./eventbank.properties} when present, with {@code EVENTBANK_*} variables over it.
 */
final class ReplayConfigOption {
    @Option(names = "--config", paramLabel = "FILE",
            description = "The server's properties file, for its idempotency.window "
                    + "(default: ./eventbank.properties when present; EVENTBANK_* variables apply).")
    private Path configFile;

    /** {@code idempotency.window} in microseconds; a configuration error is a usage error (exit 2). */
    long idempotencyWindowMicros(Map<String, String> environment) {
        try {
            return new ConfigLoader(environment, Path.of("").toAbsolutePath()).load(configFile, Map.of())
                    .idempotencyWindowMicros();
        } catch (ConfigException e) {
            throw new CommandFailure(ExitCodes.USAGE, e.getMessage());
        }
    }
}
