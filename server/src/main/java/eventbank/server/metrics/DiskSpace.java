package eventbank.server.metrics;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The free space of the file system holding the data directory, for {@code /metrics} and for
 * {@code /health}, which reports degraded when it falls below a threshold: the journal fails
 * (and the engine fail-stops) when the disk fills, so an operator should hear of it before.
 */
public final class DiskSpace {
    /** A default threshold for "low": 128 MiB (some CI machines have only a few hundred MB free). */
    public static final long LOW_THRESHOLD_BYTES_DEFAULT = 128L << 20;

    private final Path directory;

    public DiskSpace(Path directory) {
        this.directory = directory;
    }

    public Path directory() {
        return directory;
    }

    /**
     * The bytes this process may still write on the data directory's file store (usable space,
     * which leaves out blocks reserved for root); -1 when it cannot be read.
     */
    public long freeBytes() {
        try {
            FileStore store = Files.getFileStore(directory);
            return store.getUsableSpace();
        } catch (IOException | SecurityException e) {
            return -1;
        }
    }

    /**
     * Whether the free space is below {@code thresholdBytes}. Space that cannot be read counts
     * as low: a data directory whose file store has gone away is no better than a full one.
     */
    public boolean isLow(long thresholdBytes) {
        long free = freeBytes();
        return free < 0 || free < thresholdBytes;
    }
}
