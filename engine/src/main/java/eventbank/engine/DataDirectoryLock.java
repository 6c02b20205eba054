package eventbank.engine;

import eventbank.engine.storage.OwnerOnly;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The writer's exclusive lock on a data directory ({@code data/LOCK}), held as long as the
 * engine runs; the operating system drops it when the process dies, even by SIGKILL. The data
 * directory is created 0700 and the lock file 0600 ({@link OwnerOnly}).
 */
public final class DataDirectoryLock implements AutoCloseable {
    public static final String FILE_NAME = "LOCK";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock, or throws {@link DataDirectoryLockedException} when another holds it. */
    public static DataDirectoryLock acquire(Path dataDirectory) throws IOException {
        OwnerOnly.createDirectories(dataDirectory);
        FileChannel channel = OwnerOnly.open(dataDirectory.resolve(FILE_NAME),
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE));
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        }
        if (lock == null) {
            channel.close();
            throw new DataDirectoryLockedException(dataDirectory);
        }
        return new DataDirectoryLock(channel, lock);
    }

    /** Releases the lock; closing again does nothing (an engine may be closed twice). */
    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            lock.release();
            channel.close();
        }
    }

    /** Another process (or engine) has the data directory. */
    public static final class DataDirectoryLockedException extends IOException {
        public DataDirectoryLockedException(Path dataDirectory) {
            super("the data directory " + dataDirectory + " is locked by another eventbank process");
        }
    }
}
