package eventbank.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Rejection;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.SequencerStatistics;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.journal.JournalFormat;
import eventbank.server.readmodel.AccountsReadModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics of a real engine on real files, read back from the Prometheus text. */
class BankMetricsTest {
    private static final byte[] KEY = new byte[32];

    @TempDir
    Path data;

    private final AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);

    private EngineConfig config() {
        return EngineConfig.builder(data).serverKey(KEY).accountNumbers(numbers::incrementAndGet)
                .segmentBytesMax(600).build();
    }

    @Test
    void scrapeReportsCommandsBatchesFsyncsJournalDiskAndLag() throws Exception {
        try (Engine engine = Engine.start(config())) {
            AccountsReadModel accounts = new AccountsReadModel();
            engine.subscribe(accounts);
            BankMetrics metrics = new BankMetrics(engine, List.of(accounts));

            long alice = open(engine, metrics, "alice@example.com");
            long bob = open(engine, metrics, "bob@example.com");
            verify(engine, metrics, alice, 1);
            verify(engine, metrics, bob, 2);
            Idempotency key = new Idempotency("t-1", "f-t-1");
            assertThat(submit(engine, metrics, new Command.TransferMoney(alice, bob, 100_00, key)))
                    .isInstanceOf(Outcome.Committed.class);
            assertThat(submit(engine, metrics, new Command.TransferMoney(alice, bob, 100_00, key)))
                    .isInstanceOf(Outcome.Replayed.class);
            assertThat(submit(engine, metrics, new Command.Withdraw(alice, 5_000_00, null)))
                    .isEqualTo(new Outcome.Rejected(Rejection.INSUFFICIENT_FUNDS));
            // Many in flight at once, so that some batches hold more than one event.
            List<CompletableFuture<Outcome>> inFlight = Stream.generate(
                    () -> engine.submit(new Command.Withdraw(bob, 1, null))).limit(200).toList();
            inFlight.forEach(reply -> metrics.record(reply.join()));

            long committedSeq = engine.committedSeq();
            assertThat(committedSeq).isEqualTo(205);
            for (Subscription subscription : engine.subscriptions()) {
                assertThat(subscription.awaitDelivered(committedSeq, 10_000)).isTrue();
            }
            assertThat(accounts.awaitSeq(committedSeq, Duration.ofSeconds(10))).isTrue();

            String text = metrics.scrape();
            Map<String, Double> samples = samples(text);

            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"committed\",reason=\"none\"}", 205.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"replayed\",reason=\"none\"}", 1.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"rejected\",reason=\"insufficient_funds\"}", 1.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"rejected\",reason=\"account_not_verified\"}", 0.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"unavailable\",reason=\"busy\"}", 0.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"unavailable\",reason=\"commit_outcome_unknown\"}", 0.0);

            assertThat(samples).containsEntry("eventbank_committed_seq", (double) engine.committedSeq());

            SequencerStatistics statistics = engine.sequencer().statistics();
            double commits = samples.get("eventbank_commits_total");
            assertThat(commits).isEqualTo(statistics.commits()).isPositive().isLessThanOrEqualTo(205);
            assertThat(samples).containsEntry("eventbank_events_total", 205.0);
            assertThat(samples.get("eventbank_journal_appended_bytes_total")).isEqualTo(statistics.bytes()).isPositive();

            assertThat(samples.get("eventbank_fsync_seconds_count")).isGreaterThanOrEqualTo(commits);
            assertThat(samples.get("eventbank_fsync_seconds_bucket{le=\"+Inf\"}"))
                    .isEqualTo(samples.get("eventbank_fsync_seconds_count"));
            assertThat(samples.get("eventbank_fsync_seconds_sum")).isPositive()
                    .isCloseTo(statistics.fsyncNanosTotal() / 1e9, org.assertj.core.data.Offset.offset(1e-6));
            assertThat(samples).containsKey("eventbank_fsync_seconds_bucket{le=\"0.001\"}");
            assertThat(samples).containsEntry("eventbank_batch_events_count", commits);
            assertThat(samples).containsEntry("eventbank_batch_events_sum", 205.0);
            assertThat(samples).containsEntry("eventbank_batch_events_bucket{le=\"+Inf\"}", commits);
            assertThat(samples.get("eventbank_batch_events_bucket{le=\"1.0\"}")).isLessThanOrEqualTo(commits);

            long segmentBytes = segmentBytes(engine.config().journalDirectory());
            assertThat(segmentBytes).isPositive();
            assertThat(samples).containsEntry("eventbank_journal_bytes", (double) segmentBytes);
            assertThat(metrics.journalBytes()).isEqualTo(segmentBytes);

            assertThat(samples.get("eventbank_disk_free_bytes")).isPositive();

            assertThat(engine.subscriptions()).isNotEmpty();
            for (Subscription subscription : engine.subscriptions()) {
                assertThat(samples).containsEntry(
                        "eventbank_subscriber_lag_events{subscriber=\"" + subscription.name() + "\"}", 0.0);
            }
            assertThat(samples).containsEntry(
                    "eventbank_read_model_lag_events{read_model=\"" + accounts.name() + "\"}", 0.0);

            assertThat(samples).containsEntry("eventbank_journal_quarantined_batches", 0.0);
            assertThat(samples).containsEntry("eventbank_journal_quarantine_files", 0.0);
            assertThat(samples).containsEntry("eventbank_busy_rejections_total", 0.0);
            assertThat(samples).containsEntry("eventbank_engine_writable", 1.0);
            assertThat(text).contains("# TYPE eventbank_fsync_seconds histogram")
                    .contains("# TYPE eventbank_commands_total counter");
        }
    }

    @Test
    void lagOfASubscriberStartedLaterIsReportedAndReachesZero() throws Exception {
        try (Engine engine = Engine.start(config())) {
            BankMetrics metrics = new BankMetrics(engine);
            open(engine, metrics, "alice@example.com");
            open(engine, metrics, "bob@example.com");
            AccountsReadModel accounts = new AccountsReadModel();
            Subscription subscription = engine.subscribe(accounts);
            assertThat(subscription.awaitDelivered(engine.committedSeq(), 10_000)).isTrue();
            assertThat(samples(metrics.scrape())).containsEntry(
                    "eventbank_subscriber_lag_events{subscriber=\"" + subscription.name() + "\"}", 0.0);
        }
    }

    @Test
    void aTornTailQuarantinedAtStartIsReported() throws Exception {
        try (Engine engine = Engine.start(config())) {
            open(engine, new BankMetrics(engine), "alice@example.com");
        }
        Path last;
        try (Stream<Path> files = Files.list(data.resolve("journal"))) {
            last = files.filter(p -> JournalFormat.firstSeqOf(p.getFileName().toString()) >= 0)
                    .sorted().reduce((a, b) -> b).orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
        }
        try (Engine engine = Engine.start(config())) {
            assertThat(engine.recovery().tornTail()).isNotNull();
            Map<String, Double> samples = samples(new BankMetrics(engine).scrape());
            assertThat(samples).containsEntry("eventbank_journal_quarantined_batches", 1.0);
            assertThat(samples).containsEntry("eventbank_journal_quarantine_files", 1.0);
            assertThat(samples).containsEntry("eventbank_journal_bytes",
                    (double) segmentBytes(engine.config().journalDirectory()));
        }
    }

    @Test
    void aCommandRefusedAsBusyIsCountedWithItsReason() throws Exception {
        try (Engine engine = Engine.start(config())) {
            BankMetrics metrics = new BankMetrics(engine);
            metrics.record(new Outcome.Unavailable(Outcome.Failure.BUSY, "full"));
            metrics.record(new Outcome.Unavailable(Outcome.Failure.STOPPED, "stopping"));
            metrics.record(new Outcome.Unavailable(Outcome.Failure.JOURNAL_FAILED, "failed"));
            Map<String, Double> samples = samples(metrics.scrape());
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"unavailable\",reason=\"busy\"}", 2.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"unavailable\",reason=\"journal_failed\"}", 1.0);
        }
    }

    @Test
    void eachTransferOfABatchDecidedOneByOneCountsAsTheCommandItWouldBeAlone() throws Exception {
        try (Engine engine = Engine.start(config())) {
            BankMetrics metrics = new BankMetrics(engine);
            long alice = open(engine, metrics, "alice@example.com");
            long bob = open(engine, metrics, "bob@example.com");
            verify(engine, metrics, alice, 1);
            verify(engine, metrics, bob, 2);
            Outcome outcome = submit(engine, metrics, new Command.TransferMoneyOneByOne(alice, List.of(
                    new Command.Transfer(bob, 10), new Command.Transfer(bob, Limits.OPENING_BALANCE_DEFAULT),
                    new Command.Transfer(alice, 1), new Command.Transfer(bob, 20))));
            assertThat(outcome).isInstanceOf(Outcome.CommittedOneByOne.class);
            Map<String, Double> samples = samples(metrics.scrape());
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"committed\",reason=\"none\"}", 4.0 + 2.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"rejected\",reason=\"insufficient_funds\"}", 1.0);
            assertThat(samples).containsEntry(
                    "eventbank_commands_total{outcome=\"rejected\",reason=\"same_account\"}", 1.0);
        }
    }

    /** Every sample line of the text, {@code name{labels}} to value. */
    static Map<String, Double> samples(String text) {
        Map<String, Double> samples = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    private static long segmentBytes(Path journal) throws IOException {
        try (Stream<Path> files = Files.list(journal)) {
            return files.filter(p -> JournalFormat.firstSeqOf(p.getFileName().toString()) >= 0)
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).sum();
        }
    }

    private static Outcome submit(Engine engine, BankMetrics metrics, Command command) {
        Outcome outcome = engine.submit(command).join();
        metrics.record(outcome);
        return outcome;
    }

    private static long open(Engine engine, BankMetrics metrics, String email) {
        Outcome outcome = submit(engine, metrics,
                new Command.OpenAccount(0, email, "hash", Limits.OPENING_BALANCE_DEFAULT, null));
        return ((Event.AccountOpened) ((Outcome.Committed) outcome).events().get(0).event()).accountNumber();
    }

    private static void verify(Engine engine, BankMetrics metrics, long account, long openedSeq) {
        String code = engine.verificationCodes().codeFor(account, openedSeq);
        assertThat(submit(engine, metrics, new Command.VerifyAccount(account, code)))
                .isInstanceOf(Outcome.Committed.class);
    }
}
