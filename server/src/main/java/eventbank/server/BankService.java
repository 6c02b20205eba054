package eventbank.server;

import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.cluster.ClusterNode;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresKeyTable;
import eventbank.postgres.PostgresServerKey;
import eventbank.postgres.PostgresSharedJournal;
import eventbank.server.cli.ServeCommand;
import eventbank.server.config.Config;
import eventbank.server.http.BankServer;
import eventbank.server.mail.FileMailTransport;
import eventbank.server.mail.MailTransport;
import eventbank.server.mail.MailgunMailTransport;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.OutboxSettings;
import eventbank.server.mail.PostgresOutboxStore;
import eventbank.server.mail.SmtpMailTransport;
import eventbank.server.mail.VerificationResender;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.ReadModels;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything {@code serve} runs, started in order (engine, read models, outbox and resender,
 * HTTP) and closed in reverse: HTTP stops taking requests, the resender and the outbox stop, the
 * engine finishes the batch in flight and releases the data directory, and the mail transport
 * lets go of its connection.
 */
public final class BankService implements ServeCommand.Running {
    private static final Logger LOG = LoggerFactory.getLogger(BankService.class);
    private final Engine engine;
    private final ReadModels readModels;
    private final MailTransport transport;
    private final Outbox outbox;
    private final VerificationResender resender;
    private final BankServer server;
    /** In a cluster, the outbox's checkpoint and dead letters in PostgreSQL; else null. */
    private final PostgresOutboxStore outboxStore;

    private BankService(Engine engine, ReadModels readModels, MailTransport transport, Outbox outbox,
                        VerificationResender resender, BankServer server, PostgresOutboxStore outboxStore) {
        this.engine = engine;
        this.outboxStore = outboxStore;
        this.readModels = readModels;
        this.transport = transport;
        this.outbox = outbox;
        this.resender = resender;
        this.server = server;
    }

    /**
     * Starts the bank on {@code config}, listening on {@code port} (0: any free port; the
     * configuration's own http.port is at least 1), on the system's clock in UTC. The file mail
     * transport prints verification links to {@code console}.
     */
    public static BankService start(Config config, String host, int port, PrintStream console) throws IOException {
        return start(config, host, port, console, Clock.systemUTC());
    }

    /**
     * With the one clock everything reads: the engine stamps events with it; rate limits, tokens,
     * key expiry, reports and mails read it (tests fix it or move it).
     */
    public static BankService start(Config config, String host, int port, PrintStream console, Clock clock)
            throws IOException {
        return start(config, config.engineConfig(), host, port, console, clock);
    }

    /** With {@code engineConfig} for the engine instead of {@code config}'s own (the testkit's faults). */
    public static BankService start(Config config, EngineConfig engineConfig, String host, int port,
                                    PrintStream console, Clock clock) throws IOException {
        EngineConfig clustered = clustered(config, engineConfig.toBuilder().clock(clock)).build();
        // The read models and the outbox's state: one policy, each in a file of its own. The
        // models load their checkpoints while the engine recovers, and check them against the
        // journal once it is ready (when they are subscribed).
        AtomicReference<Engine> recovered = new AtomicReference<>();
        Checkpoints checkpoints = new Checkpoints(clustered.storage(), config.data().directory(),
                () -> recovered.get().newReader(), () -> recovered.get().committedSeq(),
                config.data().checkpointEveryEvents());
        ReadModels readModels = ReadModels.of(checkpoints, config.data().idempotencyWindowMicros());
        readModels.preload();
        Engine engine = Engine.start(clustered);
        recovered.set(engine);
        LOG.info("the engine is ready at seq {}, {} ms after the JVM started", engine.committedSeq(),
                ManagementFactory.getRuntimeMXBean().getUptime());
        MailTransport transport = null;
        Outbox outbox = null;
        VerificationResender resender = null;
        PostgresOutboxStore outboxStore = null;
        try {
            readModels.subscribers().forEach(engine::subscribe);
            transport = transportOf(config, engine, console);
            OutboxSettings mail = OutboxSettings.of(config.http().publicUrl().toString(), config.mail().from())
                    .withBackoffMax(config.mail().retryBackoffMax().toMillis());
            if (config.cluster().enabled()) {
                // Every node follows the log; only the leader sends, from the checkpoint in PostgreSQL.
                outboxStore = new PostgresOutboxStore(journalConfigOf(config.cluster()));
                outbox = Outbox.of(engine, outboxStore, checkpoints, transport, mail, clock,
                        config.cluster().pollInterval());
            } else {
                outbox = Outbox.of(engine, checkpoints, transport, mail, clock);
            }
            engine.subscribe(outbox);
            resender = new VerificationResender(transport, mail, engine.verificationCodes(), clock);
            BankServer server = new BankServer(engine, readModels, outbox, resender, config, clock).start(host, port);
            return new BankService(engine, readModels, transport, outbox, resender, server, outboxStore);
        } catch (RuntimeException e) {
            try {
                stopMail(resender, outbox);
                engine.close();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            } finally {
                if (transport != null) {
                    transport.close();
                }
                if (outboxStore != null) {
                    outboxStore.close();
                }
            }
            throw e;
        }
    }

    /**
     * With {@code journal.url} set, the engine as a node of a cluster on that PostgreSQL journal
     * (its tables created or migrated first); else {@code builder} as it is.
     */
    private static EngineConfig.Builder clustered(Config config, EngineConfig.Builder builder) throws IOException {
        Config.Cluster cluster = config.cluster();
        if (!cluster.enabled()) {
            return builder;
        }
        EngineConfig partial = builder.build();
        Duration lease = cluster.lease();
        PostgresJournalConfig journal = journalConfigOf(cluster);
        PostgresSharedJournal shared = new PostgresSharedJournal(journal, cluster.requireSyncStandby());
        if (cluster.mode() == Config.NodeMode.WRITER) {
            shared.migrate(); // a reader may be on a hot standby, where nothing can be written
        }
        if (partial.serverKey() == null) {
            // Every node signs and checks with the same key: the one the first writer kept.
            builder.serverKey(cluster.mode() == Config.NodeMode.WRITER ? PostgresServerKey.loadOrCreate(journal)
                    : PostgresServerKey.load(journal).orElseThrow(() -> new IOException("the journal's database"
                            + " holds no server key yet: start a writer first, or set server.key on every node")));
        }
        // The data keys of the openings live beside the journal; the KEK is this node's file.
        return builder.cluster(new EngineConfig.Cluster(shared, new ClusterNode.Settings(cluster.nodeName(),
                cluster.nodeUrl().toString(), cluster.mode() == Config.NodeMode.WRITER, lease,
                cluster.pollInterval(), partial.idempotencyWindowMicros()), new PostgresKeyTable(journal)));
    }

    /** The journal's database and this node, as {@code journal.*} and {@code node.*} say. */
    private static PostgresJournalConfig journalConfigOf(Config.Cluster cluster) {
        return new PostgresJournalConfig(cluster.journalUrl().orElseThrow(), cluster.journalUser().orElse(null),
                cluster.journalPassword().orElse(null), cluster.nodeName(), cluster.nodeUrl().toString(),
                cluster.lease(), takeoverLockTimeoutOf(cluster.lease()), cluster.resolveTimeout(),
                cluster.mode() == Config.NodeMode.READER);
    }

    /**
     * How long a takeover waits for the head's lock before it ends the old leader's sessions:
     * half the lease, at most the default, so that a new leader writes within the lease after the
     * old one's lapsed.
     */
    private static Duration takeoverLockTimeoutOf(Duration lease) {
        Duration half = lease.dividedBy(2);
        return half.compareTo(PostgresJournalConfig.TAKEOVER_LOCK_TIMEOUT_DEFAULT) < 0 ? half
                : PostgresJournalConfig.TAKEOVER_LOCK_TIMEOUT_DEFAULT;
    }

    private static void stopMail(VerificationResender resender, Outbox outbox) throws InterruptedException {
        try {
            if (resender != null) {
                resender.close();
            }
        } finally {
            if (outbox != null) {
                outbox.close();
            }
        }
    }

    /** The transport {@code mail.transport} names; the config holds its settings exactly then. */
    private static MailTransport transportOf(Config config, Engine engine, PrintStream console) {
        return switch (config.mail().transport()) {
            case FILE -> new FileMailTransport(Outbox.directoryOf(config.data().directory()),
                    engine.config().storage(), console);
            case SMTP -> new SmtpMailTransport(config.mail().smtp().orElseThrow(), config.mail().fromAddress());
            case MAILGUN -> new MailgunMailTransport(config.mail().mailgun().orElseThrow());
        };
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public Throwable journalFailure() {
        return engine.failure();
    }

    public Engine engine() {
        return engine;
    }

    public BankServer httpServer() {
        return server;
    }

    public ReadModels readModels() {
        return readModels;
    }

    public Outbox outbox() {
        return outbox;
    }

    public VerificationResender resender() {
        return resender;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            server.close();
        } finally {
            try {
                stopMail(resender, outbox);
                engine.close();
            } finally {
                try {
                    transport.close();
                } finally {
                    if (outboxStore != null) {
                        outboxStore.close();
                    }
                }
            }
        }
    }
}
