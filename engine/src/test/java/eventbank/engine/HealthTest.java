package eventbank.engine;

import eventbank.core.Command;
import eventbank.core.Limits;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;


/** What Engine.health tells an operator after a failed snapshot and after a failed fsync. */
class HealthTest {
    private static final byte[] KEY = new byte[32];

    @Test
    void aFailedJournalWriteMakesTheEngineRefuseWritesAndSaySo() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        Path data = Path.of("/data");
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig config = EngineConfig.builder(data).storage(storage, false).serverKey(KEY)
                .accountNumbers(numbers::incrementAndGet).snapshots(2, 2, 100).build();
        try (Engine engine = Engine.start(config)) {
            assertThat(engine.health()).isEqualTo(new Engine.Health(true, 0, java.util.List.of()));
            // Two commands are durable; then every write fails.
            open(engine, "a@example.com");
            open(engine, "b@example.com");
            Subscription snapshots = engine.subscriptions().get(0);
            assertThat(snapshots.awaitDelivered(2, 10_000)).isTrue();
            assertThat(engine.snapshotter().snapshotsWritten()).isEqualTo(1);

            storage.failWriteAfter(0);
            Outcome failed = engine.submit(new Command.OpenAccount(0, "c@example.com", "hash", 100, null)).join();
            assertThat(failed).isInstanceOf(Outcome.Unavailable.class);
            Engine.Health health = engine.health();
            assertThat(health.writable()).isFalse();
            assertThat(health.committedSeq()).isEqualTo(2);
            assertThat(health.problems()).anyMatch(problem -> problem.contains("the journal failed"));
        }
    }

    @Test
    void aSnapshotThatCannotBeWrittenShowsInHealthButDoesNotStopTheSnapshotter() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        Path data = Path.of("/data");
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig config = EngineConfig.builder(data).storage(storage, false).serverKey(KEY)
                .accountNumbers(numbers::incrementAndGet).snapshots(2, 2, 100).build();
        // The snapshot directory is a file: every snapshot write fails, the journal's do not.
        storage.createDirectories(data);
        storage.putBytes(config.snapshotDirectory(), new byte[0]);
        try (Engine engine = Engine.start(config)) {
            for (int i = 0; i < 6; i++) {
                open(engine, "user" + i + "@example.com");
            }
            Subscription snapshots = engine.subscriptions().get(0);
            assertThat(snapshots.awaitDelivered(6, 10_000)).isTrue();
            assertThat(snapshots.failure()).as("the snapshotter goes on").isNull();
            Engine.Health health = engine.health();
            assertThat(health.writable()).isTrue();
            assertThat(health.problems()).singleElement().asString().contains("the last snapshot failed");
        }
    }

    private static void open(Engine engine, String email) {
        Outcome outcome = engine.submit(new Command.OpenAccount(0, email, "hash", 100, null)).join();
        assertThat(outcome).isInstanceOf(Outcome.Committed.class);
    }
}
