package eventbank.bench;

import eventbank.core.Command;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.journal.Journal;
import eventbank.engine.write.Outcome;
import eventbank.postgres.PostgresJournal;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.ReadModel;
import eventbank.server.readmodel.ReadModels;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Durable transfers end to end through the {@link Engine} on real files: one thread submits
 * random transfers among verified accounts, keeping at most {@code inFlight} unanswered (a
 * semaphore released when the reply comes). A reply means the batch holding the transfer was
 * fsynced. The score is submissions per second, which equals replies per second since at most
 * {@code inFlight} can be outstanding.
 *
 * <p>The engine runs with the defaults a server uses (snapshotter on, snapshots every 1M
 * events), unless {@code -p snapshotter=off}. With {@code -p readModels=all} the server's four
 * read models (accounts, statements, operations, reports) follow the journal as {@code serve}
 * subscribes them (one subscription that decodes each batch once for accounts, statements and
 * operations, and one for the reports): the cost of CQRS on the write path is the CPU they take
 * from the sequencer and journal threads on the same cores, and their lag is printed.
 * Disk: about 40 bytes per transfer, so about 1 GB for a whole run; deleted at the end of each
 * trial.
 *
 * <p>With {@code -p journal=postgres} the journal is the one in PostgreSQL ({@link
 * PostgresJournal}): a PostgreSQL started from the embedded binaries in the trial's directory,
 * {@code fsync} and {@code synchronous_commit} on (its settings are printed), the accounts
 * written into it beforehand as into the files; a reply then means the batch's transaction
 * committed. {@code -p journal=file,postgres} compares the two in one run. The database and its
 * write-ahead log take about as much disk again as the journal's files, deleted likewise.
 * {@code -p notify=off} disables the trigger that NOTIFYs followers at each head move (V2), to
 * tell its cost apart.
 *
 * <p>With {@code -p batch=100} each submission is a batch of 100 transfers from one random
 * sender to random others, as the HTTP route {@code POST /api/money_transfers} submits it:
 * {@code -p decided=each} one {@code TransferMoneyOneByOne}, {@code decided=atomic} one
 * {@code TransferMoneyAtomically}. The score is then batches per second (transfers per second is
 * 100 times that, less the few refused for want of money: the CPU lines count transfers
 * recorded), and {@code inFlight} counts batches: the ceiling of the batch route without HTTP.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class DurableTransferBenchmark {
    private static final int COMMANDS = 1 << 20;

    @Param({"1", "64", "1024", "16384"})
    int inFlight;

    @Param({"10000"})
    int accounts;

    @Param({"on"})
    String snapshotter;

    @Param({"none"})
    String readModels;

    /** {@code file}: the segment files; {@code postgres}: the journal in PostgreSQL. */
    @Param({"file"})
    String journal;

    /** Transfers per submission: 1, or a batch command of that many. */
    @Param({"1"})
    int batch;

    /** With {@code batch} above 1: {@code each} (decided one by one) or {@code atomic} (all or none). */
    @Param({"each"})
    String decided;

    /** With {@code journal=postgres}: {@code on} as a cluster runs, {@code off} without the NOTIFY trigger. */
    @Param({"on"})
    String notify;

    private Path directory;
    private BenchPostgres postgres;
    private Engine engine;
    private List<ReadModel> models = List.of();
    private Command[] commands;
    private int next;
    private Window window;
    private BatchStatistics before;
    private CpuMeter.Reading cpuBefore;
    private long postgresCpuBefore;
    /** The least seq the read models had applied when the iteration started. */
    private long appliedBefore;

    /** Releases a permit per reply and counts replies that are not a commit. */
    static final class Window implements BiConsumer<Outcome, Throwable> {
        final Semaphore permits;
        final LongAdder notCommitted = new LongAdder();
        volatile Outcome lastProblem;

        Window(int size) {
            permits = new Semaphore(size);
        }

        @Override
        public void accept(Outcome outcome, Throwable failure) {
            if (!(outcome instanceof Outcome.Committed || outcome instanceof Outcome.CommittedOneByOne)) {
                notCommitted.increment();
                lastProblem = outcome;
            }
            permits.release();
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        directory = Fixtures.tempDirectory("eventbank-durable-");
        EngineConfig config = EngineConfig.builder(directory).serverKey(Fixtures.SERVER_KEY)
                .journal(buildJournal()).build();
        if (snapshotter.equals("off")) {
            config = config.toBuilder().snapshots(0, 1, 1).build();
        }
        engine = Engine.start(config);
        if (readModels.equals("all")) {
            ReadModels all = ReadModels.of(new Checkpoints(config.storage(), directory, engine::newReader,
                    engine::committedSeq, Checkpoints.EVERY_EVENTS_DEFAULT), config.idempotencyWindowMicros());
            models = all.all();
            all.subscribers().forEach(engine::subscribe);
        } else if (!readModels.equals("none")) {
            throw new IllegalArgumentException("readModels is none or all, not " + readModels);
        }
        commands = batch == 1 ? Fixtures.transfers(COMMANDS, accounts, 100, 7) : batches(accounts, batch, decided);

        window = new Window(inFlight);
    }

    /**
     * Batch commands of {@code size} transfers of 1 to 100 cents to random others, the senders in
     * turn: every account sends as many batches as it receives transfers, on average, so that
     * cycling through them drains none (a random sender per batch left some without money, and
     * refused transfers record nothing).
     */
    private static Command[] batches(int accounts, int size, String decided) {
        if (!decided.equals("each") && !decided.equals("atomic")) {
            throw new IllegalArgumentException("decided is each or atomic, not " + decided);
        }
        Command.TransferMoney[] transfers = Fixtures.transfers(COMMANDS, accounts, 100, 7);
        // A whole number of turns, so that every account sends as often as the others.
        Command[] batches = new Command[Math.max(1, COMMANDS / size / accounts) * accounts];
        for (int b = 0; b < batches.length; b++) {
            long from = Fixtures.accountNumber(b % accounts);
            List<Command.Transfer> list = new java.util.ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                Command.TransferMoney single = transfers[(b * size + i) % transfers.length];
                long to = single.toAccountNumber() != from ? single.toAccountNumber() : single.fromAccountNumber();
                list.add(new Command.Transfer(to, single.amount()));
            }
            batches[b] = decided.equals("each") ? new Command.TransferMoneyOneByOne(from, list)
                    : new Command.TransferMoneyAtomically(from, list, null);
        }
        return batches;
    }

    /** Writes the accounts into the journal chosen, and answers how the engine opens it (null: the files). */
    private Journal.Opener buildJournal() throws Exception {
        switch (journal) {
            case "file" -> {
                JournalBuilder.build(directory, accounts, 0, 4_000, 1);
                return null;
            }
            case "postgres" -> {
                postgres = BenchPostgres.start(directory);
                PostgresJournalConfig database = PostgresJournalConfig.of(postgres.url(), null, null, "bench");
                try (Journal built = PostgresJournal.open(database, 0, null, batch -> { }, (last, hash, torn) -> { })) {
                    JournalBuilder.build(built, accounts, 0, 4_000, 1);
                }
                if (notify.equals("off")) {
                    postgres.execute("ALTER TABLE eventbank_head DISABLE TRIGGER eventbank_head_moved");
                } else if (!notify.equals("on")) {
                    throw new IllegalArgumentException("notify is on or off, not " + notify);
                }
                return PostgresJournal.opener(database);
            }
            default -> throw new IllegalArgumentException("journal is file or postgres, not " + journal);
        }
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        before = BatchStatistics.of(engine.sequencer().statistics());
        cpuBefore = CpuMeter.read();
        postgresCpuBefore = postgres == null ? 0 : postgres.cpuMicros();
        appliedBefore = leastApplied();
    }

    private long leastApplied() {
        return models.stream().mapToLong(ReadModel::appliedSeq).min().orElse(0);
    }

    @TearDown(Level.Iteration)
    public void endIteration() throws InterruptedException {
        BatchStatistics after = BatchStatistics.of(engine.sequencer().statistics());
        CpuMeter.Reading cpuAfter = CpuMeter.read();
        long appliedAfter = leastApplied();
        long postgresCpu = postgres == null ? 0 : postgres.cpuMicros() - postgresCpuBefore;
        window.permits.acquire(inFlight); // let the outstanding ones finish
        window.permits.release(inFlight);
        long events = Math.max(1, after.events() - before.events());
        System.out.printf("%n[batches inFlight=%d] %s%n[cpu inFlight=%d] %s%n", inFlight,
                after.since(before, engine.sequencer().statistics()), inFlight,
                CpuMeter.perOperation(cpuBefore, cpuAfter, events, "transfer"));
        if (postgres != null) {
            // The CPU meter counts this JVM only; the journal's work is in PostgreSQL's processes too.
            System.out.printf("[postgres cpu inFlight=%d] %,d ns per transfer%n", inFlight, postgresCpu * 1_000 / events);
        }
        long committed = engine.committedSeq();
        if (!models.isEmpty()) {
            // The read models' CPU above is per event committed; when they fall behind, they
            // applied fewer: this tells their CPU per event applied.
            System.out.printf("[read models] %,d events applied in the iteration, %,d committed%n",
                    appliedAfter - appliedBefore, events);
        }
        for (ReadModel model : models) {
            System.out.printf("[read model %s] %,d events behind at the iteration's end%n", model.name(),
                    committed - model.appliedSeq());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        long committed = engine.committedSeq();
        engine.close();
        long bytes = Fixtures.bytesUnder(directory);
        if (postgres != null) {
            System.out.printf("[postgres] database %,.0f MB%n", postgres.databaseBytes() / 1e6);
            postgres.close();
        }
        Fixtures.deleteRecursively(directory);
        System.out.printf("[trial] committed seq %,d, %,.0f MB on disk (deleted), replies not committed: %,d%s%n",
                committed, bytes / 1e6, window.notCommitted.sum(),
                window.lastProblem == null ? "" : " (last: " + window.lastProblem + ")");
        if (window.lastProblem instanceof Outcome.Unavailable) {
            throw new IllegalStateException("the engine failed or was busy: " + window.lastProblem);
        }
    }

    @Benchmark
    public void transfer() throws InterruptedException {
        window.permits.acquire();
        engine.submit(commands[next++ % commands.length]).whenComplete(window);
    }
}
