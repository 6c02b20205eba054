package eventbank.bench;

import eventbank.core.Command;
import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * Durable account openings through the engine (sequencer, journal, fsync), {@value #IN_FLIGHT}
 * in flight, with the personal fields sealed under a new data key each (issue 16: a key written
 * to the key store, forced before the batch) or in plain text as before. The password hash is
 * given: bcrypt, which the HTTP layer runs before the engine sees an opening, is not measured.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar OpeningBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
public class OpeningBenchmark {
    static final int IN_FLIGHT = 512;

    @Param({"false", "true"})
    boolean sealed;

    private Path directory;
    private Engine engine;
    private final AtomicLong emails = new AtomicLong();
    private final AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        directory = Fixtures.tempDirectory("eventbank-openings-");
        engine = Engine.start(EngineConfig.builder(directory).serverKey(Fixtures.SERVER_KEY)
                .accountNumbers(numbers::incrementAndGet).snapshots(0, 1, 1).sealPersonalData(sealed).build());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        engine.close();
        Fixtures.deleteRecursively(directory);
    }

    @Benchmark
    @OperationsPerInvocation(IN_FLIGHT)
    public void open() {
        @SuppressWarnings("unchecked")
        CompletableFuture<Outcome>[] replies = new CompletableFuture[IN_FLIGHT];
        for (int i = 0; i < IN_FLIGHT; i++) {
            replies[i] = engine.submit(new Command.OpenAccount(0, "holder" + emails.incrementAndGet() + "@example.com",
                    "$2a$12$abcdefghijklmnopqrstuuOPJKLMNOPQRSTUVWXYZabcdefghijkl", Limits.OPENING_BALANCE_DEFAULT,
                    null));
        }
        for (CompletableFuture<Outcome> reply : replies) {
            if (!(reply.join() instanceof Outcome.Committed)) {
                throw new IllegalStateException("an opening was not committed: " + reply.join());
            }
        }
    }
}
