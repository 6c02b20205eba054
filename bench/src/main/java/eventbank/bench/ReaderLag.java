package eventbank.bench;

import eventbank.core.Command;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.cluster.ClusterNode;
import eventbank.engine.journal.Journal;
import eventbank.engine.write.Outcome;
import eventbank.postgres.PostgresJournal;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresSharedJournal;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * How far a reader node of cluster mode is behind its leader under load (DESIGN.md, "Cluster
 * mode": a reader at most 50 ms behind, p99, at 100,000 transfers/s). One JVM runs a PostgreSQL
 * ({@link BenchPostgres}: fsync and synchronous_commit on), a leader {@link Engine} and a reader
 * {@code Engine} ({@code node.mode=reader}) on the same database, each with a data directory of
 * its own and the engine's defaults (snapshotter on), no read models. Transfers among
 * {@code --accounts} verified accounts go to the leader at a fixed rate, submitted without
 * waiting for replies (open loop, as {@link CommitLatency}).
 *
 * <p>For every batch the leader commits (its sequencer's commit listener: the time the commit
 * returned, and its last seq), the lag is the time until the reader's committed seq reaches that
 * seq. Both engines are in this JVM, so both times come from the same {@link System#nanoTime}
 * clock; a watcher thread reads the reader's committed seq every 50 µs, which bounds the
 * resolution. The report has the lag per commit and per transfer (each commit weighed by its
 * events), and how long each commit waited for the leader to publish it: a reader shows only up
 * to the head's durable seq, which the leader's next batch (or, once commands stop, its
 * heartbeat) moves to the seq before it.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.ReaderLag [--rate 100000] [--seconds 20] \
 *      [--warmup-seconds 5] [--accounts 10000] [--poll-interval PT0.1S] [--journal-url URL]
 * </pre>
 *
 * {@code --journal-url}: an empty database of a running PostgreSQL instead of starting one.
 * Disk: about 100 bytes per transfer, the database's write-ahead log included (about 250 MB for
 * 25 s at 100,000/s, up to PostgreSQL's max_wal_size of 1 GB more in longer runs); the
 * directory, PostgreSQL's data included, is deleted at the end.
 */
public final class ReaderLag {
    private static final int COMMANDS = 1 << 20;
    private static final int MASK = COMMANDS - 1;
    /** How often the watcher reads the reader's committed seq: the resolution of the lag. */
    private static final long WATCH_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    /** How long the reader may take to catch up once the load stops, before the run fails. */
    private static final long CATCH_UP_NANOS_MAX = TimeUnit.SECONDS.toNanos(30);
    private static final Duration LEASE = PostgresJournalConfig.LEASE_DEFAULT;

    /**
     * @param journalUrl an empty database to use, or null to start a PostgreSQL in the run's directory
     */
    public record Options(double rate, int seconds, int warmupSeconds, int accounts, Duration pollInterval,
                          String journalUrl) {
        static Options parse(String[] args) {
            double rate = 100_000;
            int seconds = 20;
            int warmupSeconds = 5;
            int accounts = 10_000;
            Duration pollInterval = Duration.ofMillis(100);
            String journalUrl = null;
            for (int i = 0; i < args.length; i += 2) {
                String value = args[i + 1];
                switch (args[i]) {
                    case "--rate" -> rate = Double.parseDouble(value);
                    case "--seconds" -> seconds = Integer.parseInt(value);
                    case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(value);
                    case "--accounts" -> accounts = Integer.parseInt(value);
                    case "--poll-interval" -> pollInterval = Duration.parse(value);
                    case "--journal-url" -> journalUrl = value;
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            return new Options(rate, seconds, warmupSeconds, accounts, pollInterval, journalUrl);
        }
    }

    /**
     * What a run measured, over the commits of the measured seconds.
     *
     * @param committedPerSecond  events the leader committed per second of the measured time: the
     *                            rate achieved
     * @param committed           transfers sent in the measured time that were committed
     * @param notCommitted        those answered otherwise (busy)
     * @param lagPerCommit        nanoseconds from each leader commit to the reader showing it
     * @param lagPerTransfer      the same, each commit counted once per event it holds
     * @param publishedPerCommit  nanoseconds from each commit to the leader's next commit, which
     *                            publishes it as durable (commits published by a heartbeat left out)
     * @param shownAfterPublished nanoseconds from that next commit to the reader showing the commit:
     *                            the reader's part of the lag (NOTIFY, its reads, applying)
     * @param replyLatency        nanoseconds from each transfer's intended send time to its reply
     * @param batches             the leader's batch statistics over the measured seconds
     * @param readerHoldsLeaders  at the end, the reader's committed seq and chain hash were the leader's
     */
    public record Report(double offeredPerSecond, double committedPerSecond, long committed, long notCommitted,
                         Histogram lagPerCommit, Histogram lagPerTransfer, Histogram publishedPerCommit,
                         Histogram shownAfterPublished, Histogram replyLatency, String batches, long leaderSeq, boolean readerHoldsLeaders) {

        void print(PrintStream out) {
            out.printf(Locale.ROOT, "offered %,.0f transfers/s, committed %,.0f/s; of those sent in the measured"
                    + " time %,d committed, %,d not%n", offeredPerSecond, committedPerSecond, committed, notCommitted);
            out.println("leader: " + batches);
            print(out, "reader lag per commit          ", lagPerCommit);
            print(out, "reader lag per transfer        ", lagPerTransfer);
            print(out, "commit to next commit (publish)", publishedPerCommit);
            print(out, "next commit to reader showing  ", shownAfterPublished);
            print(out, "leader reply from intended send", replyLatency);
            out.printf(Locale.ROOT, "at the end: leader seq %,d, reader at the same seq and chain hash: %s%n",
                    leaderSeq, readerHoldsLeaders);
        }

        private static void print(PrintStream out, String label, Histogram histogram) {
            out.printf(Locale.ROOT, "%s (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (n=%,d)%n",
                    label, histogram.getValueAtPercentile(50) / 1e6, histogram.getValueAtPercentile(90) / 1e6,
                    histogram.getValueAtPercentile(99) / 1e6, histogram.getValueAtPercentile(99.9) / 1e6,
                    histogram.getMaxValue() / 1e6, histogram.getTotalCount());
        }
    }

    /** A batch the leader committed: its last seq and when the commit returned. */
    private record Commit(long seq, long nanos) {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        System.out.printf(Locale.ROOT, "reader lag: %,.0f transfers/s for %d s after %d s of warm-up, %,d accounts,"
                + " poll interval %s%n", options.rate(), options.seconds(), options.warmupSeconds(),
                options.accounts(), options.pollInterval());
        run(options, System.out).print(System.out);
    }

    /** One run: starts what it needs, measures, stops it and deletes its directory. */
    public static Report run(Options options, PrintStream out) throws Exception {
        Path directory = Fixtures.tempDirectory("eventbank-reader-lag-");
        BenchPostgres postgres = null;
        try {
            String url = options.journalUrl();
            if (url == null) {
                postgres = BenchPostgres.start(directory);
                url = postgres.url();
            }
            writeAccounts(url, options.accounts());
            Report report;
            try (Engine leader = Engine.start(node(directory, url, "leader", true, options.pollInterval()))) {
                awaitLeading(leader);
                try (Engine reader = Engine.start(node(directory, url, "reader", false, options.pollInterval()))) {
                    report = new ReaderLag(leader, reader, options).measure();
                }
            }
            if (postgres != null) {
                out.printf(Locale.ROOT, "[postgres] database %,.0f MB%n", postgres.databaseBytes() / 1e6);
            }
            out.printf(Locale.ROOT, "directory: %,.0f MB (deleted now)%n", Fixtures.bytesUnder(directory) / 1e6);
            return report;
        } finally {
            if (postgres != null) {
                postgres.close();
            }
            Fixtures.deleteRecursively(directory);
        }
    }

    /** The verified accounts, written as one writer would, which then goes away (its lease lapses soon). */
    private static void writeAccounts(String url, int accounts) throws IOException {
        PostgresJournalConfig builder = PostgresJournalConfig.of(url, null, null, "bench-builder")
                .withLease(Duration.ofMillis(500), Duration.ofMillis(250));
        try (Journal journal = PostgresJournal.open(builder, 0, null, batch -> { }, (last, hash, torn) -> { })) {
            JournalBuilder.build(journal, accounts, 0, 4_000, 1);
        }
    }

    /** A node's engine, as {@code serve} makes it with {@code journal.url} (BankService.clustered). */
    private static EngineConfig node(Path directory, String url, String name, boolean writer, Duration pollInterval)
            throws IOException {
        PostgresJournalConfig journal = new PostgresJournalConfig(url, null, null, name, "http://" + name + ".invalid",
                LEASE, PostgresJournalConfig.TAKEOVER_LOCK_TIMEOUT_DEFAULT);
        PostgresSharedJournal shared = new PostgresSharedJournal(journal, false);
        shared.migrate();
        EngineConfig partial = EngineConfig.builder(directory.resolve(name)).serverKey(Fixtures.SERVER_KEY).build();
        return partial.toBuilder().cluster(new EngineConfig.Cluster(shared, new ClusterNode.Settings(name,
                journal.nodeUrl(), writer, LEASE, pollInterval, partial.idempotencyWindowMicros()))).build();
    }

    /** Waits until the writer took the journal over: the builder's lease lapses within a second. */
    private static void awaitLeading(Engine leader) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (leader.sequencer() == null) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the writer did not lead within 30 s: " + leader.node().status());
            }
            Thread.sleep(10);
        }
    }

    private final Engine leader;
    private final Engine reader;
    private final Options options;
    private final Command.TransferMoney[] commands;
    private final ConcurrentLinkedQueue<Commit> commits = new ConcurrentLinkedQueue<>();
    private final Histogram lagPerCommit = new Histogram(3);
    private final Histogram lagPerTransfer = new Histogram(3);
    private final Histogram publishedPerCommit = new Histogram(3);
    private final Histogram shownAfterPublished = new Histogram(3);
    private final Recorder replyLatency = new Recorder(3);
    private final LongAdder committed = new LongAdder();
    private final LongAdder notCommitted = new LongAdder();
    private final AtomicLong outstanding = new AtomicLong();
    private long measureFromNanos;
    private long measureToNanos;
    private volatile boolean loadStopped;

    private ReaderLag(Engine leader, Engine reader, Options options) {
        this.leader = leader;
        this.reader = reader;
        this.options = options;
        this.commands = Fixtures.transfers(COMMANDS, options.accounts(), 100, 13);
    }

    private Report measure() throws InterruptedException {
        long startSeq = leader.committedSeq();
        awaitReader(startSeq);
        leader.sequencer().addCommitListener(seq -> commits.add(new Commit(seq, System.nanoTime())));
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
        measureFromNanos = start + TimeUnit.SECONDS.toNanos(options.warmupSeconds());
        measureToNanos = measureFromNanos + TimeUnit.SECONDS.toNanos(options.seconds());
        Thread watcher = Thread.ofPlatform().name("reader-lag-watcher").daemon().start(() -> watch(startSeq));
        BatchStatistics before = submitAtFixedRate(start);
        BatchStatistics after = BatchStatistics.of(leader.statistics());
        while (outstanding.get() > 0) {
            Thread.sleep(1);
        }
        loadStopped = true;
        awaitReader(leader.committedSeq());
        watcher.join();
        long leaderSeq = leader.committedSeq();
        boolean same = reader.committedSeq() == leaderSeq
                && Arrays.equals(reader.committedHead().hash(), leader.committedHead().hash());
        double seconds = (after.nanoTime() - before.nanoTime()) / 1e9;
        return new Report(options.rate(), (after.events() - before.events()) / seconds, committed.sum(),
                notCommitted.sum(), lagPerCommit, lagPerTransfer, publishedPerCommit, shownAfterPublished,
                replyLatency.getIntervalHistogram(), after.since(before, leader.statistics()), leaderSeq, same);
    }

    /**
     * Submits at the fixed rate every transfer due from {@code start} to the end of the measured
     * time, without waiting for replies; answers the leader's statistics at the start of the
     * measured time.
     */
    private BatchStatistics submitAtFixedRate(long start) {
        double interval = 1e9 / options.rate();
        long total = (long) Math.ceil((measureToNanos - start) / interval);
        BatchStatistics before = null;
        for (long sent = 0; sent < total; ) {
            long now = System.nanoTime();
            if (before == null && now >= measureFromNanos) {
                before = BatchStatistics.of(leader.statistics());
            }
            for (long due = Math.min(total, (long) ((now - start) / interval) + 1); sent < due; sent++) {
                long intended = start + (long) (sent * interval);
                boolean measured = intended >= measureFromNanos;
                outstanding.incrementAndGet();
                leader.submit(commands[(int) (sent & MASK)]).whenComplete((outcome, failure) -> {
                    if (measured && outcome instanceof Outcome.Committed) {
                        committed.increment();
                        replyLatency.recordValue(System.nanoTime() - intended);
                    } else if (measured) {
                        notCommitted.increment();
                    }
                    outstanding.decrementAndGet();
                });
            }
            LockSupport.parkNanos(100_000); // bursts of about 0.1 ms; the lag counts from each commit anyway
        }
        return before == null ? BatchStatistics.of(leader.statistics()) : before;
    }

    /**
     * The watcher's loop: matches the leader's commits, oldest first, with the reader's committed
     * seq as it moves, until the load stopped and the reader shows every commit.
     */
    private void watch(long startSeq) {
        ArrayDeque<Commit> waiting = new ArrayDeque<>();
        long previousSeq = startSeq;
        while (true) {
            boolean stopped = loadStopped;
            for (Commit commit; (commit = commits.poll()) != null; ) {
                waiting.add(commit);
            }
            long shown = reader.committedSeq();
            long now = System.nanoTime();
            while (!waiting.isEmpty() && waiting.peekFirst().seq() <= shown) {
                Commit commit = waiting.pollFirst();
                Commit next = waiting.peekFirst();
                if (commit.nanos() >= measureFromNanos && commit.nanos() < measureToNanos) {
                    long lag = now - commit.nanos();
                    lagPerCommit.recordValue(lag);
                    lagPerTransfer.recordValueWithCount(lag, commit.seq() - previousSeq);
                    if (next != null && next.nanos() <= now) {
                        publishedPerCommit.recordValue(next.nanos() - commit.nanos());
                        shownAfterPublished.recordValue(now - next.nanos());
                    }
                }
                previousSeq = commit.seq();
            }
            if (stopped && waiting.isEmpty() && commits.isEmpty()) {
                return;
            }
            LockSupport.parkNanos(WATCH_NANOS);
        }
    }

    /** Waits until the reader shows {@code seq}; the leader's heartbeat publishes its last commit. */
    private void awaitReader(long seq) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP_NANOS_MAX;
        while (reader.committedSeq() < seq) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the reader is at seq " + reader.committedSeq() + ", not " + seq
                        + ", " + TimeUnit.NANOSECONDS.toSeconds(CATCH_UP_NANOS_MAX) + " s after the load stopped: "
                        + reader.node().status());
            }
            Thread.sleep(1);
        }
    }
}
