package eventbank.engine.journal;

import java.nio.file.Path;

/**
 * The journal is damaged somewhere other than a torn last write: the server must not start.
 * The message names the file and the byte offset, so an operator can look.
 */
public final class JournalCorruptException extends RuntimeException {
    private final Path file;
    private final long offset;

    public JournalCorruptException(Path file, long offset, String problem) {
        super("journal corrupt in " + file + " at offset " + offset + ": " + problem);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
