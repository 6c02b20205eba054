package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.engine.storage.FileStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutboxCheckpointTest {
    @TempDir
    Path outbox;

    @Test
    void aMissingCheckpointIsZeroAndAWrittenOneReadsBack() throws Exception {
        OutboxCheckpoint checkpoint = new OutboxCheckpoint(new FileStorage(), outbox.resolve("outbox"));
        assertThat(checkpoint.read()).isZero();
        checkpoint.write(42);
        assertThat(checkpoint.read()).isEqualTo(42);
        checkpoint.write(Long.MAX_VALUE);
        assertThat(checkpoint.read()).isEqualTo(Long.MAX_VALUE);
        assertThat(Files.size(checkpoint.path())).isEqualTo(20);
    }

    @Test
    void itIsWrittenUnderATemporaryNameFsyncedAndRenamed() throws Exception {
        RecordingStorage storage = new RecordingStorage(outbox);
        new OutboxCheckpoint(storage, outbox).write(7);
        assertThat(storage.operations()).map(RecordingStorage.Operation::toString).containsExactly(
                "createDirectories " + outbox.getFileName(),
                "open checkpoint.tmp",
                "truncate checkpoint.tmp",
                "write checkpoint.tmp",
                "force checkpoint.tmp",
                "close checkpoint.tmp",
                "rename to checkpoint checkpoint.tmp",
                "syncDirectory " + outbox.getFileName());
        assertThat(storage.operations().subList(0, 7)).allSatisfy(operation ->
                assertThat(operation.listingBefore()).doesNotContain("checkpoint"));
    }

    @Test
    void aLeftoverTemporaryFileIsIgnored() throws Exception {
        OutboxCheckpoint checkpoint = new OutboxCheckpoint(new FileStorage(), outbox);
        checkpoint.write(5);
        Files.write(outbox.resolve("checkpoint.tmp"), new byte[] {1, 2, 3});
        assertThat(checkpoint.read()).isEqualTo(5);
        checkpoint.write(6);
        assertThat(checkpoint.read()).isEqualTo(6);
    }

    @Test
    void aFlippedBitOrAWrongSizeStopsTheStartNamingTheFile() throws Exception {
        OutboxCheckpoint checkpoint = new OutboxCheckpoint(new FileStorage(), outbox);
        checkpoint.write(5);
        byte[] bytes = Files.readAllBytes(checkpoint.path());
        for (int i = 0; i < bytes.length; i++) {
            byte[] damaged = bytes.clone();
            damaged[i] ^= 0x10;
            Files.write(checkpoint.path(), damaged);
            assertThatThrownBy(checkpoint::read).as("bit flipped in byte %d", i).isInstanceOf(IOException.class)
                    .hasMessageContaining(checkpoint.path().toString()).hasMessageContaining("damaged");
        }
        Files.write(checkpoint.path(), new byte[] {0, 0, 0, 0});
        assertThatThrownBy(checkpoint::read).hasMessageContaining("4 bytes, not 20");
    }
}
