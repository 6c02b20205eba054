package eventbank.engine.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** An open file of a {@link Storage}: positional reads and writes, force, truncate. */
public interface StorageFile extends Closeable {

    long size() throws IOException;

    /**
     * Reads into {@code destination} from {@code position} until it is full or the file ends.
     * Answers the number of bytes read; fewer than asked means the end of the file was reached.
     */
    int read(ByteBuffer destination, long position) throws IOException;

    /** Writes all remaining bytes of {@code source} at {@code position}. */
    void write(ByteBuffer source, long position) throws IOException;

    /** Makes every byte written so far durable (fdatasync). */
    void force() throws IOException;

    void truncate(long size) throws IOException;
}
