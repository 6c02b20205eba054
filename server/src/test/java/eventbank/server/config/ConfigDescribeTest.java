package eventbank.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.EngineConfig;
import eventbank.server.mail.MailgunRegion;
import eventbank.server.mail.MailgunSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up log's view of the configuration, and the engine's configuration made from it. */
class ConfigDescribeTest {
    private static final String OPERATOR_KEY = "operator-0123456789abcdef";
    private static final String SMTP_PASSWORD = "smtp-hunter2-password";
    private static final String MAILGUN_API_KEY = "key-mailgun-0123456789";

    @TempDir
    Path workingDirectory;

    @Test
    void describeListsEveryKeyWithItsValueAndSource() throws IOException {
        Path file = Files.writeString(workingDirectory.resolve("eventbank.properties"), "http.host=0.0.0.0\n");
        Config config = new ConfigLoader(Map.of("EVENTBANK_HTTP_PORT", "9090"), workingDirectory)
                .load(Map.of("auth.bcrypt_cost", "4"));
        String described = config.describe();
        assertThat(described.lines()).hasSize(ConfigKey.values().length + 1);
        assertThat(described.lines().skip(1).map(line -> line.strip().split(" ")[0]))
                .containsExactly(Arrays.stream(ConfigKey.values()).map(ConfigKey::key).toArray(String[]::new));
        assertThat(described).startsWith("configuration (properties file: " + file + ")\n")
                .contains("  http.host                        = 0.0.0.0 (from file " + file + ")\n")
                .contains("  http.port                        = 9090 (from environment EVENTBANK_HTTP_PORT)\n")
                .contains("  public.url                       = http://localhost:9090 (default, follows http.port)\n")
                .contains("  http.request_body_bytes_max      = 1048576 (1 MiB) (default)\n")
                .contains("  data.dir                         = " + workingDirectory.resolve("data") + " (default)\n")
                .contains("  operator.key                     = (not set)\n")
                .contains("  auth.bcrypt_cost                 = 4 (from the command line)\n")
                .contains("  auth.token_ttl                   = PT15M (15 minutes) (default)\n")
                .contains("  idempotency.window               = PT24H (24 hours) (default)\n")
                .contains("  journal.segment_bytes            = 268435456 (256 MiB) (default)\n")
                .contains("  mail.transport                   = file (default)\n")
                .contains("  mail.smtp.port                   = 587 "
                        + "(default, the usual port for mail.smtp.security=starttls)\n");
        assertThat(config.toString()).isEqualTo(described);
    }

    @Test
    void secretsAreMaskedInDescribeAndInToString() {
        Config config = new ConfigLoader(Map.of("EVENTBANK_OPERATOR_KEY", OPERATOR_KEY,
                "EVENTBANK_MAIL_MAILGUN_API_KEY", MAILGUN_API_KEY), workingDirectory)
                .load(Map.of("mail.transport", "smtp", "mail.smtp.host", "mail.bank.example", "mail.smtp.user", "bank",
                        "mail.smtp.password", SMTP_PASSWORD, "mail.mailgun.domain", "mg.bank.example"));
        assertThat(config.auth().operatorKey()).contains(OPERATOR_KEY);
        assertThat(config.mail().smtp().orElseThrow().password()).isEqualTo(SMTP_PASSWORD);
        String described = config.describe();
        assertThat(described).doesNotContain(OPERATOR_KEY).doesNotContain(SMTP_PASSWORD).doesNotContain(MAILGUN_API_KEY)
                .contains("  operator.key                     = *** (from environment EVENTBANK_OPERATOR_KEY)\n")
                .contains("  mail.smtp.user                   = bank (from the command line)\n")
                .contains("  mail.smtp.password               = *** (from the command line)\n")
                .contains("  mail.mailgun.api_key             = *** (from environment EVENTBANK_MAIL_MAILGUN_API_KEY)\n");
        assertThat(config.toString()).doesNotContain(OPERATOR_KEY).doesNotContain(SMTP_PASSWORD);
        assertThat(config.mail().smtp().orElseThrow().toString()).doesNotContain(SMTP_PASSWORD).contains("password=***");
        MailgunSettings mailgun = new MailgunSettings("mg.bank.example", MAILGUN_API_KEY, MailgunRegion.US);
        assertThat(mailgun.toString()).doesNotContain(MAILGUN_API_KEY).contains("apiKey=***");
    }

    @Test
    void describeSaysWhenNoFileWasRead() {
        Config config = new ConfigLoader(Map.of(), workingDirectory).load(Map.of("snapshot.every_events", "0"));
        assertThat(config.describe()).startsWith("configuration (no properties file)\n")
                .contains("  snapshot.every_events            = 0 (never) (from the command line)\n");
    }

    @Test
    void theEngineConfigTakesTheDataDirectorySegmentsSnapshotsAndIdempotencyWindow() {
        Config config = new ConfigLoader(Map.of(), workingDirectory).load(Map.of("data.dir", "bank",
                "journal.segment_bytes", "64MiB", "snapshot.every_events", "5000", "idempotency.window", "PT2M"));
        EngineConfig engine = config.engineConfig();
        EngineConfig defaults = EngineConfig.defaults(workingDirectory.resolve("bank"));
        assertThat(engine.dataDirectory()).isEqualTo(workingDirectory.resolve("bank"));
        assertThat(engine.segmentBytesMax()).isEqualTo(64L << 20);
        assertThat(engine.snapshotEveryEvents()).isEqualTo(5000);
        assertThat(engine.idempotencyWindowMicros()).isEqualTo(120_000_000L);
        assertThat(engine.snapshotsNewestKept()).isEqualTo(defaults.snapshotsNewestKept());
        assertThat(engine.snapshotHistorySpanEvents()).isEqualTo(defaults.snapshotHistorySpanEvents());
        assertThat(engine.sequencerLimits()).isEqualTo(defaults.sequencerLimits());
        assertThat(engine.serverKey()).as("loaded or made in the data directory").isNull();
        assertThat(engine.lockDataDirectory()).isTrue();
        assertThat(engine.storage()).isNotNull();
        assertThat(engine.clockMicros()).isNotNull();
        assertThat(engine.accountNumbers()).isNotNull();
    }

    @Test
    void theDefaultEngineConfigIsTheEnginesOwnDefault() {
        EngineConfig engine = new ConfigLoader(Map.of(), workingDirectory).load(Map.of()).engineConfig();
        EngineConfig defaults = EngineConfig.defaults(workingDirectory.resolve("data"));
        assertThat(engine.segmentBytesMax()).isEqualTo(defaults.segmentBytesMax());
        assertThat(engine.snapshotEveryEvents()).isEqualTo(defaults.snapshotEveryEvents());
        assertThat(engine.idempotencyWindowMicros()).isEqualTo(defaults.idempotencyWindowMicros());
    }
}
