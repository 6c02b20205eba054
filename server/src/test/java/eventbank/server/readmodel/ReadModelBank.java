package eventbank.server.readmodel;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real engine on real files with a fixed server key, a clock the test moves, account numbers
 * counted up from the smallest, and the four read models subscribed as a server subscribes them
 * (one feed). A restart is a new instance on the same directory and clock, with new read models
 * that start from their checkpoints, written every {@link #CHECKPOINT_EVERY_EVENTS} and at a
 * clean stop.
 */
final class ReadModelBank implements AutoCloseable {
    static final byte[] SERVER_KEY = "readmodel-test-server-key-0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** The time of the first event. */
    static final long START_MICROS = EpochMicros.of(Instant.parse("2026-11-26T10:00:00Z"));
    static final long SECOND_MICROS = 1_000_000;
    static final String PASSWORD_HASH = "$2a$04$read-model-test-password-hash";
    static final Duration CATCH_UP = Duration.ofSeconds(20);
    static final long CHECKPOINT_EVERY_EVENTS = 50;

    final Engine engine;
    final AtomicLong clock;
    final AccountsReadModel accounts;
    final StatementsReadModel statements;
    final OperationsReadModel operations;
    final ReportsReadModel reports;
    private final Map<Long, Long> openedSeqs = new HashMap<>();

    private ReadModelBank(EngineConfig config, AtomicLong clock) throws IOException {
        this.clock = clock;
        this.engine = Engine.start(config);
        Checkpoints checkpoints = new Checkpoints(config.storage(), config.dataDirectory(), engine::newReader,
                engine::committedSeq, CHECKPOINT_EVERY_EVENTS);
        this.accounts = new AccountsReadModel(checkpoints);
        this.statements = new StatementsReadModel(checkpoints);
        this.operations = new OperationsReadModel(checkpoints, config.idempotencyWindowMicros());
        this.reports = new ReportsReadModel(checkpoints);
        new ReadModels(accounts, statements, operations, reports).subscribers().forEach(engine::subscribe);
    }

    /** A new clock at {@link #START_MICROS}, for a first start. */
    static AtomicLong newClock() {
        return new AtomicLong(START_MICROS);
    }

    /** Small segments and frequent snapshots, so that the read models rebuild across segments. */
    static ReadModelBank start(Path data, AtomicLong clock) throws IOException {
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig config = EngineConfig.builder(data)
                .serverKey(SERVER_KEY)
                .clock(clock::get)
                .accountNumbers(numbers::incrementAndGet)
                .segmentBytesMax(64 * 1024)
                .snapshots(100, 2, 1_000).build();
        return new ReadModelBank(config, clock);
    }

    /** Opens an account with the default balance and answers its number. */
    long open(String email, Idempotency idempotency) {
        Outcome.Committed outcome = committed(new Command.OpenAccount(0, email, PASSWORD_HASH,
                Limits.OPENING_BALANCE_DEFAULT, idempotency));
        long number = ((Event.AccountOpened) outcome.events().get(0).event()).accountNumber();
        openedSeqs.put(number, outcome.seq());
        return number;
    }

    long openVerified(String email) {
        long number = open(email, null);
        verify(number);
        return number;
    }

    void verify(long account) {
        committed(new Command.VerifyAccount(account, engine.verificationCodes().codeFor(account, openedSeq(account))));
    }

    long openedSeq(long account) {
        Long seq = openedSeqs.get(account);
        // After a restart the helper forgets; the accounts read model remembers.
        return seq != null ? seq : accounts.account(account).orElseThrow().openedSeq();
    }

    Outcome.Committed transfer(long from, long to, long amount, Idempotency idempotency) {
        return committed(new Command.TransferMoney(from, to, amount, idempotency));
    }

    Outcome.Committed withdraw(long account, long amount, Idempotency idempotency) {
        return committed(new Command.Withdraw(account, amount, idempotency));
    }

    /** Submits a command, expects it committed, and moves the clock on by one second. */
    Outcome.Committed committed(Command command) {
        Outcome outcome = engine.submit(command).join();
        assertThat(outcome).as("outcome of %s", command).isInstanceOf(Outcome.Committed.class);
        clock.addAndGet(SECOND_MICROS);
        return (Outcome.Committed) outcome;
    }

    /** Waits until every read model has applied every committed event. */
    void awaitReadModels() throws InterruptedException {
        long seq = engine.committedSeq();
        for (ReadModel model : List.<ReadModel>of(accounts, statements, operations, reports)) {
            assertThat(model.awaitSeq(seq, CATCH_UP)).as("%s catches up with seq %d", model.name(), seq).isTrue();
        }
        assertThat(engine.health().problems()).isEmpty();
    }

    /** The whole statement of an account, newest first, read page by page. */
    List<StatementEntry> wholeStatement(long account, int pageLimit) {
        return wholeStatement(statements, account, pageLimit);
    }

    /** The whole statement of an account in {@code statements}, newest first, read page by page. */
    static List<StatementEntry> wholeStatement(StatementsReadModel statements, long account, int pageLimit) {
        List<StatementEntry> entries = new ArrayList<>();
        Long before = null;
        do {
            StatementPage page = statements.page(account, pageLimit, before);
            entries.addAll(page.entries());
            before = page.nextBeforeSeq();
        } while (before != null);
        return entries;
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
