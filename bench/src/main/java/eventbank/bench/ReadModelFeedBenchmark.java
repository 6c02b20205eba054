package eventbank.bench;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.subscription.Subscriber;
import eventbank.server.readmodel.AccountsReadModel;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.OperationsReadModel;
import eventbank.server.readmodel.ReadModelFeed;
import eventbank.server.readmodel.ReadModels;
import eventbank.server.readmodel.ReportsReadModel;
import eventbank.server.readmodel.StatementsReadModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The four read models of a server (accounts, statements, operations, reports) fed as the
 * server feeds them, through one {@code ReadModelFeed}, on the benchmark's thread: events already
 * decoded (the subscription's reading and decoding is not in the score), a batch of
 * {@value #TRANSFERS_PER_BATCH} transfers among {@code accounts} verified accounts and its end
 * per invocation, about the batches {@code DurableTransferBenchmark} commits at
 * {@code inFlight=16384}. The score is the time per transfer; the thread's CPU per transfer is
 * printed per iteration. The models keep their checkpoints and the statements' entries file in a
 * temporary directory in /tmp (as a server does), made again for each iteration, so that the
 * entries file stays within a few GB; no checkpoint is written unless an iteration lasts a minute.
 * Run with {@code java -jar bench/target/benchmarks.jar ReadModelFeedBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ReadModelFeedBenchmark {
    private static final int TRANSFERS_PER_BATCH = 8_000;
    private static final int TRANSFERS = 1 << 20;
    private static final byte[] CHAIN_HASH = new byte[32];

    @Param({"10000", "1000000"})
    int accounts;

    /** {@code file}: the models keep checkpoints, the entries in a file, as a server's do; {@code heap}: in memory only. */
    @Param({"file"})
    String store;

    private Event[] transfers;
    private int next;
    private Path directory;
    private Subscriber feed;
    private long seq;
    private long seqBefore;
    private long cpuBefore;

    @Setup(Level.Trial)
    public void makeTransfers() {
        Command.TransferMoney[] commands = Fixtures.transfers(TRANSFERS, accounts, 100, 7);
        transfers = new Event[TRANSFERS];
        for (int i = 0; i < TRANSFERS; i++) {
            Command.TransferMoney command = commands[i];
            transfers[i] = new Event.MoneyTransferred(command.fromAccountNumber(), command.toAccountNumber(),
                    command.amount(), null);
        }
    }

    @Setup(Level.Iteration)
    public void newModels() throws Exception {
        switch (store) {
            case "file" -> {
                directory = Fixtures.tempDirectory("eventbank-feed-");
                Checkpoints checkpoints = new Checkpoints(new FileStorage(), directory, () -> {
                    throw new UnsupportedOperationException("no journal");
                }, () -> 0, Long.MAX_VALUE);
                feed = ReadModels.of(checkpoints, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT).subscribers().getFirst();
            }
            case "heap" -> {
                directory = null;
                feed = new ReadModelFeed(List.of(new AccountsReadModel(), new StatementsReadModel(),
                        new OperationsReadModel(), new ReportsReadModel()));
            }
            default -> throw new IllegalArgumentException("store is file or heap, not " + store);
        }
        seq = 0;
        feed.start();
        for (int i = 0; i < accounts; i++) {
            apply(Fixtures.opened(i));
        }
        feed.onBatchEnd(seq, CHAIN_HASH);
        for (int i = 0; i < accounts; i++) {
            apply(new Event.AccountVerified(Fixtures.accountNumber(i)));
        }
        feed.onBatchEnd(seq, CHAIN_HASH);
        seqBefore = seq;
        cpuBefore = CpuMeter.currentThreadNanos();
    }

    /** The thread's CPU per transfer: less than the time per transfer on a machine shared with others. */
    @TearDown(Level.Iteration)
    public void dropModels() throws IOException {
        long cpu = CpuMeter.currentThreadNanos() - cpuBefore;
        System.out.printf(" [cpu: %.1f ns per transfer]", cpu / (double) (seq - seqBefore));
        feed = null;
        if (directory != null) {
            Fixtures.deleteRecursively(directory);
        }
    }

    private void apply(Event event) throws Exception {
        seq++;
        feed.onEvent(new Recorded(seq, Fixtures.EPOCH_MICROS + seq, event));
    }

    /** One commit batch of transfers and its end: the score is per transfer. */
    @Benchmark
    @OperationsPerInvocation(TRANSFERS_PER_BATCH)
    public long batch() throws Exception {
        for (int i = 0; i < TRANSFERS_PER_BATCH; i++) {
            apply(transfers[next++ & (TRANSFERS - 1)]);
        }
        feed.onBatchEnd(seq, CHAIN_HASH);
        return seq;
    }
}
