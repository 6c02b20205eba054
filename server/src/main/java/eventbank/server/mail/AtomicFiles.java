package eventbank.server.mail;

import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Writes a file of the outbox so that it appears whole or not at all: under a {@code .tmp} name,
 * fsynced, renamed over any file of the same name, and the directory fsynced. A crash leaves the
 * old file or the new one, and perhaps a {@code .tmp} that the next write of that name replaces.
 */
final class AtomicFiles {
    /** The suffix of a file being written; a reader of the outbox skips such files. */
    static final String TEMPORARY_SUFFIX = ".tmp";

    private AtomicFiles() {}

    /** Makes {@code bytes} the content of {@code directory/name}, creating the directory if need be. */
    static void write(Storage storage, Path directory, String name, ByteBuffer bytes) throws IOException {
        storage.createDirectories(directory);
        Path temporary = directory.resolve(name + TEMPORARY_SUFFIX);
        try (StorageFile file = storage.open(temporary, true)) {
            // A crash may have left a longer file of the same name behind.
            file.truncate(0);
            file.write(bytes, 0);
            file.force();
        }
        storage.rename(temporary, directory.resolve(name));
        storage.syncDirectory(directory);
    }
}
