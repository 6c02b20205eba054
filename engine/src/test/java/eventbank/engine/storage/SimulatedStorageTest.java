package eventbank.engine.storage;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SimulatedStorageTest {

    private final Path dir = Path.of("/data/journal");
    private final Path file = dir.resolve("segment-0");
    private SimulatedStorage storage;

    @BeforeEach
    void setUp() throws IOException {
        storage = new SimulatedStorage();
        storage.createDirectories(dir);
    }

    private static void write(StorageFile handle, String text, long position) throws IOException {
        handle.write(ByteBuffer.wrap(text.getBytes(US_ASCII)), position);
    }

    private static void append(StorageFile handle, String text) throws IOException {
        write(handle, text, handle.size());
    }

    private static String read(StorageFile handle) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) handle.size());
        int read = handle.read(buffer, 0);
        return new String(buffer.array(), 0, read, US_ASCII);
    }

    private String text(Path path) {
        return new String(storage.bytes(path), US_ASCII);
    }

    /** Creates a file with durable name and durable content. */
    private void durableFile(Path path, String content) throws IOException {
        try (StorageFile handle = storage.open(path, true)) {
            append(handle, content);
            handle.force();
        }
        storage.syncDirectory(path.getParent());
    }

    @Test
    void forcedBytesSurviveACrashAndUnforcedBytesVanish() throws IOException {
        StorageFile handle = storage.open(file, true);
        storage.syncDirectory(dir);
        append(handle, "forced;");
        handle.force();
        append(handle, "not forced");
        assertThat(text(file)).isEqualTo("forced;not forced");
        assertThat(new String(storage.durableBytes(file), US_ASCII)).isEqualTo("forced;");

        storage.crash(1, false);

        assertThat(storage.exists(file)).isTrue();
        assertThat(text(file)).isEqualTo("forced;");
        try (StorageFile reopened = storage.open(file, false)) {
            assertThat(read(reopened)).isEqualTo("forced;");
        }
    }

    @Test
    void aFileNeverForcedIsEmptyAfterACrash() throws IOException {
        StorageFile handle = storage.open(file, true);
        storage.syncDirectory(dir);
        append(handle, "lost");

        storage.crash(1, false);

        assertThat(storage.bytes(file)).isEmpty();
    }

    @Test
    void aNewFileWhoseDirectoryWasNotSyncedVanishesEvenIfForced() throws IOException {
        durableFile(dir.resolve("old"), "old");
        try (StorageFile handle = storage.open(file, true)) {
            append(handle, "forced but unnamed");
            handle.force();
        }
        assertThat(storage.list(dir)).containsExactly("old", "segment-0");
        assertThat(storage.durableNames(dir)).containsExactly("old");

        storage.crash(1, false);

        assertThat(storage.exists(file)).isFalse();
        assertThat(storage.list(dir)).containsExactly("old");
        assertThatThrownBy(() -> storage.open(file, false)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void aRenameNotSyncedIsUndoneAndASyncedOneStays() throws IOException {
        Path temporary = dir.resolve("snapshot.tmp");
        Path target = dir.resolve("snapshot");
        durableFile(target, "old snapshot");
        durableFile(temporary, "new snapshot");

        storage.rename(temporary, target);
        assertThat(storage.list(dir)).containsExactly("snapshot");
        assertThat(text(target)).isEqualTo("new snapshot");

        storage.crash(1, false);

        assertThat(storage.list(dir)).containsExactly("snapshot", "snapshot.tmp");
        assertThat(text(target)).isEqualTo("old snapshot");
        assertThat(text(temporary)).isEqualTo("new snapshot");

        storage.rename(temporary, target);
        storage.syncDirectory(dir);
        storage.crash(2, false);

        assertThat(storage.list(dir)).containsExactly("snapshot");
        assertThat(text(target)).isEqualTo("new snapshot");
    }

    @Test
    void aDeleteNotSyncedIsUndone() throws IOException {
        durableFile(file, "content");
        storage.delete(file);
        assertThat(storage.exists(file)).isFalse();

        storage.crash(1, false);
        assertThat(text(file)).isEqualTo("content");

        storage.delete(file);
        storage.syncDirectory(dir);
        storage.crash(2, false);
        assertThat(storage.exists(file)).isFalse();
        storage.delete(file); // deleting a missing file is allowed, like Files.deleteIfExists
    }

    @Test
    void aTruncateIsDurableOnlyAfterForce() throws IOException {
        durableFile(file, "0123456789");
        try (StorageFile handle = storage.open(file, false)) {
            handle.truncate(4);
            assertThat(text(file)).isEqualTo("0123");
        }
        storage.crash(1, false);
        assertThat(text(file)).isEqualTo("0123456789");

        try (StorageFile handle = storage.open(file, false)) {
            handle.truncate(4);
            handle.force();
        }
        storage.crash(2, false);
        assertThat(text(file)).isEqualTo("0123");
    }

    @Test
    void tearingKeepsAPrefixOfTheUnforcedBytesAndNothingElse() throws IOException {
        String durable = "HEADER;";
        StringBuilder written = new StringBuilder(durable);
        Set<Integer> lengths = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            storage = new SimulatedStorage();
            storage.createDirectories(dir);
            written.setLength(durable.length());
            try (StorageFile handle = storage.open(file, true)) {
                append(handle, durable);
                handle.force();
                storage.syncDirectory(dir);
                for (int record = 0; record < 20; record++) {
                    String text = "record-" + record + ";";
                    append(handle, text);
                    written.append(text);
                }
            }

            storage.crash(seed, true);

            String survivor = text(file);
            assertThat(survivor).startsWith(durable);
            assertThat(written.toString()).startsWith(survivor);
            assertThat(storage.durableBytes(file)).isEqualTo(storage.bytes(file));
            lengths.add(survivor.length());
        }
        // The cut falls at many places, inside records too, never beyond what was written.
        assertThat(lengths).hasSizeGreaterThan(50);
        assertThat(lengths).allMatch(length -> length >= durable.length() && length <= written.length());
        assertThat(lengths).anyMatch(length -> length > durable.length() && length < written.length());
    }

    @Test
    void tearingIsDeterministicForASeedAndLeavesForcedFilesAlone() throws IOException {
        List<byte[]> outcomes = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            storage = new SimulatedStorage();
            storage.createDirectories(dir);
            durableFile(dir.resolve("forced"), "all forced");
            StorageFile handle = storage.open(file, true);
            storage.syncDirectory(dir);
            byte[] data = new byte[1000];
            Arrays.fill(data, (byte) 7);
            handle.write(ByteBuffer.wrap(data), 0);

            storage.crash(42, true);

            outcomes.add(storage.bytes(file));
            assertThat(text(dir.resolve("forced"))).isEqualTo("all forced");
            for (byte b : storage.bytes(file)) {
                assertThat(b).isEqualTo((byte) 7);
            }
        }
        assertThat(outcomes.get(0)).isEqualTo(outcomes.get(1));
    }

    @Test
    void anInjectedForceFailureThrowsAndMakesNothingDurable() throws IOException {
        StorageFile handle = storage.open(file, true);
        storage.failForceAfter(2);
        append(handle, "a");
        handle.force();
        append(handle, "b");
        handle.force();
        append(handle, "c");
        assertThatThrownBy(handle::force).isInstanceOf(IOException.class).hasMessage("injected fsync failure");
        assertThatThrownBy(handle::force).isInstanceOf(IOException.class).hasMessage("injected fsync failure");
        assertThat(storage.forceCount()).isEqualTo(2);
        assertThat(new String(storage.durableBytes(file), US_ASCII)).isEqualTo("ab");

        storage.clearFaults();
        handle.force();
        assertThat(storage.forceCount()).isEqualTo(3);
        assertThat(new String(storage.durableBytes(file), US_ASCII)).isEqualTo("abc");
    }

    @Test
    void anInjectedWriteFailureThrowsAndWritesNothing() throws IOException {
        StorageFile handle = storage.open(file, true);
        storage.failWriteAfter(1);
        append(handle, "first");
        assertThatThrownBy(() -> append(handle, "second"))
                .isInstanceOf(IOException.class)
                .hasMessage("injected write failure");
        assertThatThrownBy(() -> append(handle, "third")).isInstanceOf(IOException.class);
        assertThat(text(file)).isEqualTo("first");

        storage.clearFaults();
        append(handle, "+fourth");
        assertThat(text(file)).isEqualTo("first+fourth");
    }

    @Test
    void handlesOpenedBeforeACrashAreUnusable() throws IOException {
        durableFile(file, "data");
        StorageFile writer = storage.open(file, false);
        StorageFile reader = storage.openReadOnly(file);

        storage.crash(1, false);

        for (StorageFile old : List.of(writer, reader)) {
            assertThatThrownBy(old::size).isInstanceOf(IOException.class).hasMessage("storage crashed");
            assertThatThrownBy(() -> old.read(ByteBuffer.allocate(4), 0)).hasMessage("storage crashed");
            assertThatThrownBy(() -> append(old, "x")).hasMessage("storage crashed");
            assertThatThrownBy(old::force).hasMessage("storage crashed");
            assertThatThrownBy(() -> old.truncate(0)).hasMessage("storage crashed");
            old.close();
        }
        try (StorageFile fresh = storage.open(file, false)) {
            assertThat(read(fresh)).isEqualTo("data");
        }
    }

    @Test
    void openingMissingFilesAndWritingReadOnlyHandlesFail() throws IOException {
        assertThatThrownBy(() -> storage.open(file, false)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.openReadOnly(file)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.open(Path.of("/nowhere/file"), true)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.rename(file, dir.resolve("other"))).isInstanceOf(NoSuchFileException.class);

        durableFile(file, "data");
        try (StorageFile readOnly = storage.openReadOnly(file)) {
            assertThat(read(readOnly)).isEqualTo("data");
            assertThatThrownBy(() -> append(readOnly, "x")).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> readOnly.truncate(0)).isInstanceOf(IOException.class);
        }
        assertThat(text(file)).isEqualTo("data");
    }

    @Test
    void readsStopAtTheEndAndWritesBeyondItLeaveZeros() throws IOException {
        try (StorageFile handle = storage.open(file, true)) {
            write(handle, "ab", 0);
            write(handle, "cd", 4);
            assertThat(storage.bytes(file)).containsExactly('a', 'b', 0, 0, 'c', 'd');
            write(handle, "XY", 1);
            assertThat(text(file)).isEqualTo("aXY\0cd");

            ByteBuffer buffer = ByteBuffer.allocate(10);
            assertThat(handle.read(buffer, 3)).isEqualTo(3);
            assertThat(buffer.position()).isEqualTo(3);
            assertThat(handle.read(ByteBuffer.allocate(4), 6)).isZero();
            assertThat(handle.read(ByteBuffer.allocate(4), 100)).isZero();

            handle.truncate(10); // growing is a no-op, as with FileChannel
            assertThat(handle.size()).isEqualTo(6);
        }
    }

    @Test
    void listAnswersSortedFileNamesDirectlyInTheDirectory() throws IOException {
        storage.createDirectories(dir.resolve("sub"));
        storage.open(dir.resolve("b"), true).close();
        storage.open(dir.resolve("a"), true).close();
        storage.open(dir.resolve("sub/c"), true).close();

        assertThat(storage.list(dir)).containsExactly("a", "b");
        assertThat(storage.list(Path.of("/data/journal/./sub/../sub"))).containsExactly("c");
        assertThat(storage.list(Path.of("/missing"))).isEmpty();
        assertThat(storage.exists(dir.resolve("sub"))).isTrue();
        assertThat(storage.exists(Path.of("/data"))).isTrue();
    }

    @Test
    void putBytesReplacesCurrentAndDurableContent() throws IOException {
        durableFile(file, "original");
        byte[] corrupted = "origXnal".getBytes(US_ASCII);
        storage.putBytes(file, corrupted);
        assertThat(storage.bytes(file)).isEqualTo(corrupted);
        assertThat(storage.durableBytes(file)).isEqualTo(corrupted);

        Path created = Path.of("/data/other/new-file");
        storage.putBytes(created, "fresh".getBytes(US_ASCII));

        storage.crash(1, true);
        assertThat(storage.bytes(file)).isEqualTo(corrupted);
        assertThat(text(created)).isEqualTo("fresh");

        byte[] copy = storage.bytes(file);
        copy[0] = 'Z';
        assertThat(storage.bytes(file)).isEqualTo(corrupted);
    }

    @Test
    void aWriterAndReadersCanUseItAtOnce() throws Exception {
        StorageFile writer = storage.open(file, true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread reader = new Thread(() -> {
                try (StorageFile handle = storage.openReadOnly(file)) {
                    for (int round = 0; round < 2000; round++) {
                        long size = handle.size();
                        ByteBuffer buffer = ByteBuffer.allocate((int) size);
                        handle.read(buffer, 0);
                        for (byte b : buffer.array()) {
                            if (b != 1) {
                                throw new AssertionError("read a byte never written: " + b);
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            readers.add(reader);
            reader.start();
        }
        byte[] chunk = new byte[64];
        Arrays.fill(chunk, (byte) 1);
        for (int i = 0; i < 2000; i++) {
            writer.write(ByteBuffer.wrap(chunk), writer.size());
            if (i % 10 == 0) {
                writer.force();
            }
        }
        for (Thread reader : readers) {
            reader.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(storage.bytes(file)).hasSize(64 * 2000);
    }
}
