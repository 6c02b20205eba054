package eventbank.bench;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Decider;
import eventbank.core.Decision;
import eventbank.core.Event;
import eventbank.core.HmacVerificationCodes;
import eventbank.engine.journal.EventCodec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * The bank's rules alone: {@code decide} then {@code evolve} for random transfers among verified
 * accounts, in memory, on one thread, as the sequencer thread does them (no queue, no journal).
 * {@code decideEvolveEncode} adds the binary encoding of the event into a chunk buffer, which is
 * the rest of the sequencer thread's work per command.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class DecideEvolveBenchmark {
    private static final int COMMANDS = 1 << 20;
    private static final int MASK = COMMANDS - 1;

    @Param({"10000"})
    int accounts;

    private Bank bank;
    private Decider decider;
    private Command.TransferMoney[] commands;
    private ByteBuffer chunk;
    private int next;
    private long now;
    private long accepted;
    private long refused;
    private long cpuBefore;
    private long operationsBefore;

    @Setup(Level.Trial)
    public void setUp() {
        bank = Fixtures.verifiedBank(accounts);
        decider = new Decider(new HmacVerificationCodes(Fixtures.SERVER_KEY));
        commands = Fixtures.transfers(COMMANDS, accounts, 100, 42);
        chunk = ByteBuffer.allocate(128 * 1024);
        now = bank.lastTimeMicros() + 1;
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        operationsBefore = accepted + refused;
        cpuBefore = CpuMeter.currentThreadNanos();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        long cpu = CpuMeter.currentThreadNanos() - cpuBefore;
        long operations = accepted + refused - operationsBefore;
        System.out.printf(" [cpu: %.1f ns of the benchmark thread per transfer = %,.0f transfers per CPU-second]",
                cpu / (double) operations, operations / (cpu / 1e9));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        String broken = bank.checkInvariant();
        System.out.printf("%n[decide/evolve] accepted %,d, refused %,d, last seq %,d, invariant %s%n",
                accepted, refused, bank.lastSeq(), broken == null ? "holds" : broken);
        if (broken != null) {
            throw new IllegalStateException(broken);
        }
    }

    @Benchmark
    public Decision decideEvolve() {
        Command command = commands[next++ & MASK];
        long time = now++;
        Decision decision = decider.decide(bank, command, time);
        if (decision instanceof Decision.Accepted ok) {
            List<Event> events = ok.events();
            for (int i = 0; i < events.size(); i++) {
                bank.evolve(bank.lastSeq() + 1, time, events.get(i));
            }
            accepted++;
        } else {
            refused++;
        }
        return decision;
    }

    @Benchmark
    public Decision decideEvolveEncode() {
        Command command = commands[next++ & MASK];
        long time = now++;
        Decision decision = decider.decide(bank, command, time);
        if (decision instanceof Decision.Accepted ok) {
            List<Event> events = ok.events();
            for (int i = 0; i < events.size(); i++) {
                Event event = events.get(i);
                bank.evolve(bank.lastSeq() + 1, time, event);
                if (chunk.remaining() < EventCodec.RECORD_BYTES_MAX) {
                    chunk.clear();
                }
                EventCodec.encode(chunk, time, event);
            }
            accepted++;
        } else {
            refused++;
        }
        return decision;
    }
}
