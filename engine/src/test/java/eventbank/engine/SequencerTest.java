package eventbank.engine;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.core.Rejection;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.SequencerLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;


/**
 * The sequencer through the engine: replies in log order with many submitters, rejections
 * answered like the rest, a full queue answering busy, fail-stop on a failed fsync or write, a
 * close that finishes what was queued, and idempotency keys that survive restarts. The journal
 * is slowed down, where a test needs it, by {@link ControlledStorage} holding a force until the
 * test lets it go: no sleeps.
 */
class SequencerTest {
    private static final byte[] SERVER_KEY = "sequencer-test-server-key-0123456789abcdef".getBytes();
    private static final Path DATA = Path.of("/simulated/sequencer");
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final long SEED = Long.getLong("sequencer.seed", 4_242L);
    private static final int SUBMITTERS = 8;
    private static final int COMMANDS_PER_SUBMITTER = 5_000;
    private static final int ACCOUNTS = 40;
    private static final int UNVERIFIED_ACCOUNTS = 4;
    private static final long FIRST_ACCOUNT = 4_000_000_000_000_000L;
    private static final String JOURNAL_THREAD = "eventbank-journal";

    @TempDir
    Path temporary;

    private static EngineConfig config(Storage storage, LongSupplier clock) {
        // The high-water mark at close only: these tests count and fail fsyncs one by one.
        return EngineConfig.builder(DATA).storage(storage, false).serverKey(SERVER_KEY).clock(clock)
                .snapshots(0, 1, 1).highWaterIntervalMillis(0).build();
    }

    /** One reply as it arrived: the command, its outcome, and the thread that completed it. */
    private record Reply(int submitter, int index, Command command, Outcome outcome, String thread) {}

    // ---- Order and contiguity ----

    @Test
    void everyReplyComesInLogOrderAndMatchesAReferenceFedInThatOrder() throws Exception {
        long seed = SEED;
        ControlledStorage storage = new ControlledStorage(new SimulatedStorage());
        ReferenceSequencer reference = new ReferenceSequencer(SERVER_KEY, WINDOW, new HistoryClock(seed), () -> 0);
        try (Engine engine = Engine.start(config(storage, new HistoryClock(seed)))) {
            long[] accounts = openAccounts(engine, reference, ACCOUNTS, UNVERIFIED_ACCOUNTS);
            long setupSeq = engine.committedSeq();

            // Hold the journal on one batch so every reply is hooked before any can complete:
            // then every reply is completed by the journal thread, in the order it answers.
            storage.holdNextForce(DATA.resolve("journal"));
            Command marker = new Command.TransferMoney(accounts[0], accounts[1], 1, null);
            ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
            List<CompletableFuture<Outcome>> futures = new ArrayList<>();
            futures.add(hook(engine.submit(marker), -1, 0, marker, replies));
            storage.awaitForceHeld();
            futures.addAll(submitConcurrently(engine, accounts, seed, replies));
            storage.releaseForce();
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

            assertThat(replies.size()).isEqualTo(SUBMITTERS * COMMANDS_PER_SUBMITTER + 1);
            assertThat(replies.stream().filter(reply -> !reply.thread().equals(JOURNAL_THREAD)).toList())
                    .as("replies completed elsewhere than on the journal thread").isEmpty();
            int[] lastIndex = new int[SUBMITTERS];
            java.util.Arrays.fill(lastIndex, -1);
            long lastSeq = setupSeq;
            int position = 0;
            for (Reply reply : replies) {
                String where = "seed " + seed + ", reply #" + position++ + " " + reply;
                assertThat(reply.outcome()).as(where).isEqualTo(reference.step(reply.command()));
                if (reply.outcome() instanceof Outcome.Committed committed) {
                    assertThat(committed.seq()).as(where + ": contiguous").isEqualTo(lastSeq + 1);
                    lastSeq = committed.seq();
                }
                if (reply.submitter() >= 0) {
                    assertThat(reply.index()).as(where + ": a submitter's replies in its order")
                            .isEqualTo(lastIndex[reply.submitter()] + 1);
                    lastIndex[reply.submitter()] = reply.index();
                }
            }
            assertThat(engine.committedSeq()).isEqualTo(lastSeq);
            assertThat(engine.sequencer().statistics().busyRejections()).isZero();
        }
        JournalContents.Replay replay = JournalContents.replay(storage, DATA, WINDOW);
        assertThat(replay.bank().checkInvariant()).isNull();
        assertThat(replay.bank().stateDigest()).as("seed " + seed).isEqualTo(reference.bank.stateDigest());
    }

    @Test
    void concurrentSubmittersGetContiguousSeqsInTheirOwnOrderAndTheMoneyAddsUp() throws Exception {
        long seed = SEED + 1;
        SimulatedStorage storage = new SimulatedStorage();
        ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
        long setupSeq;
        long lastSeq;
        try (Engine engine = Engine.start(config(storage, new HistoryClock(seed)))) {
            long[] accounts = openAccounts(engine, null, ACCOUNTS, UNVERIFIED_ACCOUNTS);
            setupSeq = engine.committedSeq();
            List<CompletableFuture<Outcome>> futures = submitConcurrently(engine, accounts, seed, replies);
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            lastSeq = engine.committedSeq();
        }
        JournalContents.Replay replay = JournalContents.replay(storage, DATA, WINDOW);
        assertThat(replay.bank().checkInvariant()).as("seed " + seed).isNull();
        assertThat(replay.bank().lastSeq()).isEqualTo(lastSeq);

        // Every committed event is in the journal at its seq, and the seqs are exactly those after the setup.
        long[] seqsBySubmitter = new long[SUBMITTERS];
        long committedEvents = 0;
        long lastOnJournalThread = setupSeq;
        int rejected = 0;
        List<Reply> bySubmission = replies.stream()
                .sorted(java.util.Comparator.comparingInt(Reply::submitter).thenComparingInt(Reply::index)).toList();
        for (Reply reply : bySubmission) {
            String where = "seed " + seed + ", " + reply;
            switch (reply.outcome()) {
                case Outcome.Committed committed -> {
                    assertThat(committed.seq()).as(where + ": a submitter's seqs grow in its order")
                            .isGreaterThan(seqsBySubmitter[reply.submitter()]);
                    seqsBySubmitter[reply.submitter()] = committed.seq();
                    for (Recorded recorded : committed.events()) {
                        assertThat(replay.at(recorded.seq())).as(where).isEqualTo(recorded);
                        committedEvents++;
                    }
                }
                case Outcome.Replayed replayed -> assertThat(CommandMix.keyOf(
                        commandOf(replay.at(replayed.seq())))).as(where).isEqualTo(CommandMix.keyOf(reply.command()));
                case Outcome.Rejected r -> rejected++;
                case Outcome.Unavailable u -> fail(where + ": nothing should be unavailable");
                case Outcome.CommittedOneByOne c -> fail(where + ": the mix sends no batch");
            }
        }
        assertThat(committedEvents).as("no seq twice, none missing").isEqualTo(lastSeq - setupSeq);
        assertThat(rejected).as("the mix has rejections").isGreaterThan(100);
        // Replies completed on the journal thread come in log order.
        for (Reply reply : replies) {
            if (reply.thread().equals(JOURNAL_THREAD) && reply.outcome() instanceof Outcome.Committed c) {
                assertThat(c.seq()).as("seed " + seed + ": journal-thread replies in log order")
                        .isGreaterThan(lastOnJournalThread);
                lastOnJournalThread = c.seq();
            }
        }
    }

    /** A command that would record this event, to compare idempotency keys. */
    private static Command commandOf(Recorded recorded) {
        return switch (recorded.event()) {
            case Event.MoneyTransferred e -> new Command.TransferMoney(e.fromAccountNumber(), e.toAccountNumber(),
                    e.amount(), e.idempotency());
            case Event.MoneyWithdrawn e -> new Command.Withdraw(e.accountNumber(), e.amount(), e.idempotency());
            case Event.AccountOpened e -> new Command.OpenAccount(e.accountNumber(), e.email(), e.passwordHash(),
                    e.openingBalance(), e.idempotency());
            case Event.AccountVerified e -> new Command.VerifyAccount(e.accountNumber(), null);
            case Event.AccountClosed e -> new Command.CloseAccount(e.accountNumber());
            case Event.AccountForgotten e -> new Command.ForgetAccount(e.accountNumber());
        };
    }

    /**
     * {@value #SUBMITTERS} threads, started together, each submitting {@value
     * #COMMANDS_PER_SUBMITTER} commands without waiting: mostly transfers among the verified
     * accounts, some withdrawals, and every kind of refusal (to itself, to nobody, from an
     * unverified account, too much), with keys that come back.
     */
    private static List<CompletableFuture<Outcome>> submitConcurrently(Engine engine, long[] accounts, long seed,
                                                                       ConcurrentLinkedQueue<Reply> replies)
            throws Exception {
        List<List<CompletableFuture<Outcome>>> perThread = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < SUBMITTERS; t++) {
            int submitter = t;
            List<CompletableFuture<Outcome>> futures = new ArrayList<>(COMMANDS_PER_SUBMITTER);
            perThread.add(futures);
            threads.add(Thread.ofPlatform().name("submitter-" + t).start(() -> {
                SplittableRandom random = new SplittableRandom(seed * 1_000 + submitter);
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < COMMANDS_PER_SUBMITTER; i++) {
                    Command command = randomCommand(random, accounts, submitter);
                    futures.add(hook(engine.submit(command), submitter, i, command, replies));
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join(60_000);
            assertThat(thread.isAlive()).isFalse();
        }
        List<CompletableFuture<Outcome>> all = new ArrayList<>();
        perThread.forEach(all::addAll);
        assertThat(all.size()).isEqualTo(SUBMITTERS * COMMANDS_PER_SUBMITTER);
        return all;
    }

    private static Command randomCommand(SplittableRandom random, long[] accounts, int submitter) {
        int verified = accounts.length - UNVERIFIED_ACCOUNTS;
        long from = accounts[random.nextInt(verified)];
        long to = accounts[random.nextInt(verified)];
        int roll = random.nextInt(100);
        if (roll < 60) {
            return new Command.TransferMoney(from, to == from ? accounts[(random.nextInt(verified - 1) + 1)] : to,
                    1 + random.nextLong(30_000), null);
        }
        if (roll < 70) {
            return new Command.Withdraw(from, 1 + random.nextLong(300), null);
        }
        if (roll < 74) {
            return new Command.TransferMoney(from, from, 10, null);
        }
        if (roll < 78) {
            return new Command.TransferMoney(from, FIRST_ACCOUNT - 1 - random.nextInt(1000), 10, null);
        }
        if (roll < 82) {
            return new Command.TransferMoney(accounts[verified + random.nextInt(UNVERIFIED_ACCOUNTS)], to, 10, null);
        }
        if (roll < 85) {
            return new Command.Withdraw(from, Limits.AMOUNT_MAX, null);
        }
        // A key that this submitter uses again: a retry (replayed) or another request (refused).
        String key = "s" + submitter + "-" + random.nextInt(150);
        long amount = 1 + random.nextInt(3);
        return new Command.Withdraw(accounts[submitter % verified], amount, new Idempotency(key, "withdraw:" + amount));
    }

    /**
     * Records the reply when it comes, on the thread that completes it. Answers the recording's
     * own future: waiting on the reply itself could wake the test before the record is made.
     */
    private static CompletableFuture<Outcome> hook(CompletableFuture<Outcome> future, int submitter, int index,
                                                   Command command, ConcurrentLinkedQueue<Reply> replies) {
        return future.whenComplete((outcome, error) ->
                replies.add(new Reply(submitter, index, command, outcome, Thread.currentThread().getName())));
    }

    /**
     * Opens {@code count} accounts with numbers from {@link #FIRST_ACCOUNT} and verifies all but
     * the last {@code unverified}, checking each outcome against the reference when there is one.
     */
    static long[] openAccounts(Engine engine, ReferenceSequencer reference, int count, int unverified)
            throws Exception {
        long[] accounts = new long[count];
        List<Command> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            accounts[i] = FIRST_ACCOUNT + i * 1_000_003L;
            commands.add(new Command.OpenAccount(accounts[i], "holder" + i + "@example.com", "$2a$04$hash",
                    Limits.OPENING_BALANCE_DEFAULT, null));
        }
        List<Outcome> opened = submitAll(engine, reference, commands);
        commands.clear();
        for (int i = 0; i < count - unverified; i++) {
            long openedSeq = ((Outcome.Committed) opened.get(i)).seq();
            String code = engine.verificationCodes().codeFor(accounts[i], openedSeq);
            commands.add(new Command.VerifyAccount(accounts[i], code));
        }
        submitAll(engine, reference, commands);
        return accounts;
    }

    private static List<Outcome> submitAll(Engine engine, ReferenceSequencer reference, List<Command> commands)
            throws Exception {
        List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        for (Command command : commands) {
            futures.add(engine.submit(command));
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            Outcome outcome = futures.get(i).get(20, TimeUnit.SECONDS);
            assertThat(outcome).as(commands.get(i).toString()).isInstanceOf(Outcome.Committed.class);
            if (reference != null) {
                assertThat(outcome).isEqualTo(reference.step(commands.get(i)));
            }
            outcomes.add(outcome);
        }
        return outcomes;
    }

    // ---- Back-pressure ----

    @Test
    void aFullQueueAnswersBusyAtOnceAndTheRestCommitOnceTheDiskCatchesUp() throws Exception {
        ControlledStorage storage = new ControlledStorage(new SimulatedStorage());
        int queue = 8;
        SequencerLimits limits = new SequencerLimits(queue, 1, EventCodec.RECORD_BYTES_MAX, 2);
        EngineConfig config = config(storage, new HistoryClock(SEED)).toBuilder().sequencerLimits(limits).build();
        try (Engine engine = Engine.start(config)) {
            long[] accounts = openAccounts(engine, null, 2, 0);
            storage.holdNextForce(DATA.resolve("journal"));
            List<CompletableFuture<Outcome>> accepted = new ArrayList<>();
            accepted.add(engine.submit(oneCent(accounts[0], accounts[1])));
            storage.awaitForceHeld();

            // With the journal held, at most the queue, one command in the sequencer's hand and
            // one chunk of one command waiting for the journal can be taken; the next is busy.
            int bound = queue + limits.chunksMax() * limits.chunkCommandsMax() + 1;
            Outcome busy = null;
            for (int i = 0; i < 1_000 && busy == null; i++) {
                CompletableFuture<Outcome> reply = engine.submit(oneCent(accounts[0], accounts[1]));
                if (reply.isDone() && reply.join() instanceof Outcome.Unavailable unavailable) {
                    busy = unavailable;
                } else {
                    assertThat(reply).as("nothing is answered while the journal is held").isNotDone();
                    accepted.add(reply);
                }
            }
            assertThat(busy).isNotNull();
            assertThat(failureOf(busy)).isEqualTo(Outcome.Failure.BUSY);
            assertThat(accepted.size() - 1).as("commands taken while the journal was held").isBetween(queue, bound);
            assertThat(engine.sequencer().statistics().busyRejections()).isEqualTo(1);
            assertThat(accepted).allSatisfy(reply -> assertThat(reply).isNotDone());

            long seq = engine.committedSeq();
            storage.releaseForce();
            for (CompletableFuture<Outcome> reply : accepted) {
                Outcome outcome = reply.get(20, TimeUnit.SECONDS);
                assertThat(outcome).isInstanceOf(Outcome.Committed.class);
                assertThat(((Outcome.Committed) outcome).seq()).isGreaterThan(seq);
                seq = ((Outcome.Committed) outcome).seq();
            }
            Outcome after = engine.submit(oneCent(accounts[0], accounts[1])).get(20, TimeUnit.SECONDS);
            assertThat(after).isInstanceOf(Outcome.Committed.class);
        }
    }

    /**
     * Commands that come while a batch is being forced wait for its end in the queue, and the
     * sequencer waits for that end rather than being woken by each (the clock, read as each is
     * decided, is not read for them); a chunk's worth waiting wakes it to decide them during the
     * force, as before; every one commits, in order, once the force is done.
     */
    @Test
    void commandsThatComeDuringAForceAreDecidedAtItsEndUnlessAChunksWorthWaits() throws Exception {
        ControlledStorage storage = new ControlledStorage(new SimulatedStorage());
        HistoryClock clock = new HistoryClock(SEED);
        try (Engine engine = Engine.start(config(storage, clock))) {
            long[] accounts = openAccounts(engine, null, 2, 0);
            storage.holdNextForce(DATA.resolve("journal"));
            List<CompletableFuture<Outcome>> replies = new ArrayList<>();
            replies.add(engine.submit(oneCent(accounts[0], accounts[1])));
            storage.awaitForceHeld();
            // The sequencer may have begun to wait for a command before the journal took the
            // batch; one command brings it round to waiting for the force's end.
            replies.add(engine.submit(oneCent(accounts[0], accounts[1])));
            Thread sequencer = threadNamed("eventbank-sequencer");
            awaitWaitingOn(sequencer, "HandOff");
            long readings = clock.readings();

            for (int i = 0; i < 3; i++) {
                replies.add(engine.submit(oneCent(accounts[0], accounts[1])));
            }
            assertThat(clock.readings()).as("none of the three decided during the force").isEqualTo(readings);
            awaitWaitingOn(sequencer, "HandOff");

            // The 64th command waiting wakes the sequencer, which decides them while the force goes on.
            for (int i = 3; i < 64; i++) {
                replies.add(engine.submit(oneCent(accounts[0], accounts[1])));
            }
            assertThat(clock.awaitReadings(readings + 64, 20_000)).as("a chunk's worth decided during the force")
                    .isTrue();
            assertThat(replies).allSatisfy(reply -> assertThat(reply).isNotDone());

            storage.releaseForce();
            long seq = 0;
            for (CompletableFuture<Outcome> reply : replies) {
                Outcome outcome = reply.get(20, TimeUnit.SECONDS);
                assertThat(outcome).isInstanceOf(Outcome.Committed.class);
                assertThat(((Outcome.Committed) outcome).seq()).isGreaterThan(seq);
                seq = ((Outcome.Committed) outcome).seq();
            }
            assertThat(engine.submit(oneCent(accounts[0], accounts[1])).get(20, TimeUnit.SECONDS))
                    .isInstanceOf(Outcome.Committed.class);
        }
    }

    private static Thread threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(thread -> thread.getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no thread " + name));
    }

    /** Spins (no sleeping) until {@code thread} is parked on an object of the class named so. */
    private static void awaitWaitingOn(Thread thread, String blockerClass) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Object blocker = LockSupport.getBlocker(thread);
            if (thread.getState() == Thread.State.WAITING && blocker != null
                    && blocker.getClass().getSimpleName().equals(blockerClass)) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError(thread.getName() + " never waited on a " + blockerClass + "; it is "
                + thread.getState() + " on " + LockSupport.getBlocker(thread));
    }

    @Test
    void limitsUnderWhichAGroupCouldOutgrowTheLargestReadableBatchAreRefused() {
        // The reader takes a batch body above BATCH_BODY_BYTES_MAX for a damaged header: a group
        // that large would be acknowledged, then quarantined as a torn write at the next start.
        int chunkBytes = 8 << 20;
        int chunks = eventbank.engine.journal.JournalFormat.BATCH_BODY_BYTES_MAX / chunkBytes + 1;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SequencerLimits(1_024, 1_024, chunkBytes, chunks))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(new SequencerLimits(1_024, 1_024, chunkBytes, chunks - 1).chunksMax()).isEqualTo(chunks - 1);
    }

    // ---- Fail-stop ----

    @Test
    void aFailedFsyncAnswersItsBatchOutcomeUnknownThenJournalFailedAndNeverForcesAgain() throws Exception {
        failStop(true);
    }

    @Test
    void aFailedWriteAnswersItsBatchOutcomeUnknownThenJournalFailedAndNeverWritesAgain() throws Exception {
        failStop(false);
    }

    /**
     * Holds the journal on a batch Z, queues five commands A1..A5 (one chunk each, so they are
     * written together as the next batch) and a sixth M, injects the failure, lets Z go. Z is
     * committed; A1..A5 are the failed batch; M is in it or after it; everything later is
     * refused at once; the journal is never written or forced again, even once the disk heals.
     */
    private void failStop(boolean fsync) throws Exception {
        SimulatedStorage simulated = new SimulatedStorage();
        ControlledStorage storage = new ControlledStorage(simulated);
        HistoryClock clock = new HistoryClock(SEED);
        SequencerLimits limits = new SequencerLimits(1_024, 1, 64 * 1024, 16);
        long zSeq;
        long forcesAfterFailure;
        long writesAfterFailure;
        try (Engine engine = Engine.start(config(storage, clock).toBuilder().sequencerLimits(limits).build())) {
            long[] accounts = openAccounts(engine, null, 2, 0);
            storage.holdNextForce(DATA.resolve("journal"));
            CompletableFuture<Outcome> z = engine.submit(oneCent(accounts[0], accounts[1]));
            storage.awaitForceHeld();
            long readings = clock.readings();
            List<CompletableFuture<Outcome>> batch = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                batch.add(engine.submit(new Command.TransferMoney(accounts[0], accounts[1], 10 + i,
                        new Idempotency("a" + i, "fp"))));
            }
            CompletableFuture<Outcome> m = engine.submit(new Command.Withdraw(accounts[1], 7, null));
            // The clock is read as M is decided: A1..A5 are then each in a chunk handed on.
            assertThat(clock.awaitReadings(readings + 6, 20_000)).isTrue();
            if (fsync) {
                simulated.failForceAfter(1); // Z's force succeeds, the next one fails
            } else {
                simulated.failWriteAfter(0); // Z is written already; the next write fails
            }
            storage.releaseForce();

            Outcome committed = z.get(20, TimeUnit.SECONDS);
            assertThat(committed).isInstanceOf(Outcome.Committed.class);
            zSeq = ((Outcome.Committed) committed).seq();
            for (CompletableFuture<Outcome> reply : batch) {
                assertThat(failureOf(reply.get(20, TimeUnit.SECONDS)))
                        .isEqualTo(Outcome.Failure.COMMIT_OUTCOME_UNKNOWN);
            }
            assertThat(failureOf(m.get(20, TimeUnit.SECONDS)))
                    .isIn(Outcome.Failure.COMMIT_OUTCOME_UNKNOWN, Outcome.Failure.JOURNAL_FAILED);
            assertThat(engine.sequencer().failure()).isNotNull()
                    .hasMessageContaining(fsync ? "injected fsync failure" : "injected write failure");
            assertThat(engine.sequencer().statistics().failed()).isTrue();
            assertThat(engine.committedSeq()).isEqualTo(zSeq);
            forcesAfterFailure = storage.forceCalls();
            writesAfterFailure = storage.writeCalls();

            // Later commands are refused at once, also once the disk is healthy again.
            for (int i = 0; i < 20; i++) {
                if (i == 10) {
                    simulated.clearFaults();
                }
                CompletableFuture<Outcome> later = engine.submit(oneCent(accounts[0], accounts[1]));
                assertThat(later).isDone();
                assertThat(failureOf(later.join())).isEqualTo(Outcome.Failure.JOURNAL_FAILED);
                assertThat(((Outcome.Unavailable) later.join()).message()).contains("injected");
            }
            assertThat(engine.committedSeq()).isEqualTo(zSeq);
        }
        assertThat(storage.forceCalls()).as("never forced again").isEqualTo(forcesAfterFailure);
        assertThat(storage.writeCalls()).as("never written again").isEqualTo(writesAfterFailure);

        // The failed batch may or may not be on disk: not after a power loss, since it was never forced.
        simulated.crash(SEED, false);
        try (Engine engine = Engine.start(config(simulated, new HistoryClock(SEED + 1)))) {
            assertThat(engine.committedSeq()).isEqualTo(zSeq);
            assertThat(engine.recovery().tornTail()).isNull();
        }
        assertThat(JournalContents.replay(simulated, DATA, WINDOW).bank().checkInvariant()).isNull();
    }

    private static Command oneCent(long from, long to) {
        return new Command.TransferMoney(from, to, 1, null);
    }

    private static Outcome.Failure failureOf(Outcome outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Unavailable.class);
        return ((Outcome.Unavailable) outcome).failure();
    }

    /**
     * A bug in decide or evolve (here: the clock throws) stops the sequencer like a journal
     * failure, and nobody waits forever: the command being decided, the ones queued behind it and
     * later ones are all answered, and close returns.
     */
    @Test
    void anInternalFailureAnswersEveryoneAndCloseReturns() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        HistoryClock clock = new HistoryClock(SEED);
        AtomicInteger readings = new AtomicInteger();
        int failAt = ACCOUNTS * 2 + 3; // the third transfer after the setup
        LongSupplier broken = () -> {
            if (readings.incrementAndGet() == failAt) {
                throw new IllegalStateException("the clock broke (injected by the test)");
            }
            return clock.getAsLong();
        };
        Engine engine = Engine.start(config(storage, broken));
        long[] accounts = openAccounts(engine, null, ACCOUNTS, 0);
        long setupSeq = engine.committedSeq();
        List<CompletableFuture<Outcome>> replies = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            replies.add(engine.submit(oneCent(accounts[i % ACCOUNTS], accounts[(i + 1) % ACCOUNTS])));
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < replies.size(); i++) {
            try {
                outcomes.add(replies.get(i).get(10, TimeUnit.SECONDS));
            } catch (java.util.concurrent.TimeoutException e) {
                fail("command #" + i + " was never answered after the sequencer failed");
            }
        }
        // The first two may have shared a chunk with the third, and then were never written.
        int committed = 0;
        for (int i = 0; i < 2; i++) {
            if (outcomes.get(i) instanceof Outcome.Committed) {
                assertThat(committed).as("replies in log order").isEqualTo(i);
                committed++;
            } else {
                assertThat(failureOf(outcomes.get(i))).isEqualTo(Outcome.Failure.JOURNAL_FAILED);
            }
        }
        assertThat(outcomes.subList(2, outcomes.size()))
                .allSatisfy(outcome -> assertThat(failureOf(outcome)).isEqualTo(Outcome.Failure.JOURNAL_FAILED));
        assertThat(engine.sequencer().failure()).hasMessageContaining("the clock broke");
        assertThat(failureOf(engine.submit(new Command.Withdraw(accounts[0], 1, null)).join()))
                .isEqualTo(Outcome.Failure.JOURNAL_FAILED);
        CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> {
            try {
                engine.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        closed.get(10, TimeUnit.SECONDS);
        try (Engine restarted = Engine.start(config(storage, new HistoryClock(SEED)))) {
            assertThat(restarted.committedSeq()).isEqualTo(setupSeq + committed);
        }
    }

    // ---- Close ----

    @Test
    void closeFinishesWhatIsQueuedAndLaterSubmissionsAreStopped() throws Exception {
        ControlledStorage storage = new ControlledStorage(new SimulatedStorage());
        Engine engine = Engine.start(config(storage, new HistoryClock(SEED)));
        long[] accounts = openAccounts(engine, null, UNVERIFIED_ACCOUNTS + 4, UNVERIFIED_ACCOUNTS);
        storage.holdNextForce(DATA.resolve("journal"));
        List<CompletableFuture<Outcome>> queued = new ArrayList<>();
        queued.add(engine.submit(oneCent(accounts[0], accounts[1])));
        storage.awaitForceHeld();
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < 300; i++) {
            queued.add(engine.submit(randomCommand(random, accounts, 0)));
        }
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            try {
                engine.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // Submit until close has stopped taking commands; those taken before must still finish.
        Outcome stopped = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (stopped == null && System.nanoTime() < deadline) {
            CompletableFuture<Outcome> reply = engine.submit(oneCent(accounts[1], accounts[0]));
            if (reply.isDone() && reply.join() instanceof Outcome.Unavailable unavailable) {
                stopped = unavailable;
            } else {
                queued.add(reply);
            }
        }
        assertThat(stopped).isNotNull();
        assertThat(((Outcome.Unavailable) stopped).failure()).isEqualTo(Outcome.Failure.STOPPED);
        assertThat(closing).as("close waits for the queued commands").isNotDone();
        storage.releaseForce();
        closing.get(20, TimeUnit.SECONDS);

        long lastSeq = 0;
        for (CompletableFuture<Outcome> reply : queued) {
            assertThat(reply).isDone();
            Outcome outcome = reply.join();
            assertThat(outcome).isNotInstanceOf(Outcome.Unavailable.class);
            if (outcome instanceof Outcome.Committed committed && !committed.events().isEmpty()) {
                lastSeq = committed.seq();
            }
        }
        assertThat(engine.committedSeq()).isEqualTo(lastSeq);
        Outcome after = engine.submit(oneCent(accounts[0], accounts[1])).join();
        assertThat(failureOf(after)).isEqualTo(Outcome.Failure.STOPPED);
        assertThat(Outcome.Failure.STOPPED.code()).isEqualTo("busy");
        try (Engine restarted = Engine.start(config(storage, new HistoryClock(SEED)))) {
            assertThat(restarted.committedSeq()).isEqualTo(lastSeq);
        }
    }

    // ---- Idempotency ----

    @Test
    void aKeyUsedTwiceRecordsOnceAndIsRememberedAfterRestartsFromTheJournalAndFromASnapshot() throws Exception {
        Path data = temporary.resolve("data");
        HistoryClock clock = new HistoryClock(SEED);
        EngineConfig journalOnly = EngineConfig.builder(data).serverKey(SERVER_KEY).clock(clock)
                .snapshots(0, 1, 1).build();
        EngineConfig withSnapshots = journalOnly.toBuilder().snapshots(1, 2, 100).build();
        Command transfer;
        Command withdraw;
        Command open;
        long transferSeq;
        long withdrawSeq;
        long openSeq;
        try (Engine engine = Engine.start(journalOnly)) {
            long[] accounts = openAccounts(engine, null, 2, 0);
            transfer = new Command.TransferMoney(accounts[0], accounts[1], 500, new Idempotency("pay-rent", "fp-1"));
            withdraw = new Command.Withdraw(accounts[1], 200, new Idempotency("cash", "fp-2"));
            open = new Command.OpenAccount(0, "carol@example.com", "$2a$04$hash", Limits.OPENING_BALANCE_DEFAULT,
                    new Idempotency("signup", "fp-3"));
            transferSeq = committedSeq(engine.submit(transfer).join());
            withdrawSeq = committedSeq(engine.submit(withdraw).join());
            openSeq = committedSeq(engine.submit(open).join());
            assertKeysRemembered(engine, transfer, transferSeq, withdraw, withdrawSeq, open, openSeq);
        }
        try (Engine engine = Engine.start(journalOnly)) {
            assertThat(engine.startSnapshotSeq()).isZero();
            assertKeysRemembered(engine, transfer, transferSeq, withdraw, withdrawSeq, open, openSeq);
        }
        long headSeq;
        try (Engine engine = Engine.start(withSnapshots)) {
            headSeq = engine.committedSeq();
            assertThat(engine.subscriptions().get(0).awaitDelivered(headSeq, 20_000)).isTrue();
        }
        try (Engine engine = Engine.start(withSnapshots)) {
            assertThat(engine.startSnapshotSeq()).as("started from a snapshot holding the keys").isEqualTo(headSeq);
            assertKeysRemembered(engine, transfer, transferSeq, withdraw, withdrawSeq, open, openSeq);
        }
        List<Recorded> events = JournalContents.replay(new FileStorage(), data, WINDOW).events();
        for (Command command : List.of(transfer, withdraw, open)) {
            assertThat(events.stream().filter(recorded -> CommandMix.keyOf(commandOf(recorded)) != null
                    && CommandMix.keyOf(commandOf(recorded)).equals(CommandMix.keyOf(command))))
                    .as("one event for " + command).hasSize(1);
        }
        assertThat(events).hasSize((int) headSeq);
    }

    private static long committedSeq(Outcome outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Committed.class);
        assertThat(((Outcome.Committed) outcome).events()).hasSize(1);
        return ((Outcome.Committed) outcome).seq();
    }

    /** Same key, same request: the first outcome; same key, another request: refused; nothing recorded. */
    private static void assertKeysRemembered(Engine engine, Command transfer, long transferSeq, Command withdraw,
                                             long withdrawSeq, Command open, long openSeq) {
        long head = engine.committedSeq();
        assertThat(engine.submit(transfer).join()).isEqualTo(new Outcome.Replayed(transferSeq));
        assertThat(engine.submit(withdraw).join()).isEqualTo(new Outcome.Replayed(withdrawSeq));
        assertThat(engine.submit(open).join()).isEqualTo(new Outcome.Replayed(openSeq));
        Command.TransferMoney t = (Command.TransferMoney) transfer;
        assertThat(engine.submit(new Command.TransferMoney(t.fromAccountNumber(), t.toAccountNumber(), 501,
                new Idempotency(t.idempotency().key(), "fp-other"))).join())
                .isEqualTo(new Outcome.Rejected(Rejection.IDEMPOTENCY_KEY_REUSED));
        Command.Withdraw w = (Command.Withdraw) withdraw;
        Idempotency reused = new Idempotency(w.idempotency().key(), "x");
        assertThat(engine.submit(new Command.Withdraw(w.accountNumber(), 1, reused)).join())
                .isEqualTo(new Outcome.Rejected(Rejection.IDEMPOTENCY_KEY_REUSED));
        assertThat(engine.committedSeq()).as("nothing recorded by retries").isEqualTo(head);
    }
}
