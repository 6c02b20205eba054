package eventbank.bench;

import eventbank.core.Bank;
import eventbank.core.EmailDigests;
import eventbank.core.Limits;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.storage.FileStorage;
import java.io.IOException;
import java.nio.file.Path;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Full replay: read the whole journal from seq 0 with {@link JournalReader} (checksums always,
 * the SHA-256 chain when {@code verifyChain}) and evolve every event into a new {@link Bank},
 * as start-up without a snapshot does. The score is events per second
 * ({@link OperationsPerInvocation} = events in the journal).
 *
 * <p>The journal ({@value #ACCOUNTS} accounts opened and verified, then transfers up to
 * {@value #EVENTS} events, in batches of {@value #BATCH_EVENTS} events, about 120 MB) is
 * written once per trial through {@code Journal.append} and deleted after. It stays in the page
 * cache, so this measures the CPU side of replay, not the disk.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
public class ReplayBenchmark {
    static final int ACCOUNTS = 100_000;
    static final int EVENTS = 3_000_000;
    static final int BATCH_EVENTS = 4_000;

    @Param({"false", "true"})
    boolean verifyChain;

    /** The openings sealed (issue 16: replayed with the key store, the digest read from it) or in plain text. */
    @Param({"false", "true"})
    boolean sealed;

    private PersonalKeys keys;

    private Path directory;
    private Path journalDirectory;
    private final FileStorage storage = new FileStorage();
    private String expectedDigest;
    private EmailDigests digests;
    private long invocations;
    private long invocationsBefore;
    private long cpuBefore;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        directory = Fixtures.tempDirectory("eventbank-replay-");
        long started = System.nanoTime();
        JournalBuilder.Built built = JournalBuilder.build(directory, ACCOUNTS, EVENTS - 2L * ACCOUNTS, BATCH_EVENTS, 3,
                false, sealed);
        keys = sealed ? PersonalKeys.open(directory, null, false) : null;
        digests = built.bank().emailDigests();
        if (built.lastSeq() != EVENTS) {
            throw new IllegalStateException("built " + built.lastSeq() + " events");
        }
        expectedDigest = built.bank().stateDigest();
        journalDirectory = directory.resolve("journal");
        System.out.printf("%n[replay] journal of %,d events in %,d batches, %,.1f MB, written in %.1f s%n",
                built.lastSeq(), built.batches(), built.bytes() / 1e6, (System.nanoTime() - started) / 1e9);
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        invocationsBefore = invocations;
        cpuBefore = CpuMeter.currentThreadNanos();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        long cpu = CpuMeter.currentThreadNanos() - cpuBefore;
        long events = (invocations - invocationsBefore) * EVENTS;
        System.out.printf(" [cpu: %.1f ns of the replaying thread per event = %,.0f events per CPU-second]",
                cpu / (double) events, events / (cpu / 1e9));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        // One last replay checks that the benchmark rebuilt the very state that was written.
        String digest = replay(null).stateDigest();
        if (keys != null) {
            keys.close();
        }
        Fixtures.deleteRecursively(directory);
        if (!digest.equals(expectedDigest)) {
            throw new IllegalStateException("replay rebuilt another state");
        }
    }

    /** Read, check, decode and evolve: what start-up does without a snapshot. */
    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public Bank replay() throws IOException {
        return replay(null);
    }

    /** Read, check and decode only, to split the time between the journal and the bank. */
    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public void readDecode(Blackhole blackhole) throws IOException {
        replay(blackhole);
    }

    private Bank replay(Blackhole blackhole) throws IOException {
        invocations++;
        Bank bank = new Bank(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT, digests.copy());
        try (JournalReader reader = new JournalReader(storage, journalDirectory, verifyChain)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                if (blackhole == null) {
                    batch.forEach(keys, bank::evolve);
                } else {
                    batch.forEach(keys, blackhole::consume);
                }
            }
            if (reader.nextSeq() != EVENTS + 1L || reader.tornTail() != null) {
                throw new IllegalStateException("replay stopped at seq " + reader.nextSeq());
            }
        }
        return bank;
    }
}
