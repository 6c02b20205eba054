package eventbank.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import eventbank.core.Command;
import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.StorageFile;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.Sequencer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The test-only fault hook on real files: a failed journal write or fsync stops the engine
 * (the failing command's outcome is unknown, later ones are refused), and a start on the plain
 * file system afterwards has every command that was acknowledged, and not one more; a read-model
 * kill halts half-way through the chosen write to a read model's file, and touches nothing else.
 */
class FaultInjectingStorageTest {
    private static final byte[] KEY = new byte[32];

    @TempDir
    Path temporary;

    @Test
    void parsesTheFaultsItKnowsAndRefusesTheRest() {
        assertThat(FaultInjectingStorage.Fault.parse("journal-fsync@7"))
                .isEqualTo(new FaultInjectingStorage.Fault(FaultInjectingStorage.Kind.JOURNAL_FSYNC, 7));
        assertThat(FaultInjectingStorage.Fault.parse("JOURNAL-WRITE@1").kind())
                .isEqualTo(FaultInjectingStorage.Kind.JOURNAL_WRITE);
        assertThat(FaultInjectingStorage.Fault.parse("readmodel-kill@12"))
                .isEqualTo(new FaultInjectingStorage.Fault(FaultInjectingStorage.Kind.READMODEL_KILL, 12));
        assertThat(FaultInjectingStorage.Fault.parse("checkpoint-kill@3"))
                .isEqualTo(new FaultInjectingStorage.Fault(FaultInjectingStorage.Kind.CHECKPOINT_KILL, 3));
        for (String wrong : List.of("journal-fsync", "journal-fsync@0", "journal-fsync@x", "disk@3", "")) {
            assertThatThrownBy(() -> FaultInjectingStorage.Fault.parse(wrong))
                    .as(wrong).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aFailedFsyncStopsTheEngineAndARestartKeepsWhatWasAcknowledged() throws Exception {
        failsStopThenRecovers(new FaultInjectingStorage.Fault(FaultInjectingStorage.Kind.JOURNAL_FSYNC, 6));
    }

    @Test
    void aFailedWriteStopsTheEngineAndARestartKeepsWhatWasAcknowledged() throws Exception {
        failsStopThenRecovers(new FaultInjectingStorage.Fault(FaultInjectingStorage.Kind.JOURNAL_WRITE, 6));
    }

    private void failsStopThenRecovers(FaultInjectingStorage.Fault fault) throws Exception {
        Path data = temporary.resolve("data");
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig plain = EngineConfig.builder(data).serverKey(KEY)
                .accountNumbers(numbers::incrementAndGet).snapshots(0, 1, 1).build();
        List<Long> acknowledged = new ArrayList<>();
        // The engine logs through System.Logger, which the server's class path here routes to logback.
        Logger sequencerLog = (Logger) LoggerFactory.getLogger(Sequencer.class.getName());
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        sequencerLog.addAppender(logged);
        Outcome first;
        EngineConfig faulty = plain.toBuilder().storage(new FaultInjectingStorage(new FileStorage(), fault), true)
                .build();
        try (Engine engine = Engine.start(faulty)) {
            // One command at a time, so each is one batch with one write and one fsync.
            first = null;
            for (int i = 0; i < 20 && first == null; i++) {
                Outcome outcome = engine.submit(new Command.OpenAccount(0, i + "@example.com", "hash", 100, null))
                        .join();
                if (outcome instanceof Outcome.Committed committed) {
                    acknowledged.add(committed.seq());
                } else {
                    first = outcome;
                }
            }
            assertThat(first).isEqualTo(unavailable(first, Outcome.Failure.COMMIT_OUTCOME_UNKNOWN));
            Outcome later = engine.submit(new Command.OpenAccount(0, "late@example.com", "hash", 100, null)).join();
            assertThat(later).isEqualTo(unavailable(later, Outcome.Failure.JOURNAL_FAILED));
            assertThat(engine.health().writable()).isFalse();
            assertThat(engine.health().problems()).anyMatch(problem -> problem.contains("injected fault " + fault));
        } finally {
            sequencerLog.detachAppender(logged);
        }
        // The failure is in the log once, as an error naming its cause (finding 1 of RELIABILITY.md).
        assertThat(List.copyOf(logged.list)).filteredOn(event -> event.getLevel() == Level.ERROR).singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).startsWith("the journal failed")
                        .contains("injected fault " + fault).contains("fail-stop"));
        // The segment's first write and fsync are its header's, so the sixth is the fifth batch's.
        assertThat(acknowledged).containsExactly(1L, 2L, 3L, 4L);
        try (Engine engine = Engine.start(plain)) {
            // A failed fsync leaves the bytes in the page cache, so the fifth may be there; a
            // half-written batch is a torn tail, moved aside. Never anything else.
            long head = engine.committedSeq();
            if (fault.kind() == FaultInjectingStorage.Kind.JOURNAL_WRITE) {
                assertThat(head).isEqualTo(4);
                assertThat(engine.recovery().tornTail()).isNotNull();
            } else {
                assertThat(head).isBetween(4L, 5L);
            }
            Outcome next = engine.submit(new Command.OpenAccount(0, "after@example.com", "hash", 100, null)).join();
            assertThat(next).isInstanceOf(Outcome.Committed.class);
        }
    }

    @Test
    void aReadModelKillCountsTheWritesOfTheReadModelsAndTheOutboxCheckpointsOnly() {
        Path data = temporary.resolve("data");
        FaultInjectingStorage storage = readModelKill(data, 1, status -> {});
        for (String file : List.of("readmodels/reports.checkpoint", "readmodels/reports.checkpoint.tmp",
                "readmodels/statements.entries", "outbox/checkpoint", "outbox/checkpoint.tmp",
                "outbox/state.checkpoint", "outbox/state.checkpoint.tmp")) {
            assertThat(storage.isReadModelFile(data.resolve(file))).as(file).isTrue();
        }
        for (String file : List.of("journal/00000000000000000001.seg", "snapshots/00000000000000000100.snap",
                "outbox/00000000000000000001-verification.eml", "outbox/dead/00000000000000000001-withdrawal.txt",
                "server.key", "../readmodels/reports.checkpoint")) {
            assertThat(storage.isReadModelFile(data.resolve(file))).as(file).isFalse();
        }
        assertThat(storage.isReadModelFile(data.resolve("journal/../readmodels/accounts.checkpoint")))
                .as("a path that is not normalized").isTrue();
        assertThatThrownBy(() -> new FaultInjectingStorage(new FileStorage(),
                FaultInjectingStorage.Fault.parse("readmodel-kill@1")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCheckpointKillCountsTheCheckpointsOnlyNotTheStores() throws Exception {
        Path data = temporary.resolve("data");
        List<Integer> halts = new ArrayList<>();
        FaultInjectingStorage storage = new FaultInjectingStorage(new FileStorage(), new FaultInjectingStorage.Fault(
                FaultInjectingStorage.Kind.CHECKPOINT_KILL, 2), data, status -> {
                    halts.add(status);
                    throw new Halted();
                });
        assertThat(storage.halts(data.resolve("readmodels/statements.entries"))).isFalse();
        assertThat(storage.halts(data.resolve("journal/00000000000000000001.seg"))).isFalse();
        for (String file : List.of("readmodels/reports.checkpoint.tmp", "outbox/state.checkpoint.tmp",
                "outbox/checkpoint.tmp")) {
            assertThat(storage.halts(data.resolve(file))).as(file).isTrue();
        }
        Path store = data.resolve("readmodels/statements.entries");
        Files.createDirectories(store.getParent());
        try (StorageFile file = storage.open(store, true)) {
            for (int i = 0; i < 3; i++) {
                file.write(ByteBuffer.wrap(bytes(4, i)), 4L * i); // not counted
            }
        }
        storage.replaceDurably(data.resolve("readmodels/reports.checkpoint"), ByteBuffer.wrap(bytes(8, 1)));
        assertThatThrownBy(() -> storage.replaceDurably(data.resolve("outbox/checkpoint"),
                ByteBuffer.wrap(bytes(20, 2)))).isInstanceOf(Halted.class);
        assertThat(halts).containsExactly(FaultInjectingStorage.READMODEL_KILL_STATUS);
        assertThat(Files.size(store)).isEqualTo(12);
        assertThat(Files.readAllBytes(data.resolve("outbox/checkpoint.tmp"))).isEqualTo(bytes(10, 2));
        assertThat(data.resolve("outbox/checkpoint")).doesNotExist();
    }

    @Test
    void aReadModelKillWritesHalfOfTheChosenWriteThenHaltsAndEveryLaterWriteHaltsWritingNothing() throws Exception {
        Path data = temporary.resolve("data");
        List<Integer> halts = new ArrayList<>();
        FaultInjectingStorage storage = readModelKill(data, 3, status -> {
            halts.add(status);
            throw new Halted();
        });
        Path checkpoint = data.resolve("readmodels/reports.checkpoint");
        Path mail = data.resolve("outbox/00000000000000000001-verification.eml");
        // Write 1 (through a temporary file, fsynced and renamed: all of that goes through).
        storage.replaceDurably(checkpoint, ByteBuffer.wrap(bytes(8, 1)));
        assertThat(Files.readAllBytes(checkpoint)).isEqualTo(bytes(8, 1));
        assertThat(data.resolve("readmodels/reports.checkpoint.tmp")).doesNotExist();
        storage.replaceDurably(mail, ByteBuffer.wrap(bytes(8, 7))); // not counted
        Path store = data.resolve("readmodels/statements.entries");
        try (StorageFile file = storage.open(store, true)) {
            file.write(ByteBuffer.wrap(bytes(10, 2)), 0); // write 2
            file.force();
            assertThatThrownBy(() -> file.write(ByteBuffer.wrap(bytes(10, 3)), 10)).isInstanceOf(Halted.class);
            assertThat(halts).containsExactly(FaultInjectingStorage.READMODEL_KILL_STATUS);
            assertThatThrownBy(() -> file.write(ByteBuffer.wrap(bytes(10, 4)), 15)).isInstanceOf(Halted.class);
        }
        byte[] expected = new byte[15];
        System.arraycopy(bytes(10, 2), 0, expected, 0, 10);
        System.arraycopy(bytes(5, 3), 0, expected, 10, 5);
        assertThat(Files.readAllBytes(store)).as("write 2 whole, the first half of write 3, nothing of 4")
                .isEqualTo(expected);
        assertThat(halts).hasSize(2);
        assertThat(Files.readAllBytes(mail)).isEqualTo(bytes(8, 7));
    }

    private static FaultInjectingStorage readModelKill(Path data, long occurrence, FaultInjectingStorage.Halt halt) {
        return new FaultInjectingStorage(new FileStorage(), new FaultInjectingStorage.Fault(
                FaultInjectingStorage.Kind.READMODEL_KILL, occurrence), data, halt);
    }

    private static byte[] bytes(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    /** What the test's halt throws instead of ending the JVM. */
    private static final class Halted extends RuntimeException {}

    private static Outcome unavailable(Outcome actual, Outcome.Failure failure) {
        return actual instanceof Outcome.Unavailable unavailable && unavailable.failure() == failure ? actual
                : new Outcome.Unavailable(failure, "(expected)");
    }
}
