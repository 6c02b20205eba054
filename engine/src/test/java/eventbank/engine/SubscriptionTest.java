package eventbank.engine;

import eventbank.core.Command;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.subscription.Subscriber;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.write.Outcome;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;


/** Subscribers follow the committed log whatever the journal is doing when they start. */
class SubscriptionTest {
    private static final byte[] SERVER_KEY = "subscription-test-server-key-0123456789ab".getBytes();
    private static final Path DATA = Path.of("/simulated/subscription");

    /** Records what it is handed; forgets it when told to. */
    private static class Recorder implements Subscriber {
        final List<Long> seqs = new CopyOnWriteArrayList<>();
        volatile int forgotten;

        @Override
        public void forget() {
            seqs.clear();
            forgotten++;
        }

        @Override
        public String name() {
            return "probe";
        }

        @Override
        public long start() {
            return 0;
        }

        @Override
        public void onEvent(Recorded recorded) {
            seqs.add(recorded.seq());
        }

        @Override
        public void onBatchEnd(long lastSeq, byte[] chainHash) {}
    }

    /**
     * The first command of a new data directory creates the first segment, then writes its
     * header. A subscriber that starts in between must not take the header-less segment for a
     * torn write and stop: nothing is committed yet, so there is nothing to read.
     */
    @Test
    void aSubscriberStartingWhileTheFirstSegmentIsBeingCreatedKeepsFollowing() throws Exception {
        ControlledStorage storage = new ControlledStorage(new SimulatedStorage());
        EngineConfig config = EngineConfig.builder(DATA).storage(storage, false).serverKey(SERVER_KEY)
                .snapshots(0, 1, 1).build();
        ControlledStorage.Gate header = storage.hold(ControlledStorage.Call.WRITE, DATA.resolve("journal"),
                "eventbank-journal");
        try (Engine engine = Engine.start(config)) {
            CompletableFuture<Outcome> open = engine.submit(new Command.OpenAccount(0, "first@example.com",
                    "$2a$04$hash", Limits.OPENING_BALANCE_DEFAULT, null));
            header.awaitEntered(); // the segment file exists, its header is not written yet

            Recorder recorder = new Recorder();
            Subscription subscription = engine.subscribe(recorder);
            awaitParkedOrDone("eventbank-subscriber-probe");

            header.release();
            assertThat(open.get(20, TimeUnit.SECONDS)).isInstanceOf(Outcome.Committed.class);
            assertThat(subscription.awaitDelivered(1, 20_000))
                    .as("the subscriber follows; it stopped with %s", subscription.failure()).isTrue();
            assertThat(subscription.failure()).isNull();
            assertThat(recorder.seqs).containsExactly(1L);
        }
    }

    /**
     * A restart (the history changed under the subscriber, in a cluster) has the subscriber forget
     * what it took and hands it the log again from the start, on a new reader; it then follows on.
     * A subscriber that cannot forget stops, and its subscription says why.
     */
    @Test
    void aRestartedSubscriptionForgetsAndIsHandedTheLogAgain() throws Exception {
        EngineConfig config = EngineConfig.builder(DATA).storage(new SimulatedStorage(), false).serverKey(SERVER_KEY)
                .snapshots(0, 1, 1).build();
        try (Engine engine = Engine.start(config)) {
            open(engine, "first@example.com");
            open(engine, "second@example.com");
            Recorder recorder = new Recorder();
            Subscription subscription = engine.subscribe(recorder);
            Subscription unforgetting = engine.subscribe(new Subscriber() {
                @Override
                public String name() {
                    return "unforgetting";
                }

                @Override
                public long start() {
                    return 0;
                }

                @Override
                public void onEvent(Recorded recorded) {}

                @Override
                public void onBatchEnd(long lastSeq, byte[] chainHash) {}
            });
            assertThat(subscription.awaitDelivered(2, 20_000)).isTrue();
            assertThat(unforgetting.awaitDelivered(2, 20_000)).isTrue();

            subscription.restart();
            unforgetting.restart();
            assertThat(subscription.awaitDelivered(2, 20_000)).isTrue();
            assertThat(recorder.forgotten).isEqualTo(1);
            assertThat(recorder.seqs).containsExactly(1L, 2L);
            open(engine, "third@example.com");
            assertThat(subscription.awaitDelivered(3, 20_000)).isTrue();
            assertThat(recorder.seqs).containsExactly(1L, 2L, 3L);
            assertThat(subscription.failure()).isNull();
            assertThat(unforgetting.failure()).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("unforgetting cannot start again");
        }
    }

    /**
     * A journal that cannot be read for a while (its database failing over) stops nothing: the
     * subscription says why while it lasts, reads again from the last batch it delivered, and
     * hands every event over once, in order.
     */
    @Test
    void aJournalThatCannotBeReadForAWhileIsReadAgainAndNothingIsHandedOverTwice() throws Exception {
        EngineConfig config = EngineConfig.builder(DATA).storage(new SimulatedStorage(), false).serverKey(SERVER_KEY)
                .snapshots(0, 1, 1).build();
        try (Engine engine = Engine.start(config)) {
            open(engine, "first@example.com");
            AtomicInteger failuresLeft = new AtomicInteger();
            Journal.Reader journal = engine.newReader();
            Journal.Reader failing = new Journal.Reader() {
                @Override
                public void seek(long afterSeq) throws IOException {
                    journal.seek(afterSeq);
                }

                @Override
                public JournalReader.Batch next(long seqLimit) throws IOException {
                    if (failuresLeft.getAndUpdate(left -> Math.max(0, left - 1)) > 0) {
                        throw new IOException("the journal's database cannot be reached (the test's)");
                    }
                    return journal.next(seqLimit);
                }

                @Override
                public long nextSeq() {
                    return journal.nextSeq();
                }

                @Override
                public byte[] chainHash() {
                    return journal.chainHash();
                }

                @Override
                public JournalReader.TornTail tornTail() {
                    return journal.tornTail();
                }

                @Override
                public void close() throws IOException {
                    journal.close();
                }
            };
            Recorder recorder = new Recorder();
            Subscription subscription = new Subscription(recorder, failing, engine::committedSeq).start();
            assertThat(subscription.awaitDelivered(1, 20_000)).isTrue();

            failuresLeft.set(3);
            open(engine, "second@example.com");
            subscription.committed(); // as the engine's commit notifier would
            assertThat(subscription.awaitDelivered(2, 20_000)).isTrue();
            assertThat(failuresLeft.get()).as("every failing read was made").isZero();
            open(engine, "third@example.com");
            subscription.committed();
            assertThat(subscription.awaitDelivered(3, 20_000)).isTrue();
            assertThat(recorder.seqs).containsExactly(1L, 2L, 3L);
            assertThat(subscription.readFailure()).isNull();
            assertThat(subscription.failure()).isNull();
            subscription.close();
        }
    }

    /**
     * A subscriber that starts from a checkpoint at the journal's head is handed nothing, so only
     * its start can wake a thread that waits for it to reach that seq: the wait ends then, not at
     * its timeout.
     */
    @Test
    void aWaiterIsWokenWhenTheSubscriberStartsAtTheHead() throws Exception {
        EngineConfig config = EngineConfig.builder(DATA).storage(new SimulatedStorage(), false).serverKey(SERVER_KEY)
                .snapshots(0, 1, 1).build();
        try (Engine engine = Engine.start(config)) {
            open(engine, "first@example.com");
            open(engine, "second@example.com");
            CountDownLatch starting = new CountDownLatch(1);
            Subscription subscription = engine.subscribe(new Subscriber() {
                @Override
                public String name() {
                    return "at-the-head";
                }

                @Override
                public long start() throws InterruptedException {
                    starting.await();
                    return 2;
                }

                @Override
                public void onEvent(Recorded recorded) {
                    throw new AssertionError("handed seq " + recorded.seq() + " after a start at seq 2");
                }

                @Override
                public void onBatchEnd(long lastSeq, byte[] chainHash) {}
            });
            AtomicBoolean reached = new AtomicBoolean();
            Thread waiter = new Thread(() -> {
                try {
                    reached.set(subscription.awaitDelivered(2, 600_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "waiter-for-the-head");
            waiter.setDaemon(true);
            waiter.start();
            awaitParkedOrDone("waiter-for-the-head");
            starting.countDown();
            waiter.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(waiter.isAlive()).as("the waiter is woken by the start, not left to its timeout").isFalse();
            assertThat(reached).isTrue();
            assertThat(subscription.failure()).isNull();
        }
    }

    /**
     * A subscriber that reads at its own pace (the outbox, the snapshotter) is handed every
     * commit in order, many at a time; while it waits out its pause, commits do not wake it, and
     * a close ends the pause at once.
     */
    @Test
    void aSubscriberAtItsOwnPaceIsHandedEveryCommitButNotWokenByEach() throws Exception {
        EngineConfig config = EngineConfig.builder(DATA).storage(new SimulatedStorage(), false).serverKey(SERVER_KEY)
                .snapshots(0, 1, 1).build();
        Subscription slow;
        try (Engine engine = Engine.start(config)) {
            open(engine, "first@example.com");
            Recorder paced = new PacedRecorder("paced", Duration.ofMillis(20));
            Subscription subscription = engine.subscribe(paced);
            Recorder unhurried = new PacedRecorder("unhurried", Duration.ofMinutes(10));
            slow = engine.subscribe(unhurried);
            assertThat(slow.awaitDelivered(1, 20_000)).as("it reads what there is when it starts").isTrue();
            awaitParkedOrDone("eventbank-subscriber-unhurried"); // in its pause
            for (int i = 0; i < 20; i++) {
                open(engine, "holder" + i + "@example.com"); // a commit each
            }
            assertThat(subscription.awaitDelivered(21, 20_000)).isTrue();
            assertThat(paced.seqs).isEqualTo(LongStream.rangeClosed(1, 21).boxed().toList());
            assertThat(unhurried.seqs).as("it waits out its pause, whatever was committed meanwhile")
                    .containsExactly(1L);
        }
        // The engine's close closed it (it would have waited ten minutes).
        assertThat(slow.failure()).isNull();
    }

    private static class PacedRecorder extends Recorder {
        private final String name;
        private final Duration pause;

        PacedRecorder(String name, Duration pause) {
            this.name = name;
            this.pause = pause;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Duration catchUpPause() {
            return pause;
        }
    }

    private static void open(Engine engine, String email) throws Exception {
        assertThat(engine.submit(new Command.OpenAccount(0, email, "$2a$04$hash", Limits.OPENING_BALANCE_DEFAULT,
                null)).get(20, TimeUnit.SECONDS)).isInstanceOf(Outcome.Committed.class);
    }

    /**
     * Waits until the named thread, already started, waits (for a commit) or has ended: either
     * way it has done whatever it does on starting. Spins on the thread's state, no sleeping.
     */
    private static void awaitParkedOrDone(String name) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Thread thread = Thread.getAllStackTraces().keySet().stream()
                    .filter(candidate -> candidate.getName().equals(name)).findFirst().orElse(null);
            if (thread == null) {
                return; // started before this was called, so it has ended
            }
            Thread.State state = thread.getState();
            if (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING
                    || state == Thread.State.TERMINATED) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError(name + " neither waited nor ended");
    }
}
