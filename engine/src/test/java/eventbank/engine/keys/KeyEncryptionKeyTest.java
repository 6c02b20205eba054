package eventbank.engine.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KEK file made by whichever of several starting nodes comes first, and read whole by the others. */
class KeyEncryptionKeyTest {
    @TempDir
    Path directory;

    /**
     * Two starts racing for a KEK file that is not there yet, as the nodes of a cluster started
     * side by side with one shared file do: both end with the key the file holds, and nothing is
     * left beside it. Before, one of them could fail to create the file, or read it empty.
     */
    @Test
    void startsRacingForAMissingKekFileAllEndWithTheOneItHolds() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 200; round++) {
                Path file = directory.resolve("round-" + round).resolve("kek");
                CyclicBarrier together = new CyclicBarrier(2);
                Callable<Long> start = () -> {
                    together.await();
                    return KeyEncryptionKey.readOrCreate(file).id();
                };
                Future<Long> first = threads.submit(start);
                Future<Long> second = threads.submit(start);
                long firstId = first.get();
                long secondId = second.get();
                long held = KeyEncryptionKey.read(file).id();
                assertThat(firstId).as("round %d", round).isEqualTo(held);
                assertThat(secondId).as("round %d", round).isEqualTo(held);
                try (Stream<Path> files = Files.list(file.getParent())) {
                    assertThat(files).as("round %d", round).containsExactly(file);
                }
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void anExistingKekFileIsReadNotReplaced() throws Exception {
        Path file = directory.resolve("kek");
        KeyEncryptionKey made = KeyEncryptionKey.readOrCreate(file);
        byte[] bytes = Files.readAllBytes(file);

        assertThat(KeyEncryptionKey.readOrCreate(file).id()).isEqualTo(made.id());
        assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
    }
}
