package eventbank.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.engine.storage.FileStorage;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The high-water mark's two slots: the newest sound one wins, one torn write loses nothing. */
class HighWaterMarkTest {
    private static final FileStorage STORAGE = new FileStorage();

    @TempDir
    Path journal;

    private static byte[] hash(int value) {
        byte[] hash = new byte[JournalFormat.HASH_BYTES];
        Arrays.fill(hash, (byte) value);
        return hash;
    }

    @Test
    void theNewestWriteIsReadBackAndSurvivesReopening() throws Exception {
        assertThat(HighWaterMark.read(STORAGE, journal)).as("no file, no mark").isNull();
        try (HighWaterMark mark = HighWaterMark.open(STORAGE, journal)) {
            assertThat(HighWaterMark.read(STORAGE, journal)).as("made, never written").isNull();
            mark.write(10, hash(1));
            mark.write(25, hash(2));
        }
        HighWaterMark.Mark read = HighWaterMark.read(STORAGE, journal);
        assertThat(read.seq()).isEqualTo(25);
        assertThat(read.chainHash()).isEqualTo(hash(2));
        try (HighWaterMark mark = HighWaterMark.open(STORAGE, journal)) {
            mark.write(40, hash(3)); // goes on in turn: the slot of write 3 is the one of write 1
        }
        assertThat(HighWaterMark.read(STORAGE, journal).seq()).isEqualTo(40);
    }

    @Test
    void aTornSlotLeavesTheMarkBeforeIt() throws Exception {
        try (HighWaterMark mark = HighWaterMark.open(STORAGE, journal)) {
            mark.write(10, hash(1)); // slot 1
            mark.write(25, hash(2)); // slot 0
        }
        flipByte(HighWaterMark.pathIn(journal), 30); // in slot 0: write 2 torn
        assertThat(HighWaterMark.read(STORAGE, journal).seq()).isEqualTo(10);
    }

    @Test
    void aTornFirstWriteIsNoMarkAndBothSlotsDamagedIsUnreadable() throws Exception {
        try (HighWaterMark mark = HighWaterMark.open(STORAGE, journal)) {
            mark.write(10, hash(1)); // slot 1, beside a slot never written
        }
        Path file = HighWaterMark.pathIn(journal);
        flipByte(file, 4096 + 20);
        assertThat(HighWaterMark.read(STORAGE, journal)).as("the first write, cut short").isNull();

        try (HighWaterMark mark = HighWaterMark.open(STORAGE, journal)) {
            mark.write(11, hash(1));
            mark.write(12, hash(2));
        }
        flipByte(file, 20);
        flipByte(file, 4096 + 20);
        assertThatThrownBy(() -> HighWaterMark.read(STORAGE, journal))
                .isInstanceOf(HighWaterMark.DamagedException.class).hasMessageContaining(file.toString());
        assertThat(Files.size(file)).isEqualTo(8192);
    }

    private static void flipByte(Path file, long offset) throws Exception {
        try (RandomAccessFile handle = new RandomAccessFile(file.toFile(), "rw")) {
            handle.seek(offset);
            int value = handle.read();
            handle.seek(offset);
            handle.write(value ^ 0x40);
        }
    }
}
