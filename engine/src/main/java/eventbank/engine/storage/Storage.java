package eventbank.engine.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The few file-system operations the journal, the snapshots and the checkpoints use. The real
 * one is {@link FileStorage}; tests use a simulated one that forgets whatever was not made
 * durable, to show what a power loss would leave behind.
 *
 * <p>Durability rules, the same as POSIX file systems give: bytes written to a file are durable
 * after {@link StorageFile#force()}; a new, renamed or deleted name is durable after
 * {@link #syncDirectory(Path)} of its parent.
 */
public interface Storage {

    /** Creates the directory and its parents when missing (the real file system: 0700). */
    void createDirectories(Path directory) throws IOException;

    /** The names of the regular files in a directory, sorted; empty when it does not exist. */
    List<String> list(Path directory) throws IOException;

    boolean exists(Path file);

    /** Opens a file to read and write, creating it when {@code create} is set (the real file system: 0600). */
    StorageFile open(Path file, boolean create) throws IOException;

    /** Opens an existing file for reading only. */
    StorageFile openReadOnly(Path file) throws IOException;

    /** Renames atomically, replacing {@code target} if it exists. */
    void rename(Path source, Path target) throws IOException;

    void delete(Path file) throws IOException;

    /** Makes the directory's entries (creations, renames, deletions) durable. */
    void syncDirectory(Path directory) throws IOException;

    /** A directory held open, so that fsyncing it again needs no new file descriptor. */
    interface Directory extends java.io.Closeable {
        /** Makes the directory's entries durable, as {@link Storage#syncDirectory} does. */
        void sync() throws IOException;
    }

    /**
     * Opens a directory to fsync it later, again and again. The journal holds its directory
     * this way: a process out of file descriptors (a flood of connections) must never fail the
     * fsync that makes a new segment's name durable. By default each sync opens the directory.
     */
    default Directory openDirectory(Path directory) throws IOException {
        return new Directory() {
            @Override
            public void sync() throws IOException {
                syncDirectory(directory);
            }

            @Override
            public void close() {}
        };
    }

    /** Every byte of a small file (a mail, a dead letter); a short read goes on where it stopped. */
    default byte[] readAll(Path file) throws IOException {
        try (StorageFile handle = openReadOnly(file)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(Math.toIntExact(handle.size()));
            while (buffer.hasRemaining() && handle.read(buffer, buffer.position()) > 0) {
                // A short read goes on where it stopped.
            }
            return buffer.array();
        }
    }

    /** The suffix of a file {@link #replaceDurably} is writing; readers of a directory skip such files. */
    String TEMPORARY_SUFFIX = ".tmp";

    /**
     * Replaces {@code file} with {@code bytes} (from their position to their limit) so that a
     * crash leaves the old content or the new, never a mix: written under the name plus
     * {@code .tmp}, fsynced, renamed over {@code file}, and the directory fsynced. For small
     * files rewritten whole, such as checkpoints.
     */
    default void replaceDurably(Path file, java.nio.ByteBuffer bytes) throws IOException {
        Path directory = file.getParent();
        createDirectories(directory);
        Path temporary = directory.resolve(file.getFileName() + TEMPORARY_SUFFIX);
        try (StorageFile handle = open(temporary, true)) {
            handle.truncate(0);
            handle.write(bytes, 0);
            handle.force();
        }
        rename(temporary, file);
        syncDirectory(directory);
    }
}
