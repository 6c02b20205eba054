package eventbank.bench;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.EngineConfig;
import eventbank.engine.history.TimeTravel;
import eventbank.engine.history.WhatIf;
import eventbank.engine.storage.FileStorage;
import eventbank.server.readmodel.ReportsReadModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The read side's figures, as a main program (each measurement is one long operation, which JMH
 * would only wrap):
 * <ol>
 *   <li><b>Time travel</b>: a journal of {@code --events} events ({@code --accounts} accounts,
 *       then random transfers; batches of 4,000) with a snapshot every 1,000,000 events as the
 *       snapshotter writes them, pruned after each write as the engine does, under two
 *       retentions: the engine's defaults (newest 3, plus one per 10,000,000 events of history)
 *       and one per 1,000,000. Then {@code TimeTravel.stateAt} of {@code --points} random seqs
 *       (a new TimeTravel each, as the HTTP route makes one per request), in {@code --runs}
 *       rounds.</li>
 *   <li><b>What-if over the last 1,000,000 events</b>: the first of them left out, replayed to
 *       the end, {@code --runs} times.</li>
 *   <li><b>Reports</b>: a {@link ReportsReadModel} fed 1,000,000 account openings and
 *       9,000,000 transfers and withdrawals spread over three years and a bit (one every ten
 *       seconds), then each report query 2,000 times per round.</li>
 * </ol>
 * Disk: the journal takes about 45 bytes an event (450 MB for 10M) plus the snapshots (about
 * 5 MB each for 100,000 accounts); all under a temporary
 * directory in /tmp, deleted at the end. Heap: run with -Xmx4g.
 *
 * <pre>
 * java -Xmx4g -cp bench/target/benchmarks.jar eventbank.bench.ReadSideBenchmark \
 *     --events 10000000 --accounts 100000 --points 20 --runs 3
 * </pre>
 */
public final class ReadSideBenchmark {
    private static final long SNAPSHOT_EVERY_EVENTS = EngineConfig.SNAPSHOT_EVERY_EVENTS_DEFAULT;
    private static final int BATCH_EVENTS = 4_000;
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final long WHAT_IF_EVENTS = 1_000_000;

    private ReadSideBenchmark() {}

    public static void main(String[] args) throws Exception {
        long events = 10_000_000;
        int accounts = 100_000;
        int points = 20;
        int runs = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--events" -> events = Long.parseLong(args[i + 1]);
                case "--accounts" -> accounts = Integer.parseInt(args[i + 1]);
                case "--points" -> points = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path root = Fixtures.tempDirectory("eventbank-readside-");
        try {
            Path defaults = root.resolve("retention-default");
            long start = System.nanoTime();
            JournalBuilder.Built built = JournalBuilder.build(defaults, accounts, events - 2L * accounts,
                    BATCH_EVENTS, 5);
            System.out.printf("journal: %,d events, %,d accounts, %,.0f MB, built in %.1f s%n", built.lastSeq(),
                    accounts, built.bytes() / 1e6, (System.nanoTime() - start) / 1e9);
            Path dense = root.resolve("retention-1m");
            Files.createDirectories(dense);
            Files.createSymbolicLink(dense.resolve("journal"), defaults.resolve("journal"));
            writeSnapshots(defaults, dense);
            for (Path data : List.of(defaults, dense)) {
                timeTravel(data, built.lastSeq(), points, runs);
            }
            whatIf(defaults, built.lastSeq(), runs);
            reports(root.resolve("reports"), runs);
            System.out.printf("disk used at the peak: %,.0f MB (deleted)%n", Fixtures.bytesUnder(root) / 1e6);
        } finally {
            Fixtures.deleteRecursively(root);
        }
    }

    /**
     * Writes the snapshots of both data directories (they share the journal), each with its
     * retention: the engine's defaults, and one kept per 1,000,000 events.
     */
    private static void writeSnapshots(Path defaults, Path dense) throws IOException {
        long start = System.nanoTime();
        List<Long> kept = JournalBuilder.writeHistorySnapshots(defaults, EngineConfig.SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT);
        List<Long> keptDense = JournalBuilder.writeHistorySnapshots(dense, SNAPSHOT_EVERY_EVENTS);
        System.out.printf("snapshots written in %.1f s; kept with the default retention %s, with one per 1M %s%n",
                (System.nanoTime() - start) / 1e9, kept, keptDense);
    }

    private static void timeTravel(Path data, long lastSeq, int points, int runs) throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        long[] seqs = new long[points];
        for (int i = 0; i < points; i++) {
            seqs[i] = 1 + random.nextLong(lastSeq);
        }
        List<Long> millis = new ArrayList<>();
        long replayedMax = 0;
        for (int run = 0; run < runs; run++) {
            for (long seq : seqs) {
                long start = System.nanoTime();
                TimeTravel.State state = new TimeTravel(new FileStorage(), data, WINDOW).travel(seq);
                millis.add((System.nanoTime() - start) / 1_000_000);
                replayedMax = Math.max(replayedMax, state.eventsReplayed());
                if (state.bank().lastSeq() != seq) {
                    throw new IllegalStateException("travelled to " + state.bank().lastSeq() + ", not " + seq);
                }
            }
        }
        long start = System.nanoTime();
        long atTime = new TimeTravel(new FileStorage(), data, WINDOW)
                .seqAtTime(EpochMicros.toInstant(Fixtures.EPOCH_MICROS + lastSeq / 2));
        long seqAtTimeMicros = (System.nanoTime() - start) / 1_000;
        millis.sort(null);
        System.out.printf("time travel (%s): %d random seqs x %d rounds: median %d ms, p90 %d ms, max %d ms; "
                        + "at most %,d events replayed from a snapshot; seqAtTime %d us (found seq %,d)%n",
                data.getFileName(), points, runs, millis.get(millis.size() / 2),
                millis.get((int) (millis.size() * 0.9)), millis.getLast(), replayedMax, seqAtTimeMicros, atTime);
    }

    private static void whatIf(Path data, long lastSeq, int runs) throws IOException {
        WhatIf whatIf = new WhatIf(new FileStorage(), data, WINDOW, WHAT_IF_EVENTS);
        long excluded = lastSeq - WHAT_IF_EVENTS + 1;
        long[] millis = new long[runs];
        WhatIf.Result result = null;
        for (int run = 0; run < runs; run++) {
            long start = System.nanoTime();
            result = whatIf.run(new WhatIf.Request(Set.of(excluded), List.of(), null), lastSeq);
            millis[run] = (System.nanoTime() - start) / 1_000_000;
        }
        System.out.printf("what-if, seq %,d left out, %,d events decided again: median %d ms of %s; "
                        + "%d rejected, %d balances differ%n", excluded, result.eventsReplayed(),
                Fixtures.median(millis), java.util.Arrays.toString(millis), result.rejected().size(),
                result.differences().size());
    }

    /** 1M openings, then 9M transfers and withdrawals, one every 10 s from 2024-01-01 on. */
    private static void reports(Path data, int runs) throws IOException {
        int accounts = 1_000_000;
        long movements = 9_000_000;
        long base = EpochMicros.of(Instant.parse("2024-01-01T00:00:00Z"));
        long step = 10_000_000L;
        ReportsReadModel model = new ReportsReadModel();
        model.start();
        SplittableRandom random = new SplittableRandom(13);
        long seq = 0;
        long start = System.nanoTime();
        for (int i = 0; i < accounts; i++) {
            seq++;
            model.onEvent(new Recorded(seq, base + seq * step, Fixtures.opened(i)));
        }
        for (long i = 0; i < movements; i++) {
            seq++;
            long from = Fixtures.accountNumber(random.nextInt(accounts));
            Event event = i % 5 == 0 ? new Event.MoneyWithdrawn(from, 1 + random.nextInt(100), null)
                    : new Event.MoneyTransferred(from, Fixtures.accountNumber(random.nextInt(accounts)),
                    1 + random.nextInt(100), null);
            model.onEvent(new Recorded(seq, base + seq * step, event));
        }
        double applySeconds = (System.nanoTime() - start) / 1e9;
        long end = base + seq * step;
        System.out.printf("reports: %,d events applied in %.1f s (%,.0f events/s), history from 2024-01-01 to %s%n",
                seq, applySeconds, seq / applySeconds, EpochMicros.toInstant(end));
        Instant now = EpochMicros.toInstant(end);
        LocalDate day = LocalDate.of(2025, 6, 15);
        query("sum_transactions (all time)", runs, model::sumAllTime);
        LocalDate year = LocalDate.of(2025, 1, 1);
        LocalDate month = day.withDayOfMonth(1);
        query("sum_transactions?year=2025", runs, () -> model.sum(year, year.plusYears(1)));
        query("sum_transactions?year=2025&month=6", runs, () -> model.sum(month, month.plusMonths(1)));
        query("sum_transactions?year=2025&month=6&day=15", runs, () -> model.sum(day, day.plusDays(1)));
        query("inactive_users (1,000,000 accounts)", runs,
                () -> model.inactiveCount(ReportsReadModel.inactiveSinceMicros(now)));
    }

    private static void query(String name, int runs, java.util.function.LongSupplier query) {
        int calls = 2_000;
        long[] micros = new long[calls * runs];
        long answer = 0;
        for (int i = 0; i < micros.length; i++) {
            long start = System.nanoTime();
            answer += query.getAsLong();
            micros[i] = (System.nanoTime() - start) / 1_000;
        }
        java.util.Arrays.sort(micros);
        System.out.printf("  %-45s median %,d us, p99 %,d us, max %,d us (%d calls; checksum %d)%n", name,
                micros[micros.length / 2], micros[(int) (micros.length * 0.99)], micros[micros.length - 1],
                micros.length, answer % 1000);
    }
}
