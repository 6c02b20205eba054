package eventbank.server.config;

import eventbank.engine.EngineConfig;
import eventbank.server.mail.MailgunSettings;
import eventbank.server.mail.SmtpSettings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The server's configuration: every key parsed, checked and typed, in named groups, with where
 * each value came from. Immutable; made by {@link ConfigLoader}. The keys, their defaults and
 * their environment variables are listed in docs/CONFIGURATION.md and in {@link ConfigKey}.
 *
 * <p>{@link #describe()} and {@link #toString()} show secrets ({@code operator.key},
 * {@code mail.smtp.password}, {@code mail.mailgun.api_key}) as {@code ***}; only their own
 * accessors return them.
 *
 * @param http           where and how the HTTP API listens
 * @param auth           who may do what: the operator key, password hashing, login tokens
 * @param data           the data directory and what the engine keeps in it
 * @param limits         how much one client or one request may ask for
 * @param mail           how mail goes out
 * @param cluster        where the journal is (files, or PostgreSQL) and this node's part in a cluster
 * @param propertiesFile the properties file read: the {@code --config} file, else
 *                       {@code ./eventbank.properties} if present
 * @param shown          every key as the start-up log shows it, in {@link ConfigKey}'s order
 */
public record Config(Http http, Auth auth, Data data, RequestLimits limits, Mail mail, Cluster cluster,
                     Optional<Path> propertiesFile, List<Shown> shown) {
    /** How a secret is shown. */
    public static final String MASK = "***";

    public Config {
        shown = List.copyOf(shown);
        assert (mail.transport() == MailTransportKind.SMTP) == mail.smtp().isPresent()
                : "SMTP settings exactly for smtp";
        assert (mail.transport() == MailTransportKind.MAILGUN) == mail.mailgun().isPresent()
                : "Mailgun settings exactly for mailgun";
    }

    /** One key as the start-up log shows it: its value (masked if secret; null if unset) and its source. */
    public record Shown(ConfigKey key, String value, Source source) {}

    /**
     * @param host                {@code http.host}: the address the HTTP server listens on; an IPv6
     *                            address without brackets
     * @param port                {@code http.port}: 1 to 65535
     * @param publicUrl           {@code public.url}: the server's address as the world sees it, which
     *                            verification links are built on ({@code publicUrl + "/api/verify?..."});
     *                            no trailing slash. By default {@code http://localhost:{http.port}}
     * @param requestBodyBytesMax {@code http.request_body_bytes_max}: a larger request body is
     *                            answered 413 {@code body_too_large}
     * @param connections         {@code http.connections_max}, {@code http.idle_timeout} and
     *                            {@code http.header_timeout}
     */
    public record Http(String host, int port, URI publicUrl, long requestBodyBytesMax, HttpLimits connections) {}

    /**
     * @param operatorKey {@code operator.key}: empty when none is configured, and then operator
     *                    routes answer 403
     * @param bcryptCost  {@code auth.bcrypt_cost}: 4 to 31 (each step doubles the work; tests use 4)
     * @param tokenTtl    {@code auth.token_ttl}: how long a login token is valid; whole seconds
     * @param serverKey   the server key (tokens, verification links, fingerprints) from {@code server.key}
     *                    (base64) or the file {@code server.key_file} (hex, as {@code data/server.key});
     *                    empty when neither is set, and then it is {@code data/server.key}, or in
     *                    cluster mode the one the first writer kept in PostgreSQL
     */
    public record Auth(Optional<String> operatorKey, int bcryptCost, Duration tokenTtl, Optional<ServerKeySource> serverKey) {
        @Override
        public String toString() {
            return "Auth[operatorKey=" + operatorKey.map(key -> MASK) + ", bcryptCost=" + bcryptCost
                    + ", tokenTtl=" + tokenTtl + ", serverKey=" + serverKey + "]";
        }
    }

    /** Where the server key comes from when it is configured: {@code server.key} or {@code server.key_file}. */
    public sealed interface ServerKeySource {
        /** {@code server.key}: the key's bytes, given in base64. */
        record Given(byte[] key) implements ServerKeySource {
            @Override
            public String toString() {
                return "Given[" + MASK + "]";
            }
        }

        /** {@code server.key_file}: a file holding the key in hex, as read at start. */
        record File(Path path, byte[] key) implements ServerKeySource {
            @Override
            public String toString() {
                return "File[" + path + "]";
            }
        }
    }

    /**
     * @param journalUrl         {@code journal.url}: empty for the file journal in {@code data.dir};
     *                           a {@code jdbc:postgresql://} URL selects the journal in PostgreSQL
     * @param journalUser        {@code journal.user}
     * @param journalPassword    {@code journal.password}
     * @param pollInterval       {@code journal.poll_interval}: how often a node that does not lead
     *                           reads the journal's head when no notification woke it sooner
     * @param requireSyncStandby {@code journal.require_sync_standby}: lead only while PostgreSQL has
     *                           a synchronous standby
     * @param resolveTimeout     {@code journal.resolve_timeout}: how long a leader whose commit's
     *                           outcome is unknown tries to read it back before giving it up
     * @param mode               {@code node.mode}: a writer leads or stands by; a reader never writes
     * @param nodeName           {@code node.name}: this node's name in the journal's head and in
     *                           PostgreSQL's sessions; by default {@code hostname:http.port}
     * @param nodeUrl            {@code node.url}: how other nodes and clients reach this node; by
     *                           default {@code public.url}
     * @param lease              {@code node.lease}: how long a leader leads without renewing
     */
    public record Cluster(Optional<String> journalUrl, Optional<String> journalUser, Optional<String> journalPassword,
                          Duration pollInterval, boolean requireSyncStandby, Duration resolveTimeout, NodeMode mode,
                          String nodeName,
                          URI nodeUrl, Duration lease) {
        /** Whether the journal is in PostgreSQL. */
        public boolean enabled() {
            return journalUrl.isPresent();
        }

        @Override
        public String toString() {
            return "Cluster[journalUrl=" + journalUrl + ", journalUser=" + journalUser + ", journalPassword="
                    + journalPassword.map(password -> MASK) + ", pollInterval=" + pollInterval
                    + ", requireSyncStandby=" + requireSyncStandby + ", resolveTimeout=" + resolveTimeout
                    + ", mode=" + mode + ", nodeName=" + nodeName
                    + ", nodeUrl=" + nodeUrl + ", lease=" + lease + "]";
        }
    }

    /** {@code node.mode}. */
    public enum NodeMode {
        /** Leads when no other writer does, else stands by to take over. */
        WRITER,
        /** Follows the journal and serves reads; never writes. */
        READER
    }

    /**
     * @param directory              {@code data.dir}: absolute and normalized (a relative value is
     *                               relative to the working directory)
     * @param idempotencyWindow      {@code idempotency.window}: how long an idempotency key is
     *                               remembered; whole seconds
     * @param snapshotEveryEvents    {@code snapshot.every_events}: 0 for never
     * @param checkpointEveryEvents  {@code checkpoint.every_events}: a read model and the
     *                               outbox write a checkpoint at least this often (and after a
     *                               minute with something new, and at a clean stop)
     * @param journalSegmentBytesMax {@code journal.segment_bytes}: a journal segment is closed once it
     *                               would grow past this
     * @param kekFile                {@code keys.kek_file}: the key-encryption key that wraps the
     *                               accounts' data keys; by default {@code keys/kek} in the data
     *                               directory; absolute and normalized
     */
    public record Data(Path directory, Duration idempotencyWindow, long snapshotEveryEvents,
                       long checkpointEveryEvents, long journalSegmentBytesMax, Path kekFile) {
        /** The idempotency window in microseconds, the engine's unit. */
        public long idempotencyWindowMicros() {
            return TimeUnit.SECONDS.toMicros(idempotencyWindow.getSeconds());
        }
    }

    /**
     * @param openRatePerMinute      {@code http.open_rate_per_minute}: how many accounts one client
     *                               address may open a minute (a burst of this many, then one every
     *                               {@code 60 / rate} seconds); 0 for no limit
     * @param moneyCommandsPerMinute {@code limits.money_commands_per_minute}: how many transfers and
     *                               withdrawals one account may ask for a minute (a burst of this
     *                               many, then one every {@code 60 / rate} seconds; a batch counts
     *                               each transfer); 0 for no limit
     * @param whatIfReplayEventsMax  {@code whatif.replay_events_max}: the most events one what-if may
     *                               decide again
     */
    public record RequestLimits(int openRatePerMinute, int moneyCommandsPerMinute, long whatIfReplayEventsMax) {}

    /**
     * @param transport       {@code mail.transport}
     * @param from            {@code mail.from} as given, for the From header:
     *                        {@code eventbank <noreply@localhost>}
     * @param fromAddress     the address alone of {@code mail.from}, for the SMTP envelope:
     *                        {@code noreply@localhost}
     * @param retryBackoffMax {@code mail.retry_backoff_max}: the longest pause between two attempts
     *                        at a mail while the mail server fails; the outbox retries without end,
     *                        the pause doubling from 0.25 s to this
     * @param smtp            the {@code mail.smtp.*} settings, present exactly when
     *                        {@code mail.transport} is smtp
     * @param mailgun         the {@code mail.mailgun.*} settings, present exactly when
     *                        {@code mail.transport} is mailgun
     */
    public record Mail(MailTransportKind transport, String from, String fromAddress, Duration retryBackoffMax,
                       Optional<SmtpSettings> smtp, Optional<MailgunSettings> mailgun) {}

    /** Where a key's value came from, or empty when the key is unset. */
    public Optional<Source> sourceOf(ConfigKey key) {
        return Optional.ofNullable(shown.get(key.ordinal()).source());
    }

    /**
     * The engine's configuration: {@link EngineConfig#defaults(Path)} for the data directory, with
     * the journal's segment size, the snapshot interval and the idempotency window from here, and
     * the server's evidence of committed seqs ({@link DataDirectoryEvidence}).
     */
    public EngineConfig engineConfig() {
        Path dataDirectory = data.directory();
        EngineConfig defaults = EngineConfig.defaults(dataDirectory);
        EngineConfig.Builder builder = defaults.toBuilder();
        switch (auth.serverKey().orElse(null)) {
            case ServerKeySource.Given given -> builder.serverKey(given.key());
            case ServerKeySource.File file -> builder.serverKey(file.key());
            case null -> { }
        }
        return builder
                .segmentBytesMax(data.journalSegmentBytesMax())
                .kekFile(data.kekFile())
                .snapshots(data.snapshotEveryEvents(), EngineConfig.SNAPSHOTS_NEWEST_KEPT_DEFAULT,
                        EngineConfig.SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT)
                .idempotencyWindowMicros(data.idempotencyWindowMicros())
                .evidence(DataDirectoryEvidence.sources(defaults.storage(), dataDirectory))
                .build();
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
                .append(propertiesFile.map(file -> "properties file: " + file).orElse("no properties file"))
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
