package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real engine on a real data directory, with a clock and account numbers the test controls,
 * to make data directories whose event lines are known to the byte.
 */
public final class TestBank implements AutoCloseable {
    /** The time of the first event; each event of the story is one second after the one before. */
    static final Instant START = Instant.parse("2026-11-26T10:00:00.123456Z");
    public static final long ALICE = Limits.ACCOUNT_NUMBER_MIN + 1;
    public static final long BOB = Limits.ACCOUNT_NUMBER_MIN + 2;
    public static final long CAROL = Limits.ACCOUNT_NUMBER_MIN + 3;
    static final String PASSWORD_HASH = "$2a$04$a-secret-password-hash";

    /** The event lines {@link #writeStory} leaves in the journal, in order. */
    static final String[] STORY_LINES = {
        "{\"seq\":1,\"type\":\"AccountOpened\",\"version\":1,\"time\":\"2026-11-26T10:00:00.123456Z\",\"data\":"
                + "{\"account_number\":\"1000000000000001\",\"email\":\"alice@example.com\",\"opening_balance\":100000,"
                + "\"idempotency_key\":\"open-alice\"}}",
        "{\"seq\":2,\"type\":\"AccountOpened\",\"version\":1,\"time\":\"2026-11-26T10:00:01.123456Z\",\"data\":"
                + "{\"account_number\":\"1000000000000002\",\"email\":\"bob@example.com\",\"opening_balance\":100000}}",
        "{\"seq\":3,\"type\":\"AccountVerified\",\"version\":1,\"time\":\"2026-11-26T10:00:02.123456Z\",\"data\":"
                + "{\"account_number\":\"1000000000000001\"}}",
        "{\"seq\":4,\"type\":\"AccountVerified\",\"version\":1,\"time\":\"2026-11-26T10:00:03.123456Z\",\"data\":"
                + "{\"account_number\":\"1000000000000002\"}}",
        "{\"seq\":5,\"type\":\"MoneyTransferred\",\"version\":1,\"time\":\"2026-11-26T10:00:04.123456Z\",\"data\":"
                + "{\"from_account_number\":\"1000000000000001\",\"to_account_number\":\"1000000000000002\","
                + "\"amount\":10000,\"idempotency_key\":\"t-1\",\"request_fingerprint\":\"f-t-1\"}}",
        "{\"seq\":6,\"type\":\"MoneyWithdrawn\",\"version\":1,\"time\":\"2026-11-26T10:00:05.123456Z\",\"data\":"
                + "{\"account_number\":\"1000000000000002\",\"amount\":5000,\"idempotency_key\":\"w-1\","
                + "\"request_fingerprint\":\"f-w-1\"}}",
        "{\"seq\":7,\"type\":\"AccountOpened\",\"version\":1,\"time\":\"2026-11-26T10:00:06.123456Z\",\"data\":"
                + "{\"account_number\":\"1000000000000003\",\"email\":\"carol@example.com\",\"opening_balance\":100000}}",
        "{\"seq\":8,\"type\":\"MoneyTransferred\",\"version\":1,\"time\":\"2026-11-26T10:00:07.123456Z\",\"data\":"
                + "{\"from_account_number\":\"1000000000000002\",\"to_account_number\":\"1000000000000001\","
                + "\"amount\":2500}}",
    };

    final Engine engine;
    private final AtomicLong clock = new AtomicLong(EpochMicros.of(START));
    private final Map<Long, Long> openedSeqs = new HashMap<>();

    /** How far the clock moves after each command. */
    private final long stepMicros;

    private TestBank(Path data, long segmentBytesMax, long snapshotEveryEvents) throws IOException {
        this(data, segmentBytesMax, snapshotEveryEvents, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT, 1_000_000);
    }

    private TestBank(Path data, long segmentBytesMax, long snapshotEveryEvents, long idempotencyWindowMicros,
                     long stepMicros) throws IOException {
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig config = EngineConfig.builder(data)
                .accountNumbers(numbers::incrementAndGet)
                .clock(clock::get)
                .segmentBytesMax(segmentBytesMax)
                .snapshots(snapshotEveryEvents, 2, 10 * snapshotEveryEvents)
                .idempotencyWindowMicros(idempotencyWindowMicros)
                // Openings in plain text, as before sealing: the tools' expected lines are written so.
                .sealPersonalData(false).build();
        this.stepMicros = stepMicros;
        engine = Engine.start(config);
    }

    /**
     * Like {@link #start}, with an idempotency window other than the default and the clock
     * moving {@code stepMicros} after each command (so keys expire within the story).
     */
    static TestBank startWithWindow(Path data, long idempotencyWindowMicros, long stepMicros) throws IOException {
        return new TestBank(data, 400, 3, idempotencyWindowMicros, stepMicros);
    }

    /**
     * Starts an engine with small segments (about two batches each, so reading crosses
     * segments) and a snapshot every three events.
     */
    static TestBank start(Path data) throws IOException {
        return new TestBank(data, 400, 3);
    }

    /**
     * Starts an engine with the default segment size, for a long or live journal, and a
     * snapshot every {@code snapshotEveryEvents} (written, and old ones pruned, as it runs).
     */
    static TestBank startWithLargeSegments(Path data, long snapshotEveryEvents) throws IOException {
        return new TestBank(data, EngineConfig.SEGMENT_BYTES_MAX_DEFAULT, snapshotEveryEvents);
    }

    /** Writes the eight events of {@link #STORY_LINES} into a new data directory and stops. */
    static void writeStory(Path data) throws Exception {
        try (TestBank bank = start(data)) {
            bank.tellStory();
            bank.awaitSnapshots();
        }
    }

    /** Opens alice, bob, verifies them, moves money, withdraws, opens carol: seqs 1 to 8, one second apart. */
    void tellStory() {
        assertThat(open("alice@example.com", new Idempotency("open-alice", "f-open-alice"))).isEqualTo(ALICE);
        assertThat(open("bob@example.com", null)).isEqualTo(BOB);
        verify(ALICE);
        verify(BOB);
        committed(new Command.TransferMoney(ALICE, BOB, 10_000, new Idempotency("t-1", "f-t-1")));
        committed(new Command.Withdraw(BOB, 5_000, new Idempotency("w-1", "f-w-1")));
        assertThat(open("carol@example.com", null)).isEqualTo(CAROL);
        committed(new Command.TransferMoney(BOB, ALICE, 2_500, null));
    }

    long open(String email, Idempotency idempotency) {
        Outcome.Committed outcome = committed(new Command.OpenAccount(0, email, PASSWORD_HASH,
                Limits.OPENING_BALANCE_DEFAULT, idempotency));
        long number = ((Event.AccountOpened) outcome.events().get(0).event()).accountNumber();
        openedSeqs.put(number, outcome.seq());
        return number;
    }

    void verify(long account) {
        committed(new Command.VerifyAccount(account, engine.verificationCodes().codeFor(account, openedSeqs.get(account))));
    }

    /** Submits a command stamped one step (a second unless set) after the previous one and waits until it is durable. */
    Outcome.Committed committed(Command command) {
        Outcome outcome = engine.submit(command).join();
        assertThat(outcome).isInstanceOf(Outcome.Committed.class);
        clock.addAndGet(stepMicros);
        return (Outcome.Committed) outcome;
    }

    /** Waits until the snapshotter has seen every committed event (and so written its snapshots). */
    void awaitSnapshots() throws InterruptedException {
        assertThat(engine.subscriptions().get(0).awaitDelivered(engine.committedSeq(), 10_000)).isTrue();
    }

    @Override
    public void close() throws IOException {
        try {
            engine.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the engine", e);
        }
    }
}
