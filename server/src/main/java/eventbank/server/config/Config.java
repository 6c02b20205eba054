package eventbank.server.config;

import eventbank.engine.EngineConfig;
import eventbank.server.DataDirectoryEvidence;
import eventbank.engine.storage.FaultInjectingStorage;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The server's configuration: every key parsed, checked and typed, with where each value came
 * from. Immutable; made by {@link ConfigLoader}. The keys, their defaults and their environment
 * variables are listed in docs/CONFIGURATION.md and in {@link ConfigKey}.
 *
 * <p>{@link #describe()} and {@link #toString()} show secrets ({@code operator.key},
 * {@code mail.smtp.password}, {@code mail.mailgun.api_key}) as {@code ***}; only their own
 * accessors return them.
 */
public final class Config {
    /** How a secret is shown. */
    public static final String MASK = "***";

    private final String httpHost;
    private final int httpPort;
    private final URI publicUrl;
    private final long requestBodyBytesMax;
    private final int openRatePerMinute;
    private final HttpLimits httpLimits;
    private final Path dataDirectory;
    private final String operatorKey;
    private final int bcryptCost;
    private final Duration tokenTtl;
    private final Duration idempotencyWindow;
    private final long snapshotEveryEvents;
    private final long journalSegmentBytesMax;
    private final long whatIfReplayEventsMax;
    private final int moneyCommandsPerMinute;
    private final MailTransportKind mailTransport;
    private final String mailFrom;
    private final String mailFromAddress;
    private final Duration mailRetryBackoffMax;
    private final SmtpSettings smtp;
    private final MailgunSettings mailgun;
    private final Path propertiesFile;
    private final List<Shown> shown;

    /** One key as the start-up log shows it: its value (masked if secret; null if unset) and its source. */
    record Shown(ConfigKey key, String value, Source source) {}

    Config(String httpHost, int httpPort, URI publicUrl, long requestBodyBytesMax, int openRatePerMinute,
           HttpLimits httpLimits, Path dataDirectory,
           String operatorKey, int bcryptCost, Duration tokenTtl, Duration idempotencyWindow,
           long snapshotEveryEvents, long journalSegmentBytesMax, long whatIfReplayEventsMax,
           int moneyCommandsPerMinute,
           MailTransportKind mailTransport, String mailFrom, String mailFromAddress, Duration mailRetryBackoffMax,
           SmtpSettings smtp, MailgunSettings mailgun, Path propertiesFile,
           List<Shown> shown) {
        this.httpHost = httpHost;
        this.httpPort = httpPort;
        this.publicUrl = publicUrl;
        this.requestBodyBytesMax = requestBodyBytesMax;
        this.openRatePerMinute = openRatePerMinute;
        this.httpLimits = httpLimits;
        this.dataDirectory = dataDirectory;
        this.operatorKey = operatorKey;
        this.bcryptCost = bcryptCost;
        this.tokenTtl = tokenTtl;
        this.idempotencyWindow = idempotencyWindow;
        this.snapshotEveryEvents = snapshotEveryEvents;
        this.journalSegmentBytesMax = journalSegmentBytesMax;
        this.whatIfReplayEventsMax = whatIfReplayEventsMax;
        this.moneyCommandsPerMinute = moneyCommandsPerMinute;
        this.mailTransport = mailTransport;
        this.mailFrom = mailFrom;
        this.mailFromAddress = mailFromAddress;
        this.mailRetryBackoffMax = mailRetryBackoffMax;
        this.smtp = smtp;
        this.mailgun = mailgun;
        this.propertiesFile = propertiesFile;
        this.shown = List.copyOf(shown);
        assert (mailTransport == MailTransportKind.SMTP) == (smtp != null) : "SMTP settings exactly for smtp";
        assert (mailTransport == MailTransportKind.MAILGUN) == (mailgun != null)
                : "Mailgun settings exactly for mailgun";
    }

    /** {@code http.host}: the address the HTTP server listens on; an IPv6 address without brackets. */
    public String httpHost() {
        return httpHost;
    }

    /** {@code http.port}: 1 to 65535. */
    public int httpPort() {
        return httpPort;
    }

    /**
     * {@code public.url}: the server's address as the world sees it, which verification links are
     * built on ({@code publicUrl() + "/api/verify?..."}); no trailing slash. By default
     * {@code http://localhost:{http.port}}.
     */
    public URI publicUrl() {
        return publicUrl;
    }

    /** {@code http.request_body_bytes_max}: a larger request body is answered 413 {@code body_too_large}. */
    public long requestBodyBytesMax() {
        return requestBodyBytesMax;
    }

    /**
     * {@code http.open_rate_per_minute}: how many accounts one client address may open a minute
     * (a burst of this many, then one every {@code 60 / rate} seconds); 0 for no limit.
     */
    public int openRatePerMinute() {
        return openRatePerMinute;
    }

    /** {@code http.connections_max}, {@code http.idle_timeout} and {@code http.header_timeout}. */
    public HttpLimits httpLimits() {
        return httpLimits;
    }

    /** {@code data.dir}: absolute and normalized (a relative value is relative to the working directory). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** {@code operator.key}: empty when none is configured, and then operator routes answer 403. */
    public Optional<String> operatorKey() {
        return Optional.ofNullable(operatorKey);
    }

    /** {@code auth.bcrypt_cost}: 4 to 31 (each step doubles the work; tests use 4). */
    public int bcryptCost() {
        return bcryptCost;
    }

    /** {@code auth.token_ttl}: how long a login token is valid; whole seconds. */
    public Duration tokenTtl() {
        return tokenTtl;
    }

    /** {@code idempotency.window}: how long an idempotency key is remembered; whole seconds. */
    public Duration idempotencyWindow() {
        return idempotencyWindow;
    }

    /** {@code snapshot.every_events}: 0 for never. */
    public long snapshotEveryEvents() {
        return snapshotEveryEvents;
    }

    /** {@code journal.segment_bytes}: a journal segment is closed once it would grow past this. */
    public long journalSegmentBytesMax() {
        return journalSegmentBytesMax;
    }

    /** {@code whatif.replay_events_max}: the most events one what-if may decide again. */
    public long whatIfReplayEventsMax() {
        return whatIfReplayEventsMax;
    }

    /**
     * {@code limits.money_commands_per_minute}: how many transfers and withdrawals one account may
     * ask for a minute (a burst of this many, then one every {@code 60 / rate} seconds; a batch
     * counts each transfer); 0 for no limit.
     */
    public int moneyCommandsPerMinute() {
        return moneyCommandsPerMinute;
    }

    /** {@code mail.transport}. */
    public MailTransportKind mailTransport() {
        return mailTransport;
    }

    /** {@code mail.from} as given, for the From header: {@code eventbank <noreply@localhost>}. */
    public String mailFrom() {
        return mailFrom;
    }

    /** The address alone of {@code mail.from}, for the SMTP envelope: {@code noreply@localhost}. */
    public String mailFromAddress() {
        return mailFromAddress;
    }

    /**
     * {@code mail.retry_backoff_max}: the longest pause between two attempts at a mail while the
     * mail server fails; the outbox retries without end, the pause doubling from 0.25 s to this.
     */
    public Duration mailRetryBackoffMax() {
        return mailRetryBackoffMax;
    }

    /** The {@code mail.smtp.*} settings, present exactly when {@code mail.transport} is smtp. */
    public Optional<SmtpSettings> smtp() {
        return Optional.ofNullable(smtp);
    }

    /** The {@code mail.mailgun.*} settings, present exactly when {@code mail.transport} is mailgun. */
    public Optional<MailgunSettings> mailgun() {
        return Optional.ofNullable(mailgun);
    }

    /** The properties file read: the {@code --config} file, else {@code ./eventbank.properties} if present. */
    public Optional<Path> propertiesFile() {
        return Optional.ofNullable(propertiesFile);
    }

    /** Where a key's value came from, or empty when the key is unset. */
    public Optional<Source> sourceOf(ConfigKey key) {
        return Optional.ofNullable(shown.get(key.ordinal()).source());
    }

    /**
     * The engine's configuration: {@link EngineConfig#defaults(Path)} for the data directory, with
     * the journal's segment size, the snapshot interval and the idempotency window from here, and
     * the server's evidence of committed seqs ({@link DataDirectoryEvidence}). With
     * the test-only system property {@value FaultInjectingStorage#PROPERTY} set, the storage is
     * a {@link FaultInjectingStorage} (announced loudly).
     */
    public EngineConfig engineConfig() {
        EngineConfig defaults = EngineConfig.defaults(dataDirectory);
        // Test only: -Deventbank.faults=... makes the journal fail on purpose (docs/RELIABILITY.md).
        return defaults.withStorage(FaultInjectingStorage.fromSystemProperty(defaults.storage()),
                        defaults.lockDataDirectory())
                .withSegmentBytesMax(journalSegmentBytesMax)
                .withSnapshots(snapshotEveryEvents, EngineConfig.SNAPSHOTS_NEWEST_KEPT_DEFAULT,
                        EngineConfig.SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT)
                .withIdempotencyWindowMicros(idempotencyWindowMicros())
                .withEvidence(DataDirectoryEvidence.sources(defaults.storage(), dataDirectory));
    }

    /** The idempotency window in microseconds, the engine's unit. */
    public long idempotencyWindowMicros() {
        return TimeUnit.SECONDS.toMicros(idempotencyWindow.getSeconds());
    }

    /**
     * The effective configuration for the start-up log, one key a line with its source, secrets
     * shown as {@code ***}:
     * <pre>
     * configuration (properties file: /srv/bank/eventbank.properties)
     *   http.host                   = 127.0.0.1 (default)
     *   http.port                   = 9090 (from environment EVENTBANK_HTTP_PORT)
     *   operator.key                = *** (from file /srv/bank/eventbank.properties)
     * </pre>
     */
    public String describe() {
        int width = 0;
        for (ConfigKey key : ConfigKey.values()) {
            width = Math.max(width, key.key().length());
        }
        StringBuilder text = new StringBuilder("configuration (")
                .append(propertiesFile == null ? "no properties file" : "properties file: " + propertiesFile)
                .append(")\n");
        for (Shown line : shown) {
            text.append("  ").append(line.key().key()).append(" ".repeat(width - line.key().key().length()))
                    .append(" = ");
            if (line.value() == null) {
                text.append("(not set)");
            } else {
                text.append(line.value()).append(" (").append(line.source().phrase()).append(')');
            }
            text.append('\n');
        }
        return text.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
