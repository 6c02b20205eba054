package eventbank.server.cli;

import java.util.Map;
import picocli.CommandLine.Mixin;

/**
 * The options of the tools that replay the journal ({@code verify}, {@code state},
 * {@code what-if}): where the journal is ({@link JournalOptions}: {@code --data-dir},
 * {@code --journal-url}), and {@code --config}, since a replay must use the idempotency window
 * the server used: the window decides which keys the state (and every snapshot) holds. The
 * configuration is read as {@code serve} reads it (flags aside): the file given, else
 * {@code ./eventbank.properties} when present, with {@code EVENTBANK_*} variables over it.
 */
final class ReplayOptions {
    @Mixin
    private JournalOptions journal;

    /** The journal to replay and the snapshots beside it ({@link JournalOptions#open}). */
    JournalOptions.History open(Map<String, String> environment, String tool) {
        return journal.open(environment, tool);
    }

    /** {@code idempotency.window} in microseconds; a configuration error is a usage error (exit 2). */
    long idempotencyWindowMicros(Map<String, String> environment) {
        return journal.config(environment).data().idempotencyWindowMicros();
    }
}
