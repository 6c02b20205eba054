package eventbank.engine.snapshot;

import java.nio.file.Path;

/** A snapshot file that cannot be trusted; recovery falls back to an older one. */
public final class SnapshotCorruptException extends RuntimeException {
    public SnapshotCorruptException(Path file, String problem) {
        super("snapshot " + file + " is unusable: " + problem);
    }
}
