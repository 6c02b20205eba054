package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.journal.FileJournal;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import eventbank.server.metrics.BankMetrics;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request thread interrupted while it waits for its submitted command (what stopping the HTTP
 * server under load does) answers 503 {@code commit_outcome_unknown}, since the command may
 * still commit, and leaves the thread's interrupt flag clear so that the reply can be written.
 * Before, it answered {@code busy} (which says nothing was recorded) with the flag set, and
 * Jetty's blocking write then failed into Jetty's own 500 page (finding 3 of RELIABILITY.md).
 */
class SubmitterInterruptTest {
    @TempDir
    Path temp;

    @Test
    void anInterruptedWaitIsAnUnknownOutcomeAndLeavesTheReplyWritable() throws Exception {
        CountDownLatch forceReached = new CountDownLatch(1);
        CountDownLatch forceRelease = new CountDownLatch(1);
        AtomicReference<Boolean> stall = new AtomicReference<>(false);
        Storage storage = stallingJournalFsyncs(new FileStorage(), stall, forceReached, forceRelease);
        EngineConfig config = EngineConfig.builder(temp.resolve("data")).storage(storage, true)
                .serverKey(new byte[32]).snapshots(0, 1, 1).build();
        try (Engine engine = Engine.start(config)) {
            Submitter submitter = new Submitter(engine, new BankMetrics(engine));
            stall.set(true);
            AtomicReference<ApiException> answer = new AtomicReference<>();
            AtomicReference<Boolean> interruptedAfter = new AtomicReference<>();
            Thread request = Thread.ofPlatform().start(() -> {
                try {
                    submitter.submit(new Command.OpenAccount(0, "a@example.com", "hash", 100_000,
                            new Idempotency("k-1", "fingerprint")));
                } catch (ApiException e) {
                    answer.set(e);
                }
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            });
            assertThat(forceReached.await(30, TimeUnit.SECONDS)).as("the journal's fsync was reached").isTrue();
            request.interrupt();
            request.join(30_000);
            assertThat(answer.get()).isNotNull();
            assertThat(answer.get().status()).isEqualTo(503);
            assertThat(answer.get().code()).isEqualTo("commit_outcome_unknown");
            assertThat(interruptedAfter.get()).as("the interrupt flag after the answer").isFalse();
            forceRelease.countDown();
            // The command was in the engine: it commits after all, which is why "busy" was wrong.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (engine.committedSeq() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10); // polling the engine's head, bounded by the deadline
            }
            assertThat(engine.committedSeq()).isEqualTo(1);
        }
    }

    /**
     * The real storage, except that while {@code stall} is set the fsync of a journal segment
     * waits for {@code release}, as on a stalled disk. Built as a proxy to keep the test short.
     */
    private static Storage stallingJournalFsyncs(Storage real, AtomicReference<Boolean> stall,
                                                 CountDownLatch reached, CountDownLatch release) {
        return (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                (proxy, method, arguments) -> {
                    Object result = invoke(real, method, arguments);
                    String name = method.getName().equals("open") ? ((Path) arguments[0]).getFileName().toString() : "";
                    // A segment is opened under the name it will have, or made ready as next-segment.
                    if (name.endsWith(".seg") || name.equals(FileJournal.NEXT_SEGMENT_FILE_NAME)) {
                        StorageFile file = (StorageFile) result;
                        return Proxy.newProxyInstance(StorageFile.class.getClassLoader(),
                                new Class<?>[] {StorageFile.class}, (fileProxy, fileMethod, fileArguments) -> {
                                    if (fileMethod.getName().equals("force") && stall.get()) {
                                        reached.countDown();
                                        if (!release.await(60, TimeUnit.SECONDS)) {
                                            throw new IOException("the test never released the fsync");
                                        }
                                    }
                                    return invoke(file, fileMethod, fileArguments);
                                });
                    }
                    return result;
                });
    }

    private static Object invoke(Object target, java.lang.reflect.Method method, Object[] arguments)
            throws Throwable {
        try {
            return method.invoke(target, arguments);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
