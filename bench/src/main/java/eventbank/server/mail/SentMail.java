package eventbank.server.mail;

import eventbank.engine.storage.FileStorage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * For benchmarks that build a data directory without a server: the outbox's checkpoint, as a
 * server that had written the journal would have left it. Without it, the first start mails
 * every account the builder opened. In the outbox's package because its checkpoint is not an
 * API; the bench alone uses this.
 */
public final class SentMail {
    private SentMail() {}

    /** Records every mail of the journal up to {@code seq} as sent. */
    public static void upTo(Path dataDirectory, long seq) throws IOException {
        FileStorage storage = new FileStorage();
        Path directory = Outbox.directoryOf(dataDirectory);
        storage.createDirectories(directory);
        new OutboxCheckpoint(storage, directory).write(seq);
    }
}
