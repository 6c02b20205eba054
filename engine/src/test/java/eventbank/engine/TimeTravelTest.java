package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.EpochMicros;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.history.TimeTravel;
import eventbank.engine.history.Verifier;
import eventbank.engine.history.WhatIf;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import eventbank.engine.write.Outcome;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;


/**
 * {@link TimeTravel} over random histories written through a real {@link Engine}: the state as
 * of any seq equals a replay of the journal's first N events (with snapshots every 5 events for
 * even seeds and every 1,000 for odd ones, small segments, batches of many events so most N
 * fall mid-batch), the seq at an instant is the last event at or before it (a clock that often
 * stands still, so several events share a time), and a corrupt newest snapshot changes nothing
 * but the snapshot the replay starts from. A failure names its seed.
 */
class TimeTravelTest {
    private static final long FIRST_SEED = Long.getLong("timetravel.seed", 20_261_126L);
    private static final int SEEDS = 12;
    private static final byte[] SERVER_KEY = "time-travel-test-key-0123456789abcdef".getBytes();
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    /** 2026-01-01T00:00:00Z in microseconds. */
    private static final long BASE_MICROS = 1_767_225_600_000_000L;

    @TempDir
    Path temporary;

    static LongStream seeds() {
        return LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void stateAtAnySeqEqualsTheReplayOfTheFirstNEvents(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Written written = write(seed, random, 200 + random.nextInt(1_500));
        String where = "seed " + seed;
        List<Recorded> events = written.events;
        long last = events.size();
        TimeTravel travel = new TimeTravel(written.storage, written.data, WINDOW);

        TreeSet<Long> targets = new TreeSet<>(List.of(0L, 1L, last));
        for (long snapshot : written.snapshots.seqs()) {
            targets.add(snapshot);
            targets.add(Math.max(0, snapshot - 1));
            targets.add(Math.min(last, snapshot + 1));
        }
        for (int i = 0; i < 40; i++) {
            targets.add(random.nextLong(0, last + 1));
        }
        Map<Long, String> expected = prefixDigests(events, targets);
        for (long n : targets) {
            TimeTravel.State state = travel.travel(n);
            assertThat(state.bank().stateDigest()).as("%s: state at %d", where, n).isEqualTo(expected.get(n));
            assertThat(state.bank().lastSeq()).as(where).isEqualTo(n);
            assertThat(state.passedOver()).as(where).isEmpty();
            assertThat(state.fromSnapshotSeq()).as(where).isLessThanOrEqualTo(n);
            assertThat(state.bank().checkInvariant()).as(where).isNull();
            if (n > 0) {
                assertThat(state.bank().lastTimeMicros()).as(where).isEqualTo(events.get((int) n - 1).timeMicros());
            }
        }
        if (seed % 2 == 0 && last > 10) {
            // Snapshots every 5 events are retained, so time travel starts from one near the point.
            assertThat(travel.travel(last).fromSnapshotSeq()).as(where).isPositive();
        }
        assertThatThrownBy(() -> travel.stateAt(last + 1)).as(where)
                .isInstanceOfSatisfying(TimeTravel.BeyondTheEndException.class, e -> {
                    assertThat(e.lastSeq()).isEqualTo(last);
                    assertThat(e.getMessage()).isEqualTo("seq " + (last + 1)
                            + " is beyond the end of the journal, which ends at seq " + last);
                });
        assertThatThrownBy(() -> travel.stateAt(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void seqAtTimeIsTheLastEventAtOrBeforeTheInstant(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        Written written = write(seed, random, 150 + random.nextInt(600));
        String where = "seed " + seed;
        List<Recorded> events = written.events;
        TimeTravel travel = new TimeTravel(written.storage, written.data, WINDOW);

        TreeSet<Long> instants = new TreeSet<>();
        long first = events.get(0).timeMicros();
        long last = events.get(events.size() - 1).timeMicros();
        instants.addAll(List.of(Long.MIN_VALUE, 0L, first - 1_000_000, first - 1, first, last, last + 1,
                last + 86_400_000_000L, Long.MAX_VALUE));
        int equalTimes = 0;
        for (int i = 0; i < events.size(); i++) {
            long time = events.get(i).timeMicros();
            if (i > 0 && events.get(i - 1).timeMicros() == time) {
                equalTimes++;
            }
            if (random.nextInt(4) == 0 || i == events.size() - 1) {
                instants.add(time);
                instants.add(time - 1);
                instants.add(time + 1);
                if (i + 1 < events.size()) {
                    instants.add((time + events.get(i + 1).timeMicros()) / 2); // between two events
                }
            }
        }
        assertThat(equalTimes).as(where + ": several events share a time").isPositive();
        for (long instant : instants) {
            long expected = 0;
            for (Recorded recorded : events) {
                if (recorded.timeMicros() <= instant) {
                    expected = recorded.seq();
                }
            }
            assertThat(travel.seqAtTimeMicros(instant)).as("%s: seq at %d", where, instant).isEqualTo(expected);
        }
        // Instants with nanoseconds round down to the event's microsecond.
        Instant exact = EpochMicros.toInstant(first);
        assertThat(travel.seqAtTime(exact.plusNanos(999))).isEqualTo(travel.seqAtTimeMicros(first));
        assertThat(travel.seqAtTime(exact.minusNanos(1))).isEqualTo(travel.seqAtTimeMicros(first - 1));
        assertThat(travel.seqAtTime(Instant.MAX)).isEqualTo(events.size());
        assertThat(travel.seqAtTime(Instant.MIN)).isZero();
    }

    /**
     * {@link WhatIf}, which branches from {@link TimeTravel}'s state, against a plain model of the
     * rules decided from seq 0: leaving random events out (an opening, a verification or a
     * transfer, which rejects what depended on it) rejects exactly the events the model rejects,
     * with its reasons, and the balances differ exactly where the model's differ from the real
     * ones. With nothing left out, every event is accepted again and nothing differs.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void whatIfAgreesWithAModelDecidedFromTheStart(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed ^ 0x3C6EF372L);
        Written written = write(seed, random, 150 + random.nextInt(600));
        long last = written.events.size();
        WhatIf whatIf = new WhatIf(written.storage, written.data, WINDOW, last);
        WhatIf.Result unchanged = whatIf.run(new WhatIf.Request(java.util.Set.of(), List.of(), null), last);
        assertThat(unchanged.rejected()).isEmpty();
        assertThat(unchanged.differences()).isEmpty();
        int rejections = 0;
        for (int round = 0; round < 8; round++) {
            java.util.Set<Long> excluded = new java.util.HashSet<>();
            int count = 1 + random.nextInt(4);
            for (int i = 0; i < count; i++) {
                excluded.add(1 + random.nextLong(last));
            }
            long until = random.nextLong(java.util.Collections.max(excluded), last + 1);
            String where = "seed " + seed + ", excluded " + excluded + ", until " + until;
            WhatIf.Result result = whatIf.run(new WhatIf.Request(excluded, List.of(), until), last);
            PlainModel real = new PlainModel();
            PlainModel alternative = new PlainModel();
            Map<Long, String> rejected = new TreeMap<>();
            for (Recorded recorded : written.events.subList(0, (int) until)) {
                real.apply(recorded.event());
                if (!excluded.contains(recorded.seq())) {
                    String reason = alternative.apply(recorded.event());
                    if (reason != null) {
                        rejected.put(recorded.seq(), reason);
                    }
                }
            }
            Map<Long, String> found = new TreeMap<>();
            result.rejected().forEach(event -> found.put(event.seq(), event.reason().code()));
            assertThat(found).as(where).isEqualTo(rejected);
            rejections += rejected.size();
            Map<Long, List<Long>> differences = new TreeMap<>();
            real.balances.forEach((account, balance) -> {
                Long other = alternative.balances.get(account);
                if (!balance.equals(other)) {
                    differences.put(account, java.util.Arrays.asList(balance, other));
                }
            });
            Map<Long, List<Long>> reported = new TreeMap<>();
            result.differences().forEach(d -> reported.put(d.accountNumber(),
                    java.util.Arrays.asList(d.balance(), d.whatIfBalance())));
            assertThat(reported).as(where).isEqualTo(differences);
            assertThat(result.branchSeq()).as(where).isEqualTo(java.util.Collections.min(excluded) - 1);
        }
        // Leaving events out must have consequences somewhere, or the comparison above proves little.
        assertThat(rejections).as("seed %d: later events rejected over the rounds", seed).isPositive();
    }

    /** The bank's rules on plain maps, in the Decider's order of checks; answers a refusal's code or null. */
    private static final class PlainModel {
        final Map<Long, Long> balances = new HashMap<>();
        final java.util.Set<Long> verified = new java.util.HashSet<>();
        final java.util.Set<String> emails = new java.util.HashSet<>();

        String apply(eventbank.core.Event event) {
            switch (event) {
                case eventbank.core.Event.AccountOpened e -> {
                    // Read without the key store, a sealed opening's email is null: told apart by number.
                    String email = e.email() == null ? "#" + e.accountNumber()
                            : e.email().toLowerCase(java.util.Locale.ROOT);
                    if (balances.containsKey(e.accountNumber())) {
                        return "account_number_taken";
                    }
                    if (emails.contains(email)) {
                        return "email_taken";
                    }
                    balances.put(e.accountNumber(), e.openingBalance());
                    emails.add(email);
                }
                case eventbank.core.Event.AccountVerified e -> {
                    if (!balances.containsKey(e.accountNumber())) {
                        return "account_not_found";
                    }
                    verified.add(e.accountNumber());
                }
                case eventbank.core.Event.MoneyTransferred e -> {
                    long from = e.fromAccountNumber();
                    long to = e.toAccountNumber();
                    String refusal = !balances.containsKey(from) || !balances.containsKey(to) ? "account_not_found"
                            : !verified.contains(from) ? "account_not_verified"
                            : !verified.contains(to) ? "recipient_not_verified"
                            : balances.get(from) < e.amount() ? "insufficient_funds" : null;
                    if (refusal != null) {
                        return refusal;
                    }
                    balances.merge(from, -e.amount(), Long::sum);
                    balances.merge(to, e.amount(), Long::sum);
                }
                case eventbank.core.Event.MoneyWithdrawn e -> {
                    long account = e.accountNumber();
                    String refusal = !balances.containsKey(account) ? "account_not_found"
                            : !verified.contains(account) ? "account_not_verified"
                            : balances.get(account) < e.amount() ? "insufficient_funds" : null;
                    if (refusal != null) {
                        return refusal;
                    }
                    balances.merge(account, -e.amount(), Long::sum);
                }
                case eventbank.core.Event.AccountClosed e -> balances.merge(e.accountNumber(), -e.forfeited(), Long::sum);
                case eventbank.core.Event.AccountForgotten e -> {
                    // no money moves
                }
            }
            return null;
        }
    }

    @Test
    void aCorruptNewestSnapshotFallsBackToAnOlderOneAndStillAnswersRight() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        Written written = write(8, random, 400);
        List<Recorded> events = written.events;
        long last = events.size();
        List<Long> seqs = written.snapshots.seqs();
        assertThat(seqs).hasSizeGreaterThanOrEqualTo(3);
        long newest = seqs.get(seqs.size() - 1);
        long older = seqs.get(seqs.size() - 2);
        Map<Long, String> expected = prefixDigests(events, List.of(last, newest, older));
        TimeTravel travel = new TimeTravel(written.storage, written.data, WINDOW);
        assertThat(travel.travel(last).fromSnapshotSeq()).isEqualTo(newest);

        flipByte(written.storage, written.snapshots.pathOf(newest), 100);
        for (long n : List.of(last, newest)) {
            TimeTravel.State state = travel.travel(n);
            assertThat(state.bank().stateDigest()).as("state at %d", n).isEqualTo(expected.get(n));
            assertThat(state.fromSnapshotSeq()).isEqualTo(older);
            assertThat(state.passedOver()).singleElement().asString()
                    .startsWith("snapshot " + written.snapshots.pathOf(newest) + " is unusable");
        }

        // With every snapshot damaged, a replay from the first event.
        for (long seq : seqs) {
            flipByte(written.storage, written.snapshots.pathOf(seq), 90);
        }
        TimeTravel.State state = travel.travel(last);
        assertThat(state.bank().stateDigest()).isEqualTo(expected.get(last));
        assertThat(state.fromSnapshotSeq()).isZero();
        assertThat(state.eventsReplayed()).isEqualTo(last);
    }

    @Test
    void worksOnRealFilesBesideARunningEngine() throws Exception {
        Path data = temporary.resolve("live");
        EngineConfig config = EngineConfig.builder(data).serverKey(SERVER_KEY)
                .clock(new SteppingClock(3)).accountNumbers(CommandMix.accountNumbers(3))
                .snapshots(5, 3, 40).segmentBytesMax(4_096).build();
        SplittableRandom random = new SplittableRandom(3);
        try (Engine engine = Engine.start(config)) {
            Driver driver = new Driver(engine, 3, random);
            driver.drive(300);
            TimeTravel travel = new TimeTravel(new FileStorage(), data, WINDOW);
            List<Recorded> events = new ArrayList<>(driver.committed.values());
            long last = engine.committedSeq();
            assertThat(events).hasSize((int) last);
            TreeSet<Long> targets = new TreeSet<>(List.of(last, last / 2, last / 3));
            Map<Long, String> expected = prefixDigests(events, targets);
            for (long n : targets) {
                assertThat(travel.stateAt(n).stateDigest()).as("state at %d", n).isEqualTo(expected.get(n));
            }
            assertThat(travel.seqAtTimeMicros(Long.MAX_VALUE)).isEqualTo(last);
            // The engine goes on, unaware; the traveller sees the new end.
            driver.drive(50);
            long now = engine.committedSeq();
            assertThat(travel.stateAt(now).lastSeq()).isEqualTo(now);
            assertThat(travel.seqAtTimeMicros(Long.MAX_VALUE)).isEqualTo(now);
        }
        assertThat(Verifier.verify(new FileStorage(), data, WINDOW).problems()).isEmpty();
    }

    @Test
    void anEmptyJournal() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        Path data = Path.of("/simulated/empty");
        TimeTravel travel = new TimeTravel(storage, data, WINDOW);
        assertThat(travel.stateAt(0).lastSeq()).isZero();
        assertThat(travel.seqAtTimeMicros(Long.MAX_VALUE)).isZero();
        assertThatThrownBy(() -> travel.stateAt(1)).isInstanceOfSatisfying(TimeTravel.BeyondTheEndException.class,
                e -> assertThat(e.lastSeq()).isZero());
    }

    // ---- Helpers ----

    /** A history written through an engine, then the engine stopped; {@code events} as the journal holds them. */
    private record Written(Storage storage, Path data, SnapshotStore snapshots, List<Recorded> events) {}

    private Written write(long seed, SplittableRandom random, int commands) throws Exception {
        boolean realFiles = seed % 6 == 1;
        Storage storage = realFiles ? new FileStorage() : new SimulatedStorage();
        Path data = realFiles ? temporary.resolve("data-" + seed) : Path.of("/simulated/travel-" + seed);
        long every = seed % 2 == 0 ? 5 : 1000;
        EngineConfig config = EngineConfig.builder(data).storage(storage, realFiles).serverKey(SERVER_KEY)
                .clock(new SteppingClock(seed)).accountNumbers(CommandMix.accountNumbers(seed))
                .snapshots(every, 3, every == 5 ? 40 : 3_000)
                .segmentBytesMax(2_048 + random.nextInt(16 * 1024)).build();
        TreeMap<Long, Recorded> committed;
        try (Engine engine = Engine.start(config)) {
            Driver driver = new Driver(engine, seed, random);
            driver.drive(commands);
            committed = driver.committed;
            assertThat(engine.subscriptions().get(0).awaitDelivered(engine.committedSeq(), 20_000)).isTrue();
        }
        JournalContents.Replay replay = JournalContents.replay(storage, data, WINDOW);
        assertThat(replay.events()).containsExactlyElementsOf(committed.values());
        return new Written(storage, data, JournalContents.snapshots(storage, data), replay.events());
    }

    /** The state digest after each of the first {@code n} events, for each n asked. */
    private static Map<Long, String> prefixDigests(List<Recorded> events, java.util.Collection<Long> seqs) {
        Map<Long, String> digests = new HashMap<>();
        Bank bank = new Bank(WINDOW);
        if (seqs.contains(0L)) {
            digests.put(0L, bank.stateDigest());
        }
        for (Recorded recorded : events) {
            bank.evolve(recorded);
            if (seqs.contains(recorded.seq())) {
                digests.put(recorded.seq(), bank.stateDigest());
            }
        }
        return digests;
    }

    private static void flipByte(Storage storage, Path file, long position) throws Exception {
        try (StorageFile handle = storage.open(file, false)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            handle.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).position(0);
            handle.write(one, position);
            handle.force();
        }
    }

    /**
     * A clock that often stands still (so several events share a time), sometimes moves a
     * microsecond, a second, or up to an hour. The n-th reading is a pure function of the seed.
     */
    private static final class SteppingClock implements LongSupplier {
        private final SplittableRandom random;
        private long now = BASE_MICROS;

        SteppingClock(long seed) {
            random = new SplittableRandom(seed * 31 + 17);
        }

        @Override
        public synchronized long getAsLong() {
            int roll = random.nextInt(100);
            if (roll >= 40) {
                now += roll < 50 ? 1 : roll < 80 ? 1_000_000 : random.nextLong(1, 3_600_000_000L);
            }
            return now;
        }
    }

    /** Sends random commands in bursts of asynchronous submissions and keeps what was committed. */
    private static final class Driver {
        final Engine engine;
        final SplittableRandom random;
        final CommandMix mix;
        final Bank bank = new Bank(WINDOW);
        final TreeMap<Long, Recorded> committed = new TreeMap<>();

        Driver(Engine engine, long seed, SplittableRandom random) {
            this.engine = engine;
            this.random = random;
            this.mix = new CommandMix(seed, new HmacVerificationCodes(SERVER_KEY));
        }

        void drive(int count) throws Exception {
            int sent = 0;
            while (sent < count) {
                int burst = Math.min(count - sent, 1 + random.nextInt(random.nextInt(100) < 20 ? 100 : 10));
                List<Command> commands = new ArrayList<>(burst);
                List<CompletableFuture<Outcome>> replies = new ArrayList<>(burst);
                for (int i = 0; i < burst; i++) {
                    Command command = mix.next(bank);
                    commands.add(command);
                    replies.add(engine.submit(command));
                }
                for (int i = 0; i < burst; i++) {
                    Outcome outcome = replies.get(i).get(30, TimeUnit.SECONDS);
                    mix.observe(commands.get(i), outcome);
                    if (outcome instanceof Outcome.Committed c) {
                        c.events().forEach(recorded -> committed.put(recorded.seq(), recorded));
                    }
                }
                committed.tailMap(bank.lastSeq(), false).values().forEach(bank::evolve);
                sent += burst;
            }
        }
    }
}
