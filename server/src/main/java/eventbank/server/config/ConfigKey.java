package eventbank.server.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every configuration key, in the order {@link Config#describe()} and docs/CONFIGURATION.md list
 * them. A key not in this list is an error in the properties file (a typo must not be silently
 * ignored) and is ignored in the environment (which holds unrelated things).
 *
 * <p>The default here is the text a key has when no source sets it, parsed like any other
 * value; null means that the key is unset by default or that its default is derived from other
 * keys ({@code public.url} from {@code http.port}, {@code mail.smtp.port} from
 * {@code mail.smtp.security}).
 */
public enum ConfigKey {
    HTTP_HOST("http.host", "127.0.0.1", false),
    HTTP_PORT("http.port", "8080", false),
    PUBLIC_URL("public.url", null, false),
    HTTP_REQUEST_BODY_BYTES_MAX("http.request_body_bytes_max", "1MiB", false),
    HTTP_OPEN_RATE_PER_MINUTE("http.open_rate_per_minute", "30", false),
    HTTP_CONNECTIONS_MAX("http.connections_max", "512", false),
    HTTP_IDLE_TIMEOUT("http.idle_timeout", "PT30S", false),
    HTTP_HEADER_TIMEOUT("http.header_timeout", "PT10S", false),
    DATA_DIR("data.dir", "data", false),
    OPERATOR_KEY("operator.key", null, true),
    AUTH_BCRYPT_COST("auth.bcrypt_cost", "12", false),
    AUTH_TOKEN_TTL("auth.token_ttl", "PT15M", false),
    IDEMPOTENCY_WINDOW("idempotency.window", "PT24H", false),
    SNAPSHOT_EVERY_EVENTS("snapshot.every_events", "1000000", false),
    CHECKPOINT_EVERY_EVENTS("checkpoint.every_events", "10000000", false),
    JOURNAL_SEGMENT_BYTES("journal.segment_bytes", "256MiB", false),
    JOURNAL_URL("journal.url", null, false),
    JOURNAL_USER("journal.user", null, false),
    JOURNAL_PASSWORD("journal.password", null, true),
    JOURNAL_POLL_INTERVAL("journal.poll_interval", "PT0.1S", false),
    JOURNAL_REQUIRE_SYNC_STANDBY("journal.require_sync_standby", "false", false),
    JOURNAL_RESOLVE_TIMEOUT("journal.resolve_timeout", "PT30S", false),
    NODE_MODE("node.mode", "writer", false),
    NODE_NAME("node.name", null, false),
    NODE_URL("node.url", null, false),
    NODE_LEASE("node.lease", "PT2S", false),
    SERVER_KEY("server.key", null, true),
    SERVER_KEY_FILE("server.key_file", null, false),
    KEYS_KEK_FILE("keys.kek_file", null, false),
    WHATIF_REPLAY_EVENTS_MAX("whatif.replay_events_max", "2000000", false),
    LIMITS_MONEY_COMMANDS_PER_MINUTE("limits.money_commands_per_minute", "60", false),
    MAIL_TRANSPORT("mail.transport", "file", false),
    MAIL_FROM("mail.from", "eventbank <noreply@localhost>", false),
    MAIL_RETRY_BACKOFF_MAX("mail.retry_backoff_max", "PT1M", false),
    MAIL_SMTP_HOST("mail.smtp.host", null, false),
    MAIL_SMTP_PORT("mail.smtp.port", null, false),
    MAIL_SMTP_SECURITY("mail.smtp.security", "starttls", false),
    MAIL_SMTP_USER("mail.smtp.user", null, false),
    MAIL_SMTP_PASSWORD("mail.smtp.password", null, true),
    MAIL_MAILGUN_DOMAIN("mail.mailgun.domain", null, false),
    MAIL_MAILGUN_API_KEY("mail.mailgun.api_key", null, true),
    MAIL_MAILGUN_REGION("mail.mailgun.region", "us", false);

    /** What every environment variable of the configuration starts with. */
    public static final String ENVIRONMENT_PREFIX = "EVENTBANK_";

    private static final Map<String, ConfigKey> BY_KEY = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(ConfigKey::key, Function.identity()));

    private final String key;
    private final String defaultText;
    private final boolean secret;

    ConfigKey(String key, String defaultText, boolean secret) {
        this.key = key;
        this.defaultText = defaultText;
        this.secret = secret;
    }

    /** The key as written in the properties file: {@code http.port}. */
    public String key() {
        return key;
    }

    /** The environment variable that sets this key: {@code EVENTBANK_HTTP_PORT}. */
    public String environmentVariable() {
        return environmentVariableOf(key);
    }

    /** The default's text, or empty when the key is unset by default or its default is derived. */
    public Optional<String> defaultText() {
        return Optional.ofNullable(defaultText);
    }

    /** Whether the value is a secret, shown as {@code ***} in messages and in the start-up log. */
    public boolean secret() {
        return secret;
    }

    public static Optional<ConfigKey> byKey(String key) {
        return Optional.ofNullable(BY_KEY.get(key));
    }

    /** {@code EVENTBANK_} and the key upper-cased with {@code .} and {@code -} turned into {@code _}. */
    public static String environmentVariableOf(String key) {
        return ENVIRONMENT_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    @Override
    public String toString() {
        return key;
    }
}
