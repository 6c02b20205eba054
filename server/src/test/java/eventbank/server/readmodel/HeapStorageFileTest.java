package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The in-heap file reads back what was written, across its chunks, and truncates as a file does. */
class HeapStorageFileTest {
    private static final int CHUNK_BYTES = 1 << 16;

    private static ByteBuffer bytes(int length, int seed) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        for (int i = 0; i < length; i++) {
            buffer.put((byte) (seed + i * 31));
        }
        return buffer.flip();
    }

    private static ByteBuffer read(HeapStorageFile file, long position, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        file.read(buffer, position);
        return buffer.flip();
    }

    @Test
    void writesAcrossChunksReadBackAndTruncationCutsThem() {
        HeapStorageFile file = new HeapStorageFile();
        assertThat(file.size()).isZero();
        file.write(bytes(CHUNK_BYTES - 10, 1), 0);
        file.write(bytes(3 * CHUNK_BYTES, 2), CHUNK_BYTES - 10); // spans four chunks
        assertThat(file.size()).isEqualTo(4L * CHUNK_BYTES - 10);
        assertThat(read(file, CHUNK_BYTES - 10, 3 * CHUNK_BYTES)).isEqualTo(bytes(3 * CHUNK_BYTES, 2));
        assertThat(read(file, 0, CHUNK_BYTES - 10)).isEqualTo(bytes(CHUNK_BYTES - 10, 1));

        // A read past the end stops there.
        ByteBuffer tail = ByteBuffer.allocate(100);
        assertThat(file.read(tail, file.size() - 40)).isEqualTo(40);

        file.truncate(CHUNK_BYTES + 5);
        assertThat(file.size()).isEqualTo(CHUNK_BYTES + 5);
        assertThat(file.read(ByteBuffer.allocate(10), CHUNK_BYTES + 5)).isZero();
        file.truncate(2L * CHUNK_BYTES); // never grows
        assertThat(file.size()).isEqualTo(CHUNK_BYTES + 5);

        // Growing again past what was cut off reads zeros in the gap.
        file.write(bytes(8, 3), 3L * CHUNK_BYTES);
        assertThat(read(file, CHUNK_BYTES + 5, 20)).isEqualTo(ByteBuffer.allocate(20));
        assertThat(read(file, 2L * CHUNK_BYTES + 7, 8)).isEqualTo(ByteBuffer.allocate(8));
        assertThat(read(file, 3L * CHUNK_BYTES, 8)).isEqualTo(bytes(8, 3));

        file.truncate(0);
        assertThat(file.size()).isZero();
        file.write(bytes(64, 4), 0);
        assertThat(read(file, 0, 64)).isEqualTo(bytes(64, 4));
    }
}
