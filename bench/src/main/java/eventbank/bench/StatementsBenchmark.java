package eventbank.bench;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.storage.FileStorage;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.StatementPage;
import eventbank.server.readmodel.StatementsReadModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
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
 * The statements read model alone, fed on the benchmark's thread as the read-models feed feeds
 * it (events already decoded, a batch end after each commit batch):
 * <ul>
 *   <li>{@code append}: the cost of one statement entry (a transfer makes two), in batches of
 *       2,000 transfers among {@code accounts} verified accounts (10,000 as in {@code
 *       DurableTransferBenchmark}, and 1,000,000, where every account is a cache miss); the model
 *       is made again for each iteration, so that its entries stay within a few GB;</li>
 *   <li>{@code firstPage} and {@code deepPage}: a page of 20 entries of a random account among
 *       10,000 with about 1,000 entries each: the newest, and one before a {@code before_seq}
 *       within the oldest tenth of the history.</li>
 * </ul>
 * {@code -p store=file} keeps the entries in {@code readmodels/statements.entries} under a
 * temporary directory in /tmp (as a server does), {@code heap} in the heap (the model without
 * checkpoints, for tests). Run with
 * {@code java -jar bench/target/benchmarks.jar StatementsBenchmark -p store=heap,file}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StatementsBenchmark {
    private static final int TRANSFERS_PER_BATCH = 2_000;
    private static final int TRANSFERS = 1 << 20;
    private static final byte[] CHAIN_HASH = new byte[32];
    private static final int PAGE_LIMIT = 20;

    /** A model being fed transfers, made again for each iteration. */
    @State(Scope.Benchmark)
    public static class Appending {
        @Param({"heap", "file"})
        String store;
        @Param({"10000", "1000000"})
        int accounts;

        Feeder feeder;
        private Event[] transfers;
        private int next;
        private long seqBefore;
        private long cpuBefore;

        @Setup(Level.Trial)
        public void makeTransfers() {
            transfers = transferEvents(TRANSFERS, accounts, 1);
        }

        @Setup(Level.Iteration)
        public void newModel() throws IOException {
            feeder = new Feeder(store, accounts);
            seqBefore = feeder.seq;
            cpuBefore = CpuMeter.currentThreadNanos();
        }

        /** The thread's CPU per entry: less than the time per entry on a machine shared with others. */
        @TearDown(Level.Iteration)
        public void dropModel() throws IOException {
            long cpu = CpuMeter.currentThreadNanos() - cpuBefore;
            System.out.printf(" [cpu: %.1f ns per entry]", cpu / (2.0 * (feeder.seq - seqBefore)));
            feeder.close();
            feeder = null;
        }

        Event nextTransfer() {
            return transfers[next++ & (TRANSFERS - 1)];
        }
    }

    /** A model holding about 1,000 entries for each of 10,000 accounts, made once. */
    @State(Scope.Benchmark)
    public static class Paging {
        private static final int ACCOUNTS = 10_000;
        private static final int TRANSFERS_TOTAL = 5_000_000;

        @Param({"heap", "file"})
        String store;

        Feeder feeder;
        private long oldestTenthSeq;
        private final SplittableRandom random = new SplittableRandom(5);

        @Setup(Level.Trial)
        public void fill() throws IOException {
            feeder = new Feeder(store, ACCOUNTS);
            Event[] transfers = transferEvents(TRANSFERS, ACCOUNTS, 2);
            long firstSeq = feeder.seq + 1;
            for (int done = 0; done < TRANSFERS_TOTAL; done += TRANSFERS_PER_BATCH) {
                for (int i = 0; i < TRANSFERS_PER_BATCH; i++) {
                    feeder.apply(transfers[(done + i) & (TRANSFERS - 1)]);
                }
                feeder.endBatch();
            }
            oldestTenthSeq = firstSeq + TRANSFERS_TOTAL / 10;
        }

        @TearDown(Level.Trial)
        public void drop() throws IOException {
            feeder.close();
        }

        long randomAccount() {
            return Fixtures.accountNumber(random.nextInt(ACCOUNTS));
        }

        long randomOldSeq() {
            return oldestTenthSeq - random.nextInt(TRANSFERS_TOTAL / 10);
        }
    }

    /** A model, its directory (for a file), and the seq of the last event fed. */
    static final class Feeder implements AutoCloseable {
        final StatementsReadModel model;
        private final Path directory;
        long seq;

        Feeder(String store, int accounts) throws IOException {
            switch (store) {
                case "heap" -> {
                    directory = null;
                    model = new StatementsReadModel();
                }
                case "file" -> {
                    directory = Fixtures.tempDirectory("eventbank-statements-");
                    // No checkpoint is ever read; one is written only if a run lasts a minute.
                    model = new StatementsReadModel(new Checkpoints(new FileStorage(), directory, () -> {
                        throw new UnsupportedOperationException("no journal");
                    }, () -> 0, Long.MAX_VALUE));
                }
                default -> throw new IllegalArgumentException("store is heap or file, not " + store);
            }
            model.start();
            for (int i = 0; i < accounts; i++) {
                apply(Fixtures.opened(i));
            }
            for (int i = 0; i < accounts; i++) {
                apply(new Event.AccountVerified(Fixtures.accountNumber(i)));
            }
            endBatch();
        }

        void apply(Event event) {
            seq++;
            model.onEvent(new Recorded(seq, Fixtures.EPOCH_MICROS + seq, event));
        }

        void endBatch() {
            try {
                model.onBatchEnd(seq, CHAIN_HASH);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() throws IOException {
            if (directory != null) {
                Fixtures.deleteRecursively(directory);
            }
        }
    }

    private static Event[] transferEvents(int count, int accounts, long seed) {
        Command.TransferMoney[] commands = Fixtures.transfers(count, accounts, 100, seed);
        Event[] events = new Event[count];
        for (int i = 0; i < count; i++) {
            Command.TransferMoney command = commands[i];
            events[i] = new Event.MoneyTransferred(command.fromAccountNumber(), command.toAccountNumber(),
                    command.amount(), null);
        }
        return events;
    }

    /** One commit batch of transfers and its end: the score is per entry (two a transfer). */
    @Benchmark
    @OperationsPerInvocation(2 * TRANSFERS_PER_BATCH)
    public long append(Appending state) {
        Feeder feeder = state.feeder;
        for (int i = 0; i < TRANSFERS_PER_BATCH; i++) {
            feeder.apply(state.nextTransfer());
        }
        feeder.endBatch();
        return feeder.seq;
    }

    @Benchmark
    public StatementPage firstPage(Paging state) {
        return state.feeder.model.page(state.randomAccount(), PAGE_LIMIT, null);
    }

    @Benchmark
    public StatementPage deepPage(Paging state) {
        return state.feeder.model.page(state.randomAccount(), PAGE_LIMIT, state.randomOldSeq());
    }
}
