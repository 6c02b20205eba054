package eventbank.server.metrics;

import eventbank.core.Rejection;
import eventbank.engine.Engine;
import eventbank.engine.cluster.ClusterNode;
import eventbank.engine.write.FixedBucketHistogram;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.SequencerStatistics;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.journal.FileJournal;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.VerificationResender;
import eventbank.server.readmodel.ReadModel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bank's Prometheus metrics for {@code GET /metrics}. Almost everything is read at scrape
 * time from what the engine keeps anyway (its statistics, seqs, the journal's files, the disk),
 * so serving a command costs nothing here but {@link #record}, one counter increment per reply.
 *
 * <table>
 *   <caption>Metrics</caption>
 *   <tr><th>name</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@code eventbank_commands_total{outcome,reason}}</td><td>counter</td><td>replies to
 *       commands: outcome {@code committed}, {@code replayed} (reason {@code none}),
 *       {@code rejected} (reason: the rejection's error code), {@code unavailable} (reason: the
 *       failure's error code, e.g. {@code busy}, {@code journal_failed}); each transfer of a batch
 *       decided one by one counts as a command, a batch the engine could not take as one</td></tr>
 *   <tr><td>{@code eventbank_committed_seq}</td><td>gauge</td><td>seq of the last durable event</td></tr>
 *   <tr><td>{@code eventbank_commits_total}</td><td>counter</td><td>commit batches (one fsync each) since start</td></tr>
 *   <tr><td>{@code eventbank_events_total}</td><td>counter</td><td>events committed since start</td></tr>
 *   <tr><td>{@code eventbank_journal_appended_bytes_total}</td><td>counter</td><td>bytes of batches appended since start</td></tr>
 *   <tr><td>{@code eventbank_batch_events}</td><td>histogram</td><td>events per commit batch</td></tr>
 *   <tr><td>{@code eventbank_fsync_seconds}</td><td>histogram</td><td>time of each commit's fsync</td></tr>
 *   <tr><td>{@code eventbank_journal_bytes}</td><td>gauge</td><td>size of the journal's segment files on disk</td></tr>
 *   <tr><td>{@code eventbank_disk_free_bytes}</td><td>gauge</td><td>usable space of the data directory's file store</td></tr>
 *   <tr><td>{@code eventbank_subscriber_lag_events{subscriber}}</td><td>gauge</td><td>committed seq minus the seq delivered to each subscriber</td></tr>
 *   <tr><td>{@code eventbank_read_model_lag_events{read_model}}</td><td>gauge</td><td>committed seq minus the seq each read model applied</td></tr>
 *   <tr><td>{@code eventbank_journal_quarantined_batches}</td><td>gauge</td><td>1 when the last start moved a torn last write to quarantine, else 0</td></tr>
 *   <tr><td>{@code eventbank_journal_quarantine_files}</td><td>gauge</td><td>files in the journal's quarantine directory (every start's)</td></tr>
 *   <tr><td>{@code eventbank_busy_rejections_total}</td><td>counter</td><td>commands refused because the queue was full</td></tr>
 *   <tr><td>{@code eventbank_engine_writable}</td><td>gauge</td><td>1 while the engine takes writes, 0 once fail-stopped</td></tr>
 * </table>
 *
 * <p>Subscriptions started after this object was made are picked up at the next {@link #scrape}.
 */
public final class BankMetrics {
    /** The media type of {@link #scrape()}'s text (Prometheus text format 0.0.4). */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    static final String NONE = "none";

    private final Engine engine;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final DiskSpace diskSpace;
    private final Path journalDirectory;
    private final Counter committed;
    private final Counter replayed;
    private final Counter[] rejectedByReason;
    private final Counter[] unavailableByFailure;
    private final Set<Subscription> subscriptionsWithGauge = ConcurrentHashMap.newKeySet();
    private final Set<String> subscriberNames = ConcurrentHashMap.newKeySet();

    public BankMetrics(Engine engine) {
        this(engine, List.of());
    }

    /** @param readModels read models whose lag behind the committed seq is reported */
    public BankMetrics(Engine engine, Collection<? extends ReadModel> readModels) {
        this.engine = engine;
        this.diskSpace = new DiskSpace(engine.config().dataDirectory());
        this.journalDirectory = engine.config().journalDirectory();

        committed = commands("committed", NONE);
        replayed = commands("replayed", NONE);
        Rejection[] rejections = Rejection.values();
        rejectedByReason = new Counter[rejections.length];
        for (Rejection rejection : rejections) {
            rejectedByReason[rejection.ordinal()] = commands("rejected", rejection.code());
        }
        Outcome.Failure[] failures = Outcome.Failure.values();
        unavailableByFailure = new Counter[failures.length];
        for (Outcome.Failure failure : failures) {
            unavailableByFailure[failure.ordinal()] = commands("unavailable", failure.code());
        }

        SequencerStatistics statistics = engine.statistics();
        gauge("eventbank.committed.seq", null, "The seq of the last durable event.", engine::committedSeq);
        FunctionCounter.builder("eventbank.commits", statistics, SequencerStatistics::commits)
                .description("Commit batches written and forced to disk (one fsync each) since the start.")
                .register(registry);
        FunctionCounter.builder("eventbank.events", statistics, SequencerStatistics::events)
                .description("Events committed since the start.")
                .register(registry);
        FunctionCounter.builder("eventbank.journal.appended", statistics, SequencerStatistics::bytes)
                .baseUnit("bytes")
                .description("Bytes of commit batches appended to the journal since the start.")
                .register(registry);
        FunctionCounter.builder("eventbank.busy.rejections", statistics, SequencerStatistics::busyRejections)
                .description("Commands refused with busy because the sequencer's queue was full.")
                .register(registry);
        gauge("eventbank.engine.writable", null,
                "1 while the engine takes writes; 0 once the journal failed (fail-stop) until a restart.",
                () -> engine.failure() == null ? 1 : 0);
        gauge("eventbank.node.leader", null,
                "1 while this node leads (takes commands, sends mail); 0 on a standby or reader.",
                () -> engine.leadership().leading() ? 1 : 0);
        gauge("eventbank.node.epoch", null,
                "The journal's epoch: it goes up by one at each change of leader (0 with the file journal).",
                () -> engine.node() == null ? 0 : engine.node().status().epoch());
        gauge("eventbank.node.lag.events", null,
                "Events this node is behind the journal's durable seq (-1: the head was not read within a lease).",
                () -> engine.node() == null ? 0 : engine.node().status().lagEvents());
        if (engine.node() != null) {
            FunctionCounter.builder("eventbank.node.divergences", engine.node(), ClusterNode::divergences)
                    .description("Times this node found that the journal no longer held events it had shown (a"
                            + " failover lost them), and rebuilt its state and read models.")
                    .register(registry);
        }
        gauge("eventbank.journal", "bytes", "Size of the journal's segment files on disk.", this::journalBytes);
        gauge("eventbank.disk.free", "bytes",
                "Usable space of the file system holding the data directory; -1 when it cannot be read.",
                diskSpace::freeBytes);
        Journal.Recovery recovery = engine.recovery();
        int quarantined = recovery != null && recovery.tornTail() != null ? 1 : 0;
        gauge("eventbank.journal.quarantined.batches", null,
                "1 when the last start found a torn write at the end of the journal and moved it to quarantine.",
                () -> quarantined);
        gauge("eventbank.journal.quarantine.files", null,
                "Files in the journal's quarantine directory: torn writes moved aside by this and earlier starts.",
                this::quarantineFiles);
        for (ReadModel readModel : readModels) {
            Gauge.builder("eventbank.read.model.lag", readModel, model -> lag(model.appliedSeq()))
                    .tag("read_model", readModel.name())
                    .baseUnit("events")
                    .description("Committed seq minus the seq the read model has applied.")
                    .strongReference(true)
                    .register(registry);
        }
        registerNewSubscriptions();

        FixedBucketHistogram fsync = statistics.fsyncNanosHistogram();
        FixedBucketHistogram batches = statistics.batchEventsHistogram();
        registry.getPrometheusRegistry().register((MultiCollector) () -> MetricSnapshots.of(
                histogram("eventbank_fsync_seconds", "Time each commit's fsync took.", fsync, 1e-9),
                histogram("eventbank_batch_events", "Events in each commit batch.", batches, 1)));
    }

    /**
     * Counts the mail: sent and failed attempts of the outbox and of the resender, mails set
     * aside for good, and resends dropped. The outbox's lag is the subscriber lag of "outbox".
     */
    public void registerMail(Outbox outbox, VerificationResender resender) {
        mailCounter("eventbank.mail.sent", "outbox", outbox, Outbox::mailsSent,
                "Mails handed to the mail transport (a mail sent again after a restart counts again).");
        mailCounter("eventbank.mail.sent", "resender", resender, VerificationResender::sent,
                "Mails handed to the mail transport (a mail sent again after a restart counts again).");
        mailCounter("eventbank.mail.send.failures", "outbox", outbox, Outbox::sendFailures,
                "Failed attempts to send a mail, retried or not.");
        mailCounter("eventbank.mail.send.failures", "resender", resender, VerificationResender::failed,
                "Failed attempts to send a mail, retried or not.");
        FunctionCounter.builder("eventbank.mail.set.aside", outbox, Outbox::mailsSetAside)
                .description("Mails refused for good and set aside in data/outbox/dead-letters/.")
                .register(registry);
        FunctionCounter.builder("eventbank.mail.resends.dropped", resender, VerificationResender::dropped)
                .description("Resent verification links dropped: the resender's queue was full, or the server stopping.")
                .register(registry);
    }

    private <T> void mailCounter(String name, String by, T source, java.util.function.ToDoubleFunction<T> count,
                                 String description) {
        FunctionCounter.builder(name, source, count).tag("by", by).description(description).register(registry);
    }

    /** Counts one reply to a command; the HTTP layer calls it once per command it answers. */
    public void record(Outcome outcome) {
        switch (outcome) {
            case Outcome.Committed c -> committed.increment();
            case Outcome.Replayed r -> replayed.increment();
            case Outcome.Rejected r -> rejectedByReason[r.reason().ordinal()].increment();
            case Outcome.Unavailable u -> unavailableByFailure[u.failure().ordinal()].increment();
            // Each transfer of a batch decided one by one is counted as the command it would be alone.
            case Outcome.CommittedOneByOne batch -> batch.parts().forEach(this::record);
        }
    }

    /** The metrics in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public String scrape() {
        registerNewSubscriptions();
        return registry.scrape();
    }

    /** The registry, for meters of other layers (HTTP requests, mail); scrape through {@link #scrape}. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public DiskSpace diskSpace() {
        return diskSpace;
    }

    /** The size in bytes of the journal's segment files now; -1 when the directory cannot be read. */
    public long journalBytes() {
        long total = 0;
        try (DirectoryStream<Path> segments = Files.newDirectoryStream(journalDirectory,
                "*" + JournalFormat.SEGMENT_SUFFIX)) {
            for (Path segment : segments) {
                if (JournalFormat.firstSeqOf(segment.getFileName().toString()) < 0) {
                    continue;
                }
                try {
                    total += Files.size(segment);
                } catch (NoSuchFileException gone) {
                    // removed between listing and sizing: no longer on disk
                }
            }
            return total;
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | SecurityException e) {
            return -1;
        }
    }

    private long quarantineFiles() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(
                journalDirectory.resolve(FileJournal.QUARANTINE_DIRECTORY))) {
            long count = 0;
            for (Path ignored : files) {
                count++;
            }
            return count;
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | SecurityException e) {
            return -1;
        }
    }

    /** Committed minus {@code appliedSeq}, read in that order so it never goes below zero. */
    private double lag(long appliedSeq) {
        return Math.max(0, engine.committedSeq() - Math.max(0, appliedSeq));
    }

    private void registerNewSubscriptions() {
        for (Subscription subscription : engine.subscriptions()) {
            // One gauge per name: two subscriptions of one name would be one series.
            if (subscriptionsWithGauge.add(subscription) && subscriberNames.add(subscription.name())) {
                Gauge.builder("eventbank.subscriber.lag", subscription, s -> lag(s.deliveredSeq()))
                        .tag("subscriber", subscription.name())
                        .baseUnit("events")
                        .description("Committed seq minus the seq delivered to the subscriber.")
                        .strongReference(true)
                        .register(registry);
            }
        }
    }

    private Counter commands(String outcome, String reason) {
        return Counter.builder("eventbank.commands")
                .tag("outcome", outcome)
                .tag("reason", reason)
                .description("Replies to commands by outcome and reason (the error code, or none).")
                .register(registry);
    }

    private void gauge(String name, String baseUnit, String description, java.util.function.LongSupplier value) {
        Gauge.builder(name, value, v -> v.getAsLong())
                .baseUnit(baseUnit)
                .description(description)
                .strongReference(true)
                .register(registry);
    }

    /** A classic Prometheus histogram from the engine's fixed buckets; {@code scale} converts units. */
    static HistogramSnapshot histogram(String name, String help, FixedBucketHistogram source, double scale) {
        long[] bounds = source.upperBounds();
        long[] counts = source.counts();
        double[] upper = new double[counts.length];
        for (int i = 0; i < bounds.length; i++) {
            upper[i] = bounds[i] * scale;
        }
        upper[counts.length - 1] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.builder()
                .name(name)
                .help(help)
                .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, counts))
                        .sum(source.sum() * scale)
                        .build())
                .build();
    }
}
