package eventbank.bench;

import eventbank.engine.keys.PersonalKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The key store's calls on one thread, in nanoseconds per call (issue 16): {@code sealNew} (a new
 * data key wrapped by the KEK, the email's keyed digest, the fields sealed, the slot written in
 * place, no fsync: the caller forces once per batch), {@code open} (the slot read, the data key
 * unwrapped, the fields opened), {@code storedEmailDigest} (what replay calls for every opening:
 * a slot read from the mapped file, its checksum checked) and {@code emailDigest}. Slots cycle
 * over {@code accounts}, so that the store's file stays the same size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PersonalKeysBenchmark {
    private static final String HASH = "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";

    @Param({"100000"})
    int accounts;

    private Path directory;
    private PersonalKeys keys;
    private byte[][] sealed;
    private String[] emails;
    private int next;
    private long calls;
    private long callsBefore;
    private long cpuBefore;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        directory = Files.createTempDirectory("eventbank-keys-bench");
        keys = PersonalKeys.open(directory, null, true);
        sealed = new byte[accounts][];
        emails = new String[accounts];
        for (int slot = 0; slot < accounts; slot++) {
            emails[slot] = "holder" + slot + "@example.com";
            sealed[slot] = keys.sealNew(slot, accountOf(slot), emails[slot], HASH);
        }
        keys.force();
    }

    private static long accountOf(int slot) {
        return 1_000_000_000_000_000L + slot;
    }

    /**
     * The CPU time of the benchmark thread per call, printed after each iteration: the cost
     * whatever share of the shared machine the run got (BENCHMARKS.md, "Machine and method").
     */
    @Setup(Level.Iteration)
    public void startIteration() {
        callsBefore = calls;
        cpuBefore = CpuMeter.currentThreadNanos();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        long cpu = CpuMeter.currentThreadNanos() - cpuBefore;
        System.out.printf(" [cpu: %.1f ns of the benchmark thread per call]", cpu / (double) (calls - callsBefore));
    }

    private int nextSlot() {
        calls++;
        int slot = next;
        next = slot + 1 == accounts ? 0 : slot + 1;
        return slot;
    }

    @Benchmark
    public byte[] sealNew() throws IOException {
        int slot = nextSlot();
        byte[] bytes = keys.sealNew(slot, accountOf(slot), emails[slot], HASH);
        sealed[slot] = bytes;
        return bytes;
    }

    @Benchmark
    public PersonalKeys.Opened open() throws IOException {
        int slot = nextSlot();
        return keys.open(slot, accountOf(slot), sealed[slot]);
    }

    @Benchmark
    public long[] storedEmailDigest() throws IOException {
        int slot = nextSlot();
        return keys.storedEmailDigest(slot, accountOf(slot));
    }

    @Benchmark
    public long[] emailDigest() {
        return keys.emailDigest(emails[nextSlot()]);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        keys.close();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }
}
