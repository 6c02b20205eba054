package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code events} and {@code verify} beside an engine that holds the data directory's lock and
 * keeps committing (and writing and pruning snapshots) while they read.
 */
class LiveEngineTest {
    private static final int ROUNDS = 5;
    /** With a snapshot every 50 events, kept 2 newest: the third one prunes. */
    private static final int SNAPSHOTS_MIN = 4;
    private static final int DEADLINE_SECONDS = 60;
    private static final int TRANSFERS_IN_FLIGHT = 64;

    @Test
    void eventsAndVerifyWorkWhileAnEngineWrites(@TempDir Path data) throws Exception {
        try (TestBank bank = TestBank.startWithLargeSegments(data, 50)) {
            bank.tellStory();
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicReference<Throwable> writerFailure = new AtomicReference<>();
            Thread writer = new Thread(() -> transferUntilStopped(bank, writing, writerFailure), "test-writer");
            writer.start();
            long seqBefore = bank.engine.committedSeq();
            long deadline = System.nanoTime() + DEADLINE_SECONDS * 1_000_000_000L;
            int rounds = 0;
            try {
                // Read for a few rounds, and on until the engine has written snapshots (and so
                // pruned old ones) while the reads went on, so that they overlap for sure.
                while (rounds < ROUNDS || bank.engine.snapshotter().snapshotsWritten() < SNAPSHOTS_MIN) {
                    assertThat(System.nanoTime()).as("the engine writes snapshots in time").isLessThan(deadline);
                    checkEvents(data, bank.engine.committedSeq());
                    checkVerify(data, bank.engine.committedSeq());
                    rounds++;
                }
            } finally {
                writing.set(false);
                writer.join();
            }
            assertThat(writerFailure.get()).isNull();
            assertThat(bank.engine.committedSeq()).as("the engine kept writing").isGreaterThan(seqBefore);
        }
    }

    private static void checkEvents(Path data, long committed) {
        Cli.Run run = Cli.run("events", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        List<String> lines = run.lines();
        assertThat(lines.size()).isGreaterThanOrEqualTo((int) committed);
        for (int index = 0; index < lines.size(); index++) {
            assertThat(lines.get(index)).startsWith("{\"seq\":" + (index + 1) + ",");
        }
        if (!run.err().isEmpty()) {
            assertThat(run.err()).startsWith("eventbank events: warning: the journal ends in ");
        }
    }

    private static void checkVerify(Path data, long committed) {
        Cli.Run run = Cli.run("verify", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("problems: 0\n").endsWith("verify: OK\n");
        long head = Long.parseLong(run.out().replaceAll("(?s).*head: \\{\"seq\":(\\d+),.*", "$1"));
        assertThat(head).isGreaterThanOrEqualTo(committed);
        assertThat(run.err()).isEmpty();
    }

    /** One-cent transfers back and forth between alice and bob, many in flight, until told to stop. */
    private static void transferUntilStopped(TestBank bank, AtomicBoolean writing, AtomicReference<Throwable> failure) {
        try {
            int count = 0;
            while (writing.get()) {
                List<CompletableFuture<Outcome>> inFlight = new ArrayList<>();
                for (int i = 0; i < TRANSFERS_IN_FLIGHT; i++, count++) {
                    boolean even = count % 2 == 0;
                    inFlight.add(bank.engine.submit(new Command.TransferMoney(even ? TestBank.ALICE : TestBank.BOB,
                            even ? TestBank.BOB : TestBank.ALICE, 1, null)));
                }
                for (CompletableFuture<Outcome> outcome : inFlight) {
                    assertThat(outcome.join()).isInstanceOf(Outcome.Committed.class);
                }
            }
        } catch (Throwable e) {
            failure.set(e);
        }
    }
}
