package eventbank.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskSpaceTest {
    @TempDir
    Path data;

    @Test
    void freeBytesAreThoseOfTheDirectorysFileStore() throws Exception {
        DiskSpace disk = new DiskSpace(data);
        long free = disk.freeBytes();
        assertThat(free).isPositive();
        long usable = Files.getFileStore(data).getUsableSpace();
        // Other processes write meanwhile: the same order of magnitude is all that can be asked.
        assertThat((double) free).isBetween(usable * 0.5, usable * 1.5);
    }

    @Test
    void lowWhenBelowTheThreshold() {
        DiskSpace disk = new DiskSpace(data);
        assertThat(disk.isLow(0)).isFalse();
        assertThat(disk.isLow(1)).isFalse();
        assertThat(disk.isLow(Long.MAX_VALUE)).isTrue();
    }

    @Test
    void aDirectoryThatIsGoneCountsAsLow() {
        DiskSpace disk = new DiskSpace(data.resolve("missing"));
        assertThat(disk.freeBytes()).isEqualTo(-1);
        assertThat(disk.isLow(0)).isTrue();
    }
}
