package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.history.Verifier;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import static org.assertj.core.api.Assertions.assertThat;


/**
 * Over random histories, the state the engine lives with, the state a full replay of the journal
 * rebuilds, and every snapshot plus the journal after it are one and the same (compared by
 * {@link Bank#stateDigest()}); and an engine restarted from that state, from the newest
 * snapshot, answers new commands exactly as a reference {@link Bank} and {@code Decider} fed the
 * same commands do.
 *
 * <p>Each seed runs a history of a few hundred to a few thousand commands in two to four
 * engine runs with restarts between them, snapshots every 5 events (even seeds) or every 1,000
 * (odd seeds), small journal segments, and a clock that leaps so idempotency keys expire. Two
 * seeds in fifteen use real files, the rest {@link SimulatedStorage}. A failure names its seed;
 * {@code -Dreplay.seed=N} changes the first seed.
 */
class ReplayEquivalenceTest {
    private static final long FIRST_SEED = Long.getLong("replay.seed", 20_261_126L);
    private static final int SEEDS = 30;
    private static final byte[] SERVER_KEY = "replay-equivalence-test-key-0123456789".getBytes();
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final int SNAPSHOTS_NEWEST_KEPT = 3;
    private static final long TIMEOUT_SECONDS = 30;

    @TempDir
    Path temporary;

    static LongStream seeds() {
        return LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void liveStateFullReplayAndSnapshotPlusTailAgree(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        boolean realFiles = Math.floorMod(seed, 15) == 3 || Math.floorMod(seed, 15) == 10;
        Storage storage = realFiles ? new FileStorage() : new SimulatedStorage();
        Path data = realFiles ? temporary.resolve("data") : Path.of("/simulated/replay-" + seed);
        long every = seed % 2 == 0 ? 5 : 1000;
        long span = every == 5 ? 40 : 3_000;
        int commands = realFiles ? 300 + random.nextInt(300) : 300 + random.nextInt(2_700);
        EngineConfig config = EngineConfig.builder(data).storage(storage, realFiles).serverKey(SERVER_KEY)
                .clock(new HistoryClock(seed)).accountNumbers(CommandMix.accountNumbers(seed))
                .snapshots(every, SNAPSHOTS_NEWEST_KEPT, span)
                .segmentBytesMax(2_048 + random.nextInt(64 * 1024)).build();
        History history = new History(seed, random, new ReferenceSequencer(SERVER_KEY, WINDOW, new HistoryClock(seed),
                CommandMix.accountNumbers(seed)).sealing(realFiles),
                new CommandMix(seed, new HmacVerificationCodes(SERVER_KEY)));
        SnapshotStore snapshots = JournalContents.snapshots(storage, data);

        int runs = 2 + random.nextInt(3);
        long newestSnapshot = 0;
        for (int run = 0; run < runs; run++) {
            history.run = run;
            boolean awaited = random.nextInt(4) != 0;
            long committedSeq;
            try (Engine engine = Engine.start(config)) {
                assertThat(engine.committedSeq()).as(history.where()).isEqualTo(history.reference.bank.lastSeq());
                assertThat(engine.startSnapshotSeq()).as(history.where()).isEqualTo(newestSnapshot);
                assertThat(engine.startWarnings()).as(history.where()).isEmpty();
                history.drive(engine, commands / runs);
                committedSeq = engine.committedSeq();
                if (awaited) {
                    assertThat(engine.subscriptions().get(0).awaitDelivered(committedSeq, 20_000))
                            .as(history.where() + ": the snapshotter keeps up").isTrue();
                }
            }
            List<Long> seqs = snapshots.seqs();
            newestSnapshot = seqs.isEmpty() ? 0 : seqs.get(seqs.size() - 1);
            if (awaited) {
                // At each batch end the snapshotter writes once `every` events have passed.
                assertThat(committedSeq - newestSnapshot).as(history.where()).isLessThan(every);
            }
        }
        checkEquivalence(history, storage, data, snapshots, span);

        history.run = runs;
        try (Engine engine = Engine.start(config)) {
            assertThat(engine.startSnapshotSeq()).as(history.where()).isEqualTo(newestSnapshot);
            assertThat(engine.committedSeq()).as(history.where()).isEqualTo(history.reference.bank.lastSeq());
            history.drive(engine, 150);
        }
        assertThat(Verifier.verify(storage, data, WINDOW).problems()).as(history.where()).isEmpty();
    }

    private static void checkEquivalence(History history, Storage storage, Path data, SnapshotStore snapshots,
                                         long span) throws Exception {
        String where = history.where();
        Set<Long> snapshotSeqs = new HashSet<>(snapshots.seqs());
        JournalContents.Replay full = JournalContents.replay(storage, data, WINDOW, snapshotSeqs);
        assertThat(full.tornTail()).as(where).isNull();
        assertThat(full.events()).as(where + ": the journal holds exactly the committed events")
                .containsExactlyElementsOf(history.committed.values());

        String digest = full.bank().stateDigest();
        Bank live = new Bank(WINDOW);
        history.committed.values().forEach(live::evolve);
        assertThat(live.stateDigest()).as(where + ": live state (committed outcomes) = full replay").isEqualTo(digest);
        assertThat(history.reference.bank.stateDigest()).as(where + ": reference = full replay").isEqualTo(digest);
        assertThat(full.bank().checkInvariant()).as(where).isNull();

        for (long seq : snapshotSeqs) {
            SnapshotStore.Loaded loaded = snapshots.read(seq, WINDOW);
            assertThat(full.digestAt()).as(where + ": snapshot " + seq + " ends a batch").containsKey(seq);
            assertThat(loaded.bank().stateDigest()).as(where + ": snapshot " + seq + " = replay up to it")
                    .isEqualTo(full.digestAt().get(seq));
            assertThat(loaded.chainHash()).as(where + ": snapshot " + seq + " chain hash")
                    .isEqualTo(full.chainHashAt().get(seq));
            assertThat(JournalContents.snapshotPlusTail(storage, data, seq, WINDOW).stateDigest())
                    .as(where + ": snapshot " + seq + " plus the tail = full replay").isEqualTo(digest);
        }
        // Retention: the newest few, plus one per span of history.
        assertThat(snapshotSeqs.size()).as(where)
                .isLessThanOrEqualTo(SNAPSHOTS_NEWEST_KEPT + (int) (full.bank().lastSeq() / span) + 1);
    }

    /** A history driven through the engine and the reference side by side. */
    private static final class History {
        final long seed;
        final SplittableRandom random;
        final ReferenceSequencer reference;
        final CommandMix mix;
        final TreeMap<Long, Recorded> committed = new TreeMap<>();
        int run;
        int commandsSent;

        History(long seed, SplittableRandom random, ReferenceSequencer reference, CommandMix mix) {
            this.seed = seed;
            this.random = random;
            this.reference = reference;
            this.mix = mix;
        }

        String where() {
            return "seed " + seed + ", run " + run + ", after " + commandsSent + " commands";
        }

        /**
         * Sends {@code count} commands in bursts of asynchronous submissions from this one
         * thread, so the engine decides them in the order sent, and checks each outcome against
         * the reference's.
         */
        void drive(Engine engine, int count) throws Exception {
            int sent = 0;
            while (sent < count) {
                int burst = Math.min(count - sent, 1 + random.nextInt(random.nextInt(100) < 20 ? 200 : 20));
                List<Command> burstCommands = new ArrayList<>(burst);
                List<Outcome> expected = new ArrayList<>(burst);
                List<CompletableFuture<Outcome>> replies = new ArrayList<>(burst);
                for (int i = 0; i < burst; i++) {
                    Command command = mix.next(reference.bank);
                    Outcome outcome = reference.step(command);
                    mix.observe(command, outcome);
                    burstCommands.add(command);
                    expected.add(outcome);
                    replies.add(engine.submit(command));
                }
                for (int i = 0; i < burst; i++) {
                    Outcome actual = replies.get(i).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    // The engine seals openings; the reference records them plain: compared by value.
                    assertThat(Unsealed.of(actual)).as("%s: command #%d %s", where(), commandsSent + i,
                            burstCommands.get(i)).isEqualTo(expected.get(i));
                    if (actual instanceof Outcome.Committed c) {
                        c.events().forEach(recorded -> committed.put(recorded.seq(), recorded));
                    }
                }
                sent += burst;
                commandsSent += burst;
            }
        }
    }
}
