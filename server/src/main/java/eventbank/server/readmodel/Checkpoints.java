package eventbank.server.readmodel;

import eventbank.engine.journal.Journal;
import eventbank.engine.storage.Storage;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Where the read models keep their checkpoints ({@code dataDirectory/readmodels/}), the journal
 * they are checked against, and how often they are written: every {@code everyEvents} events,
 * after {@link #INTERVAL_NANOS} with something new, and when the subscription stops (a clean
 * stop leaves nothing to replay).
 *
 * @param journal      reads the journal a checkpoint's chain hash is checked against (in a
 *                     cluster, the shared one)
 * @param committedSeq the journal's committed seq: a checkpoint past it is not used
 */
public record Checkpoints(Storage storage, Path dataDirectory, Supplier<Journal.Reader> journal,
                          LongSupplier committedSeq, long everyEvents) {
    /**
     * Every this many events at most. A checkpoint of a model holding something per account
     * takes a few hundred milliseconds of its thread at a million accounts, so not much more
     * often; a crash replays at most this many events, plus what came within the interval.
     */
    public static final long EVERY_EVENTS_DEFAULT = 10_000_000;
    /** A model with something new writes a checkpoint at the first batch this long after its last one. */
    public static final long INTERVAL_NANOS = 60_000_000_000L;

    public Checkpoints {
        if (everyEvents < 1) {
            throw new IllegalArgumentException("everyEvents must be at least 1, not " + everyEvents);
        }
    }

    /** The directory of the checkpoints and the read models' stores. */
    public Path directory() {
        return dataDirectory.resolve(ModelCheckpoint.DIRECTORY);
    }
}
