package eventbank.server.config;

import eventbank.engine.keys.PersonalKeys;
import eventbank.server.mail.MailgunRegion;
import eventbank.server.mail.MailgunSettings;
import eventbank.server.mail.SmtpSecurity;
import eventbank.server.mail.SmtpSettings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Turns the chosen text of every key into a {@link Config}: parses each value, fills the derived
 * defaults, checks the keys that go together, and collects every problem before failing, so that
 * one start reports them all.
 */
final class ConfigParser {
    /** bcrypt's cost is a power of two of rounds; 4 and 31 are the bounds of the algorithm itself. */
    static final int BCRYPT_COST_MIN = 4;
    static final int BCRYPT_COST_MAX = 31;
    /** Short tokens are safe (only annoying); a bearer token valid for days is a risk, and cannot be revoked. */
    static final Duration TOKEN_TTL_MIN = Duration.ofSeconds(1);
    static final Duration TOKEN_TTL_MAX = Duration.ofHours(24);
    /**
     * A client retries with the same key after a timeout; a window shorter than its retries would
     * record the command twice. The window's keys are held in memory and in every snapshot.
     */
    static final Duration IDEMPOTENCY_WINDOW_MIN = Duration.ofMinutes(1);
    static final Duration IDEMPOTENCY_WINDOW_MAX = Duration.ofDays(30);
    /** 0 means never; small values are for tests (the example app's policy was 5). */
    static final long SNAPSHOT_EVERY_EVENTS_MAX = 1_000_000_000_000L;
    /** A segment takes at least one batch (up to 64 MiB) whatever its size; below 1 MiB, files pile up. */
    static final long JOURNAL_SEGMENT_BYTES_MIN = Values.MIB;
    static final long JOURNAL_SEGMENT_BYTES_MAX = 64 * Values.GIB;
    /**
     * The largest request is a batch of 1,000 transfers, about 64 KiB of compact JSON; the
     * body is held in memory, so the ceiling is modest.
     */
    static final long REQUEST_BODY_BYTES_MIN = Values.KIB;
    static final long REQUEST_BODY_BYTES_MAX = 64 * Values.MIB;
    /**
     * Opening an account sends a mail and costs a bcrypt hash; no one person opens thousands a
     * minute. 0 means no limit (load tests open 10,000 accounts from loopback).
     */
    static final int OPEN_RATE_PER_MINUTE_MAX = 1_000_000;
    /**
     * Each connection holds a file descriptor, and so do the journal, the snapshots and the outbox:
     * a client that could open connections without end would leave the journal none (finding 4 of
     * docs/RELIABILITY.md). Below 8, a handful of keep-alive clients would lock everyone else out.
     */
    static final int CONNECTIONS_MAX_MIN = 8;
    static final int CONNECTIONS_MAX_MAX = 1_000_000;
    /** A connection idle for this long is closed; below a second, keep-alive is worth nothing. */
    static final Duration IDLE_TIMEOUT_MIN = Duration.ofSeconds(1);
    static final Duration IDLE_TIMEOUT_MAX = Duration.ofHours(1);
    /**
     * A request's headers must arrive within this of its first byte. Any client sends them in one
     * packet; minutes would let a trickling sender hold a connection that long.
     */
    static final Duration HEADER_TIMEOUT_MIN = Duration.ofSeconds(1);
    static final Duration HEADER_TIMEOUT_MAX = Duration.ofMinutes(5);
    static final long WHATIF_REPLAY_EVENTS_MAX_MAX = 1_000_000_000L;
    /** A batch counts each of its up to 1,000 transfers; a million a minute is no limit a client meets. */
    static final int MONEY_COMMANDS_PER_MINUTE_MAX = 1_000_000;
    static final int OPERATOR_KEY_LENGTH_MIN = 16;
    static final int SECRET_LENGTH_MAX = 256;
    static final int SMTP_USER_LENGTH_MAX = 256;
    /**
     * The longest pause between two attempts at a mail during an outage. Below a second, a dead
     * server is hammered; above an hour, mail comes that long after the server is back.
     */
    static final Duration MAIL_RETRY_BACKOFF_MAX_MIN = Duration.ofSeconds(1);
    static final Duration MAIL_RETRY_BACKOFF_MAX_MAX = Duration.ofHours(1);

    /** Below 10 ms, idle nodes keep the database busy; above a minute, a node's reads fall that far behind. */
    static final Duration POLL_INTERVAL_MIN = Duration.ofMillis(10);
    static final Duration POLL_INTERVAL_MAX = Duration.ofMinutes(1);
    static final Duration RESOLVE_TIMEOUT_MIN = Duration.ofSeconds(1);
    static final Duration RESOLVE_TIMEOUT_MAX = Duration.ofHours(1);
    /**
     * A lease shorter than half a second would lapse on a garbage-collection pause or a slow
     * commit, and leaders would change for nothing; longer than a minute, a dead leader's bank
     * takes commands again only that much later.
     */
    static final Duration LEASE_MIN = Duration.ofMillis(500);
    static final Duration LEASE_MAX = Duration.ofMinutes(1);
    /** PostgreSQL keeps 63 bytes of an application_name. */
    static final int NODE_NAME_LENGTH_MAX = 63;

    private final Map<ConfigKey, Setting> settings;
    private final Path workingDirectory;
    private final List<String> problems;
    private final Map<ConfigKey, Config.Shown> shown = new EnumMap<>(ConfigKey.class);

    /**
     * @param settings         the chosen value of every key that has one, defaults included
     * @param workingDirectory what relative paths are relative to
     * @param problems         the problems found before parsing (unknown keys); more are added
     */
    ConfigParser(Map<ConfigKey, Setting> settings, Path workingDirectory, List<String> problems) {
        this.settings = new EnumMap<>(ConfigKey.class);
        this.settings.putAll(settings);
        this.workingDirectory = workingDirectory;
        this.problems = new ArrayList<>(problems);
    }

    Config parse(Path propertiesFile) {
        String httpHost = parse(ConfigKey.HTTP_HOST, Values::host, Function.identity());
        Integer httpPort = parse(ConfigKey.HTTP_PORT, Values::port, String::valueOf);
        if (httpPort != null && !settings.containsKey(ConfigKey.PUBLIC_URL)) {
            derive(ConfigKey.PUBLIC_URL, "http://localhost:" + httpPort, "follows http.port");
        }
        URI publicUrl = parse(ConfigKey.PUBLIC_URL, Values::publicUrl, URI::toString);
        Long requestBodyBytesMax = parse(ConfigKey.HTTP_REQUEST_BODY_BYTES_MAX,
                text -> Values.bytes(text, REQUEST_BODY_BYTES_MIN, REQUEST_BODY_BYTES_MAX), ConfigParser::showBytes);
        Integer openRatePerMinute = parse(ConfigKey.HTTP_OPEN_RATE_PER_MINUTE, text -> (int) Values.wholeNumber(text,
                0, OPEN_RATE_PER_MINUTE_MAX, "a number of accounts a minute from 1 to 1000000, or 0 for no limit"),
                rate -> rate == 0 ? "0 (no limit)" : String.valueOf(rate));
        Integer connectionsMax = parse(ConfigKey.HTTP_CONNECTIONS_MAX, text -> (int) Values.wholeNumber(text,
                CONNECTIONS_MAX_MIN, CONNECTIONS_MAX_MAX, "a number of connections from 8 to 1000000"), String::valueOf);
        Duration idleTimeout = parse(ConfigKey.HTTP_IDLE_TIMEOUT,
                text -> Values.duration(text, IDLE_TIMEOUT_MIN, IDLE_TIMEOUT_MAX), ConfigParser::showDuration);
        Duration headerTimeout = parse(ConfigKey.HTTP_HEADER_TIMEOUT,
                text -> Values.duration(text, HEADER_TIMEOUT_MIN, HEADER_TIMEOUT_MAX), ConfigParser::showDuration);
        Path dataDirectory = parse(ConfigKey.DATA_DIR, text -> Values.path(text, workingDirectory), Path::toString);
        if (dataDirectory != null && !settings.containsKey(ConfigKey.KEYS_KEK_FILE)) {
            derive(ConfigKey.KEYS_KEK_FILE, PersonalKeys.defaultKekFile(dataDirectory).toString(), "follows data.dir");
        }
        String operatorKey = parse(ConfigKey.OPERATOR_KEY, text -> Values.token(text, OPERATOR_KEY_LENGTH_MIN,
                SECRET_LENGTH_MAX, " (make one with: openssl rand -hex 32)"), Function.identity());
        Integer bcryptCost = parse(ConfigKey.AUTH_BCRYPT_COST, text -> (int) Values.wholeNumber(text,
                BCRYPT_COST_MIN, BCRYPT_COST_MAX, "a bcrypt cost from 4 to 31"), String::valueOf);
        Duration tokenTtl = parse(ConfigKey.AUTH_TOKEN_TTL,
                text -> Values.duration(text, TOKEN_TTL_MIN, TOKEN_TTL_MAX), ConfigParser::showDuration);
        Duration idempotencyWindow = parse(ConfigKey.IDEMPOTENCY_WINDOW,
                text -> Values.duration(text, IDEMPOTENCY_WINDOW_MIN, IDEMPOTENCY_WINDOW_MAX),
                ConfigParser::showDuration);
        Long snapshotEveryEvents = parse(ConfigKey.SNAPSHOT_EVERY_EVENTS, text -> Values.wholeNumber(text, 0,
                SNAPSHOT_EVERY_EVENTS_MAX, "a number of events from 1 to 10^12, or 0 for never"),
                every -> every == 0 ? "0 (never)" : String.valueOf(every));
        Long checkpointEveryEvents = parse(ConfigKey.CHECKPOINT_EVERY_EVENTS,
                text -> Values.wholeNumber(text, 1, SNAPSHOT_EVERY_EVENTS_MAX, "a number of events from 1 to 10^12"),
                String::valueOf);
        Long journalSegmentBytes = parse(ConfigKey.JOURNAL_SEGMENT_BYTES,
                text -> Values.bytes(text, JOURNAL_SEGMENT_BYTES_MIN, JOURNAL_SEGMENT_BYTES_MAX),
                ConfigParser::showBytes);
        Long whatIfReplayEventsMax = parse(ConfigKey.WHATIF_REPLAY_EVENTS_MAX, text -> Values.wholeNumber(text, 1,
                WHATIF_REPLAY_EVENTS_MAX_MAX, "a number of events from 1 to 10^9"), String::valueOf);
        Integer moneyCommandsPerMinute = parse(ConfigKey.LIMITS_MONEY_COMMANDS_PER_MINUTE,
                text -> (int) Values.wholeNumber(text, 0, MONEY_COMMANDS_PER_MINUTE_MAX,
                        "a number of money commands a minute from 1 to 1000000, or 0 for no limit"),
                rate -> rate == 0 ? "0 (no limit)" : String.valueOf(rate));
        Config.Mail mail = parseMail();
        Config.ServerKeySource serverKey = parseServerKey();
        Path kekFile = parse(ConfigKey.KEYS_KEK_FILE, text -> Values.path(text, workingDirectory), Path::toString);
        Config.Cluster cluster = parseCluster(httpPort, publicUrl);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new Config(
                new Config.Http(httpHost, httpPort, publicUrl, requestBodyBytesMax,
                        new HttpLimits(connectionsMax, idleTimeout, headerTimeout)),
                new Config.Auth(Optional.ofNullable(operatorKey), bcryptCost, tokenTtl, Optional.ofNullable(serverKey)),
                new Config.Data(dataDirectory, idempotencyWindow, snapshotEveryEvents, checkpointEveryEvents,
                        journalSegmentBytes, kekFile),
                new Config.RequestLimits(openRatePerMinute, moneyCommandsPerMinute, whatIfReplayEventsMax),
                mail, cluster, Optional.ofNullable(propertiesFile), orderedShown());
    }

    /** {@code server.key} or {@code server.key_file}, not both. */
    private Config.ServerKeySource parseServerKey() {
        byte[] given = parse(ConfigKey.SERVER_KEY, Values::serverKey, key -> Config.MASK);
        Config.ServerKeySource.File file = parse(ConfigKey.SERVER_KEY_FILE,
                text -> Values.serverKeyFile(Values.path(text, workingDirectory)), found -> found.path().toString());
        if (given != null && file != null) {
            problems.add(settings.get(ConfigKey.SERVER_KEY).described() + " and "
                    + settings.get(ConfigKey.SERVER_KEY_FILE).described() + " are both set; set one of them");
            return null;
        }
        return given != null ? new Config.ServerKeySource.Given(given)
                : file;
    }

    /** The journal's place and this node's part in a cluster; the node keys only matter with journal.url. */
    private Config.Cluster parseCluster(Integer httpPort, URI publicUrl) {
        String url = parse(ConfigKey.JOURNAL_URL, Values::journalUrl, Function.identity());
        String user = parse(ConfigKey.JOURNAL_USER, text -> Values.line(text, SECRET_LENGTH_MAX), Function.identity());
        String password = parse(ConfigKey.JOURNAL_PASSWORD, text -> Values.line(text, SECRET_LENGTH_MAX),
                Function.identity());
        Duration pollInterval = parse(ConfigKey.JOURNAL_POLL_INTERVAL,
                text -> Values.durationMillis(text, POLL_INTERVAL_MIN, POLL_INTERVAL_MAX), ConfigParser::showDuration);
        Boolean requireSyncStandby = parse(ConfigKey.JOURNAL_REQUIRE_SYNC_STANDBY, Values::bool, String::valueOf);
        Duration resolveTimeout = parse(ConfigKey.JOURNAL_RESOLVE_TIMEOUT,
                text -> Values.durationMillis(text, RESOLVE_TIMEOUT_MIN, RESOLVE_TIMEOUT_MAX), ConfigParser::showDuration);
        Config.NodeMode mode = parse(ConfigKey.NODE_MODE, text -> Values.choice(text, Config.NodeMode.class),
                Values::name);
        if (httpPort != null && !settings.containsKey(ConfigKey.NODE_NAME)) {
            derive(ConfigKey.NODE_NAME, Values.hostName() + ":" + httpPort, "this machine's name and http.port");
        }
        String nodeName = parse(ConfigKey.NODE_NAME, text -> Values.line(text, NODE_NAME_LENGTH_MAX),
                Function.identity());
        if (publicUrl != null && !settings.containsKey(ConfigKey.NODE_URL)) {
            derive(ConfigKey.NODE_URL, publicUrl.toString(), "follows public.url");
        }
        URI nodeUrl = parse(ConfigKey.NODE_URL, Values::publicUrl, URI::toString);
        Duration lease = parse(ConfigKey.NODE_LEASE, text -> Values.durationMillis(text, LEASE_MIN, LEASE_MAX),
                ConfigParser::showDuration);
        return new Config.Cluster(Optional.ofNullable(url), Optional.ofNullable(user), Optional.ofNullable(password),
                pollInterval, requireSyncStandby != null && requireSyncStandby, resolveTimeout, mode, nodeName, nodeUrl,
                lease);
    }

    /** The mail keys, parsed together since which of them are needed depends on the transport. */
    private Config.Mail parseMail() {
        MailTransportKind transport = parse(ConfigKey.MAIL_TRANSPORT,
                text -> Values.choice(text, MailTransportKind.class), Values::name);
        String fromAddress = parse(ConfigKey.MAIL_FROM, Values::mailboxAddress, address -> text(ConfigKey.MAIL_FROM));
        String from = fromAddress == null ? null : text(ConfigKey.MAIL_FROM);
        Duration retryBackoffMax = parse(ConfigKey.MAIL_RETRY_BACKOFF_MAX,
                text -> Values.duration(text, MAIL_RETRY_BACKOFF_MAX_MIN, MAIL_RETRY_BACKOFF_MAX_MAX),
                ConfigParser::showDuration);
        String smtpHost = parse(ConfigKey.MAIL_SMTP_HOST, Values::host, Function.identity());
        SmtpSecurity security = parse(ConfigKey.MAIL_SMTP_SECURITY,
                text -> Values.choice(text, SmtpSecurity.class), Values::name);
        if (security != null && !settings.containsKey(ConfigKey.MAIL_SMTP_PORT)) {
            derive(ConfigKey.MAIL_SMTP_PORT, String.valueOf(security.defaultPort()),
                    "the usual port for mail.smtp.security=" + Values.name(security));
        }
        Integer smtpPort = parse(ConfigKey.MAIL_SMTP_PORT, Values::port, String::valueOf);
        String smtpUser = parse(ConfigKey.MAIL_SMTP_USER, text -> Values.line(text, SMTP_USER_LENGTH_MAX),
                Function.identity());
        String smtpPassword = parse(ConfigKey.MAIL_SMTP_PASSWORD, text -> Values.line(text, SECRET_LENGTH_MAX),
                Function.identity());
        String mailgunDomain = parse(ConfigKey.MAIL_MAILGUN_DOMAIN, text -> {
            if (!Values.isHostName(text)) {
                throw new InvalidValue("is not a domain name such as mg.bank.example");
            }
            return text;
        }, Function.identity());
        String mailgunApiKey = parse(ConfigKey.MAIL_MAILGUN_API_KEY,
                text -> Values.token(text, 1, SECRET_LENGTH_MAX, ""), Function.identity());
        MailgunRegion region = parse(ConfigKey.MAIL_MAILGUN_REGION,
                text -> Values.choice(text, MailgunRegion.class), Values::name);

        SmtpSettings smtp = null;
        MailgunSettings mailgun = null;
        // Non-short-circuit '&' below, so that every missing key is reported, not only the first.
        if (transport == MailTransportKind.SMTP) {
            boolean complete = need(ConfigKey.MAIL_SMTP_HOST)
                    & pair(ConfigKey.MAIL_SMTP_USER, ConfigKey.MAIL_SMTP_PASSWORD)
                    & pair(ConfigKey.MAIL_SMTP_PASSWORD, ConfigKey.MAIL_SMTP_USER);
            if (complete && smtpHost != null && smtpPort != null && security != null
                    && wellProtected(smtpHost, security, smtpPassword)
                    && (smtpUser == null) == (smtpPassword == null)) {
                smtp = new SmtpSettings(smtpHost, smtpPort, security, smtpUser, smtpPassword);
            }
        } else if (transport == MailTransportKind.MAILGUN) {
            boolean complete = need(ConfigKey.MAIL_MAILGUN_DOMAIN) & need(ConfigKey.MAIL_MAILGUN_API_KEY);
            if (complete && mailgunDomain != null && mailgunApiKey != null && region != null) {
                mailgun = new MailgunSettings(mailgunDomain, mailgunApiKey, region);
            }
        }
        return new Config.Mail(transport, from, fromAddress, retryBackoffMax, Optional.ofNullable(smtp),
                Optional.ofNullable(mailgun));
    }

    /** The transport chosen needs this key: a problem if it is not set. */
    private boolean need(ConfigKey key) {
        if (settings.containsKey(key)) {
            return true;
        }
        problems.add(settings.get(ConfigKey.MAIL_TRANSPORT).described() + " needs " + key + ", which is not set (set "
                + key + " in the properties file or " + key.environmentVariable() + " in the environment)");
        return false;
    }

    /** A key that needs another one with it (a user and a password): a problem if one is set without the other. */
    private boolean pair(ConfigKey key, ConfigKey partner) {
        if (!settings.containsKey(key) || settings.containsKey(partner)) {
            return true;
        }
        problems.add(settings.get(key).described() + " is set but " + partner + " is not; set both to log in to the "
                + "SMTP server, or neither to send without logging in");
        return false;
    }

    /** A password must not cross a network in clear text: with security none, only to this machine. */
    private boolean wellProtected(String host, SmtpSecurity security, String password) {
        if (password == null || security != SmtpSecurity.NONE || Values.isLoopback(host)) {
            return true;
        }
        problems.add(settings.get(ConfigKey.MAIL_SMTP_PASSWORD).described() + " would cross the network in clear text "
                + "to " + host + " with " + settings.get(ConfigKey.MAIL_SMTP_SECURITY).described()
                + "; use starttls or smtps");
        return false;
    }

    /**
     * Parses one key's value if it has one: the typed value, or null when it is unset or does
     * not parse (then a problem is recorded that names the key, the value and its source).
     */
    private <T> T parse(ConfigKey key, Function<String, T> parser, Function<T, String> show) {
        Setting setting = settings.get(key);
        if (setting == null) {
            shown.put(key, new Config.Shown(key, null, null));
            return null;
        }
        try {
            T value = parser.apply(setting.text());
            shown.put(key, new Config.Shown(key, key.secret() ? Config.MASK : show.apply(value), setting.source()));
            return value;
        } catch (InvalidValue e) {
            problems.add(setting.described() + " " + e.getMessage());
            return null;
        }
    }

    private void derive(ConfigKey key, String text, String follows) {
        settings.put(key, new Setting(key, text, Source.derivedDefault(follows)));
    }

    private String text(ConfigKey key) {
        return settings.get(key).text();
    }

    private List<Config.Shown> orderedShown() {
        List<Config.Shown> ordered = new ArrayList<>();
        for (ConfigKey key : ConfigKey.values()) {
            ordered.add(shown.get(key));
        }
        return ordered;
    }

    private static String showBytes(long bytes) {
        return bytes + " (" + Values.human(bytes) + ")";
    }

    private static String showDuration(Duration duration) {
        return duration + " (" + Values.human(duration) + ")";
    }
}
