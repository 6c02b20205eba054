package eventbank.server.mail;

import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * The outbox's state in the data directory, {@code data/outbox/}: the {@link OutboxCheckpoint}
 * file and the {@link DeadLetters} files. The node alone writes there, under the data
 * directory's lock, so no epoch fences it: every write holds, whatever epoch it names.
 */
final class FileOutboxStore implements OutboxStore {
    private final OutboxCheckpoint checkpoint;
    private final DeadLetters deadLetters;
    private final LongSupplier committedSeq;

    /**
     * @param directory    the outbox directory ({@code data/outbox})
     * @param committedSeq the journal's head, to refuse a checkpoint past it
     */
    FileOutboxStore(Storage storage, Path directory, LongSupplier committedSeq) {
        this.checkpoint = new OutboxCheckpoint(Objects.requireNonNull(storage, "storage"),
                Objects.requireNonNull(directory, "directory"));
        this.deadLetters = new DeadLetters(storage, directory);
        this.committedSeq = Objects.requireNonNull(committedSeq, "committedSeq");
    }

    @Override
    public long checkpoint() throws IOException {
        long seq = checkpoint.read();
        long head = committedSeq.getAsLong();
        if (seq > head) {
            throw new IllegalStateException("the outbox checkpoint " + checkpoint.path() + " is at seq " + seq
                    + ", past the journal's head " + head + ": the outbox and the journal do not belong together");
        }
        return seq;
    }

    @Override
    public OptionalLong claim(long epoch) throws IOException {
        return OptionalLong.of(checkpoint());
    }

    @Override
    public boolean writeCheckpoint(long seq, long epoch) throws IOException {
        checkpoint.write(seq);
        return true;
    }

    @Override
    public boolean setAside(DeadLetter letter, long epoch) throws IOException {
        deadLetters.setAside(letter);
        return true;
    }

    @Override
    public List<DeadLetter> deadLetters(long afterSeq, int limit) throws IOException {
        return deadLetters.list(afterSeq, limit);
    }

    @Override
    public Optional<DeadLetter> deadLetter(long seq) throws IOException {
        return deadLetters.find(seq);
    }

    @Override
    public boolean remove(DeadLetter letter, long epoch) throws IOException {
        deadLetters.remove(letter);
        return true;
    }

    @Override
    public String placeOf(long seq, OutgoingMail.Kind kind) {
        return deadLetters.directory().resolve(DeadLetters.fileName(seq, kind)).toString();
    }
}
