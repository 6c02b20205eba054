package eventbank.server.mail;

import eventbank.engine.storage.Storage;
import eventbank.postgres.PostgresJournalConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code eventbank migrate}'s part for the outbox: a data directory's outbox checkpoint and
 * dead letters into an outbox in PostgreSQL that no node has claimed yet (epoch 0), so that the
 * first leader sends only the mails the file outbox had not sent, and the dead letters stay
 * listed.
 */
public final class OutboxMigration {
    private OutboxMigration() {}

    /** What was copied: the checkpoint and how many dead letters. */
    public record Copied(long checkpoint, int deadLetters) {}

    /**
     * Copies the outbox of {@code dataDirectory}, whose journal ends at {@code lastSeq}, into the
     * database {@code database} names; refuses (IOException) an outbox there that a node claimed.
     */
    public static Copied toPostgres(Storage storage, Path dataDirectory, long lastSeq, PostgresJournalConfig database)
            throws IOException {
        FileOutboxStore files = new FileOutboxStore(storage, Outbox.directoryOf(dataDirectory), () -> lastSeq);
        try (PostgresOutboxStore postgres = new PostgresOutboxStore(database)) {
            if (postgres.claim(0).isEmpty()) {
                throw new IOException("the outbox in " + database.shownUrl() + " was claimed by a node already");
            }
            long checkpoint = files.checkpoint();
            if (!postgres.writeCheckpoint(checkpoint, 0)) {
                throw new IOException("the outbox's checkpoint could not be written at epoch 0: a node leads already");
            }
            int copied = 0;
            long after = 0;
            List<DeadLetter> page;
            while (!(page = files.deadLetters(after, DeadLetters.LIST_LIMIT_MAX)).isEmpty()) {
                for (DeadLetter letter : page) {
                    if (!postgres.setAside(letter, 0)) {
                        throw new IOException("the dead letter of seq " + letter.seq() + " could not be copied at"
                                + " epoch 0: a node leads already");
                    }
                    copied++;
                    after = letter.seq();
                }
            }
            return new Copied(checkpoint, copied);
        }
    }
}
