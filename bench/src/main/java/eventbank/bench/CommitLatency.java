package eventbank.bench;

import eventbank.core.Command;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Commit latency at a fixed offered rate, open loop: submissions are scheduled at fixed
 * intervals and each latency is measured from its <em>intended</em> send time (so a stall of
 * the submitter or the engine counts against the engine, no coordinated omission), up to the
 * durable reply. The rate is a fraction of the peak, which is measured first (closed loop,
 * {@code --in-flight} outstanding, as in DurableTransferBenchmark).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.CommitLatency \
 *      [--fractions 0.5,0.1] [--rate N (skip the peak phase)] [--peak-seconds 10] \
 *      [--warmup-seconds 5] [--seconds 20] [--in-flight 16384] [--snapshotter on|off]
 * </pre>
 *
 * Disk: about 40 bytes per transfer (a few hundred MB); the data directory is deleted at the end.
 */
public final class CommitLatency {
    private static final int COMMANDS = 1 << 20;
    private static final int MASK = COMMANDS - 1;
    private static final int ACCOUNTS = 10_000;

    private final Engine engine;
    private final Command.TransferMoney[] commands = Fixtures.transfers(COMMANDS, ACCOUNTS, 100, 11);
    private long next;

    private CommitLatency(Engine engine) {
        this.engine = engine;
    }

    public static void main(String[] args) throws Exception {
        double rate = 0;
        String fractions = "0.5";
        int peakSeconds = 10;
        int warmupSeconds = 5;
        int seconds = 20;
        int inFlight = 16_384;
        boolean snapshotter = true;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--rate" -> rate = Double.parseDouble(value);
                case "--fractions" -> fractions = value;
                case "--peak-seconds" -> peakSeconds = Integer.parseInt(value);
                case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(value);
                case "--seconds" -> seconds = Integer.parseInt(value);
                case "--in-flight" -> inFlight = Integer.parseInt(value);
                case "--snapshotter" -> snapshotter = value.equals("on");
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path directory = Fixtures.tempDirectory("eventbank-latency-");
        try {
            JournalBuilder.build(directory, ACCOUNTS, 0, 4_000, 1);
            EngineConfig config = EngineConfig.builder(directory).serverKey(Fixtures.SERVER_KEY).build();
            if (!snapshotter) {
                config = config.toBuilder().snapshots(0, 1, 1).build();
            }
            try (Engine engine = Engine.start(config)) {
                CommitLatency run = new CommitLatency(engine);
                if (rate <= 0) {
                    run.closedLoop(inFlight, warmupSeconds, false);
                    double peak = run.closedLoop(inFlight, peakSeconds, true);
                    for (String fraction : fractions.split(",")) {
                        run.openLoop(peak * Double.parseDouble(fraction), warmupSeconds, seconds,
                                "fraction " + fraction + " of the peak");
                    }
                } else {
                    run.openLoop(rate, warmupSeconds, seconds, "fixed rate");
                }
                System.out.printf(Locale.ROOT, "%ndata directory: %,.0f MB (deleted now)%n",
                        Fixtures.bytesUnder(directory) / 1e6);
            }
        } finally {
            Fixtures.deleteRecursively(directory);
        }
    }

    /** Keeps {@code inFlight} submissions outstanding for a while; answers replies per second. */
    private double closedLoop(int inFlight, int seconds, boolean report) throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        LongAdder problems = new LongAdder();
        BatchStatistics before = BatchStatistics.of(engine.sequencer().statistics());
        CpuMeter.Reading cpuBefore = CpuMeter.read();
        long started = System.nanoTime();
        long end = started + seconds * 1_000_000_000L;
        long count = 0;
        while ((count & 1023) != 0 || System.nanoTime() < end) {
            permits.acquire();
            engine.submit(commands[(int) (next++ & MASK)]).whenComplete((outcome, failure) -> {
                if (!(outcome instanceof Outcome.Committed)) {
                    problems.increment();
                }
                permits.release();
            });
            count++;
        }
        permits.acquire(inFlight);
        long elapsed = System.nanoTime() - started;
        BatchStatistics after = BatchStatistics.of(engine.sequencer().statistics());
        CpuMeter.Reading cpuAfter = CpuMeter.read();
        double perSecond = count / (elapsed / 1e9);
        if (report) {
            System.out.printf(Locale.ROOT, "%n== peak, closed loop, %d in flight, %d s ==%n%,.0f transfers/s, not committed %d%n%s%n%s%n",
                    inFlight, seconds, perSecond, problems.sum(), after.since(before, engine.sequencer().statistics()),
                    CpuMeter.perOperation(cpuBefore, cpuAfter, count, "transfer"));
        }
        return perSecond;
    }

    /** Submits at {@code rate} per second on a fixed schedule and prints the latency percentiles. */
    private void openLoop(double rate, int warmupSeconds, int seconds, String label) throws InterruptedException {
        Recorder fromIntended = new Recorder(3);
        Recorder fromSent = new Recorder(3);
        LongAdder problems = new LongAdder();
        AtomicLong outstanding = new AtomicLong();
        double interval = 1e9 / rate;
        long start = System.nanoTime() + 1_000_000;
        long measureFrom = start + warmupSeconds * 1_000_000_000L;
        long end = measureFrom + seconds * 1_000_000_000L;
        BatchStatistics before = null;
        CpuMeter.Reading cpuBefore = null;
        long sent = 0;
        long measuredSent = 0;
        long maxOutstanding = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= end) {
                break;
            }
            if (before == null && now >= measureFrom) {
                before = BatchStatistics.of(engine.sequencer().statistics());
                cpuBefore = CpuMeter.read();
            }
            long due = (long) ((now - start) / interval) + 1;
            while (sent < due) {
                long intended = start + (long) (sent * interval);
                boolean measured = intended >= measureFrom;
                long sentAt = System.nanoTime();
                outstanding.incrementAndGet();
                engine.submit(commands[(int) (next++ & MASK)]).whenComplete((outcome, failure) -> {
                    long done = System.nanoTime();
                    if (measured) {
                        // Only commits count: a busy answer comes at once and would flatter the histogram.
                        if (outcome instanceof Outcome.Committed) {
                            fromIntended.recordValue(done - intended);
                            fromSent.recordValue(done - sentAt);
                        } else {
                            problems.increment();
                        }
                    }
                    outstanding.decrementAndGet();
                });
                sent++;
                if (measured) {
                    measuredSent++;
                }
            }
            maxOutstanding = Math.max(maxOutstanding, outstanding.get());
            LockSupport.parkNanos(100_000); // submissions go out in bursts of about 0.1 ms; latency counts from the schedule anyway
        }
        BatchStatistics after = BatchStatistics.of(engine.sequencer().statistics());
        CpuMeter.Reading cpuAfter = CpuMeter.read();
        while (outstanding.get() > 0) {
            Thread.sleep(1);
        }
        Histogram intended = fromIntended.getIntervalHistogram();
        Histogram actual = fromSent.getIntervalHistogram();
        System.out.printf(Locale.ROOT, "%n== open loop, %s: %,.0f transfers/s offered, %d s after %d s of warm-up ==%n",
                label, rate, seconds, warmupSeconds);
        System.out.printf(Locale.ROOT, "sent %,d (%,.0f/s), not committed (busy) %,d = %.2f%%, most outstanding %,d%n",
                measuredSent, measuredSent / (double) seconds, problems.sum(), 100.0 * problems.sum() / measuredSent,
                maxOutstanding);
        print("latency from intended send time", intended);
        print("latency from actual send time  ", actual);
        System.out.println(after.since(before, engine.sequencer().statistics()));
        System.out.println(CpuMeter.perOperation(cpuBefore, cpuAfter, Math.max(1, measuredSent), "transfer"));
    }

    private static void print(String label, Histogram histogram) {
        System.out.printf(Locale.ROOT, "%s (ms): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%,d)%n", label,
                histogram.getValueAtPercentile(50) / 1e6, histogram.getValueAtPercentile(90) / 1e6,
                histogram.getValueAtPercentile(99) / 1e6, histogram.getValueAtPercentile(99.9) / 1e6,
                histogram.getMaxValue() / 1e6, histogram.getTotalCount());
    }
}
