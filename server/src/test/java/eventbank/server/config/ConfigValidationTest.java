package eventbank.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import eventbank.server.mail.MailgunRegion;
import eventbank.server.mail.MailgunSettings;
import eventbank.server.mail.SmtpSecurity;
import eventbank.server.mail.SmtpSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every key's parsing and range, and messages that name the key, the value and its source. */
class ConfigValidationTest {
    @TempDir
    Path workingDirectory;

    private Config load(Map<String, String> commandLine) {
        return new ConfigLoader(Map.of(), workingDirectory).load(commandLine);
    }

    private Config loadValue(String key, String value) {
        return load(Map.of(key, value));
    }

    private String problemOf(Map<String, String> environment, Map<String, String> commandLine) {
        ConfigException thrown = catchThrowableOfType(ConfigException.class,
                () -> new ConfigLoader(environment, workingDirectory).load(commandLine));
        assertThat(thrown).as("a ConfigException").isNotNull();
        assertThat(thrown.problems()).hasSize(1);
        return thrown.getMessage();
    }

    /** One row per way a value can be wrong; each is tried from the command line, the environment and the file. */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "http.port                   | abc          | is not a port number 1-65535",
        "http.port                   | 0            | is not a port number 1-65535",
        "http.port                   | 65536        | is not a port number 1-65535",
        "http.port                   | -1           | is not a port number 1-65535",
        "http.port                   | 99999999999999999999 | is not a port number 1-65535",
        "http.host                   | http://x     | is not a host name or IP address",
        "http.host                   | bank.example:80 | is not a host name or IP address",
        "http.host                   | exa mple     | is not a host name or IP address",
        "http.host                   | 300.1.1.1    | is not a host name or IP address",
        "public.url                  | bank.example | is not an http:// or https:// URL",
        "public.url                  | ftp://bank.example | is not an http:// or https:// URL",
        "public.url                  | https://bank.example/?a=1 | has a query or a fragment",
        "public.url                  | https://me@bank.example | holds a user name",
        "public.url                  | https://bank example | is not a URL",
        "http.request_body_bytes_max | 1MB          | has an unknown unit 'MB'",
        "http.request_body_bytes_max | 100          | is not a size from 1 KiB to 64 MiB",
        "http.request_body_bytes_max | 1GiB         | is not a size from 1 KiB to 64 MiB",
        "http.request_body_bytes_max | 1.5MiB       | is not a size: give a whole number of bytes",
        "http.open_rate_per_minute   | -1           | is not a number of accounts a minute from 1 to 1000000, or 0",
        "http.open_rate_per_minute   | 1000001      | is not a number of accounts a minute from 1 to 1000000, or 0",
        "http.open_rate_per_minute   | 2.5          | is not a number of accounts a minute from 1 to 1000000, or 0",
        "http.open_rate_per_minute   | lots         | is not a number of accounts a minute from 1 to 1000000, or 0",
        "http.connections_max        | 7            | is not a number of connections from 8 to 1000000",
        "http.connections_max        | 1000001      | is not a number of connections from 8 to 1000000",
        "http.connections_max        | many         | is not a number of connections from 8 to 1000000",
        "http.idle_timeout           | 0            | is not a duration from 1 second to 1 hour",
        "http.idle_timeout           | PT2H         | is not a duration from 1 second to 1 hour",
        "http.idle_timeout           | 30s          | is not a duration: give an ISO-8601 duration",
        "http.header_timeout         | 0            | is not a duration from 1 second to 5 minutes",
        "http.header_timeout         | PT6M         | is not a duration from 1 second to 5 minutes",
        "http.header_timeout         | PT0.5S       | is not a whole number of seconds",
        "auth.bcrypt_cost            | 3            | is not a bcrypt cost from 4 to 31",
        "auth.bcrypt_cost            | 32           | is not a bcrypt cost from 4 to 31",
        "auth.bcrypt_cost            | twelve       | is not a bcrypt cost from 4 to 31",
        "auth.token_ttl              | 15m          | is not a duration: give an ISO-8601 duration such as PT15M",
        "auth.token_ttl              | 0            | is not a duration from 1 second to 24 hours",
        "auth.token_ttl              | P2D          | is not a duration from 1 second to 24 hours",
        "auth.token_ttl              | PT0.5S       | is not a whole number of seconds",
        "auth.token_ttl              | -PT5M        | is not a duration from 1 second to 24 hours",
        "auth.token_ttl              | P1M          | is not a duration: give an ISO-8601 duration",
        "idempotency.window          | 59           | is not a duration from 1 minute to 30 days",
        "idempotency.window          | P31D         | is not a duration from 1 minute to 30 days",
        "snapshot.every_events       | -5           | is not a number of events from 1 to 10^12, or 0 for never",
        "snapshot.every_events       | 1e6          | is not a number of events from 1 to 10^12, or 0 for never",
        "journal.segment_bytes       | 1KiB         | is not a size from 1 MiB to 64 GiB",
        "journal.segment_bytes       | 65GiB        | is not a size from 1 MiB to 64 GiB",
        "journal.segment_bytes       | 256M         | has an unknown unit 'M'",
        "whatif.replay_events_max    | 0            | is not a number of events from 1 to 10^9",
        "whatif.replay_events_max    | 1000000001   | is not a number of events from 1 to 10^9",
        "limits.money_commands_per_minute | -1      | is not a number of money commands a minute from 1 to 1000000, or 0",
        "limits.money_commands_per_minute | 1000001 | is not a number of money commands a minute from 1 to 1000000, or 0",
        "limits.money_commands_per_minute | 1.5     | is not a number of money commands a minute from 1 to 1000000, or 0",
        "mail.transport              | sendmail     | is not one of file, smtp, mailgun",
        "mail.from                   | noreply      | is not a mailbox such as",
        "mail.from                   | bank <noreply@> | is not a mailbox such as",
        "mail.from                   | a <b> <c@d.test> | is not a mailbox such as",
        "mail.smtp.port              | 0            | is not a port number 1-65535",
        "mail.smtp.host              | smtp://mail.example | is not a host name or IP address",
        "mail.smtp.security          | ssl          | is not one of none, starttls, smtps",
        "mail.mailgun.region         | asia         | is not one of us, eu",
        "mail.mailgun.domain         | mg_bank      | is not a domain name such as mg.bank.example",
    })
    void everyBadValueIsNamedWithItsKeyAndItsSource(String key, String value, String reason) throws IOException {
        String variable = ConfigKey.environmentVariableOf(key);
        assertThat(problemOf(Map.of(), Map.of(key, value)))
                .startsWith(key + "=" + value + " (from the command line) " + reason);
        assertThat(problemOf(Map.of(variable, value), Map.of()))
                .startsWith(key + "=" + value + " (from environment " + variable + ") " + reason);
        Path file = Files.writeString(workingDirectory.resolve("eventbank.properties"),
                key + "=" + value.replace("\\", "\\\\") + "\n");
        assertThat(problemOf(Map.of(), Map.of()))
                .startsWith(key + "=" + value + " (from file " + file + ") " + reason);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "operator.key | short-key | is too short: 9 characters, at least 16 are needed (make one with: openssl rand -hex 32)",
        "operator.key | with spaces in the key | holds a character other than printable ASCII (spaces included)",
        "mail.mailgun.api_key | key\u00e9-abc  | holds a character other than printable ASCII (spaces included)",
    })
    void aSecretThatIsWrongIsNamedButNeverShown(String key, String value, String reason) {
        String variable = ConfigKey.environmentVariableOf(key);
        assertThat(problemOf(Map.of(), Map.of(key, value)))
                .isEqualTo(key + "=*** (from the command line) " + reason).doesNotContain(value);
        assertThat(problemOf(Map.of(variable, value), Map.of()))
                .isEqualTo(key + "=*** (from environment " + variable + ") " + reason).doesNotContain(value);
    }

    @Test
    void aSmtpPasswordWithALineBreakIsRefusedWithoutShowingIt() {
        assertThat(problemOf(Map.of(), Map.of("mail.smtp.password", "pass\u0007word")))
                .isEqualTo("mail.smtp.password=*** (from the command line) contains a line break or another "
                        + "control character");
    }

    @Test
    void aSenderWithALineBreakCannotAddHeaders() {
        assertThat(problemOf(Map.of("EVENTBANK_MAIL_FROM", "a@b.test\r\nBcc: victim@c.test"), Map.of()))
                .startsWith("mail.from=").contains("(from environment EVENTBANK_MAIL_FROM) contains a line break");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        ConfigException thrown = catchThrowableOfType(ConfigException.class, () -> load(Map.of(
                "http.port", "abc", "auth.bcrypt_cost", "40", "auth.token_ttl", "soon")));
        assertThat(thrown.problems()).hasSize(3);
        assertThat(thrown.getMessage()).startsWith("3 problems in the configuration: http.port=abc")
                .contains("; auth.bcrypt_cost=40").contains("; auth.token_ttl=soon");
    }

    @ParameterizedTest(name = "{0} -> {1} s")
    @CsvSource(delimiter = '|', value = {
        "900      | 900",
        "PT15M    | 900",
        "pt15m    | 900",
        "PT1H30M  | 5400",
        "P1D      | 86400",
        "PT86400S | 86400",
        "1        | 1",
        "86_400   | 86400",
    })
    void durationsAreIso8601OrWholeSeconds(String text, long seconds) {
        assertThat(loadValue("auth.token_ttl", text).auth().tokenTtl()).isEqualTo(Duration.ofSeconds(seconds));
    }

    @Test
    void idempotencyWindowsInBothForms() {
        assertThat(loadValue("idempotency.window", "P30D").data().idempotencyWindow()).isEqualTo(Duration.ofDays(30));
        assertThat(loadValue("idempotency.window", "120").data().idempotencyWindow()).isEqualTo(Duration.ofMinutes(2));
        assertThat(loadValue("idempotency.window", "120").data().idempotencyWindowMicros()).isEqualTo(120_000_000L);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "1048576    | 1048576",
        "1MiB       | 1048576",
        "1 MiB      | 1048576",
        "1mib       | 1048576",
        "64KiB      | 65536",
        "2048B      | 2048",
        "1_048_576  | 1048576",
        "64 MiB     | 67108864",
    })
    void sizesAreBytesOrBinaryUnits(String text, long bytes) {
        assertThat(loadValue("http.request_body_bytes_max", text).http().requestBodyBytesMax()).isEqualTo(bytes);
    }

    @Test
    void openRatesPerMinuteWithZeroForNoLimit() {
        assertThat(load(Map.of()).limits().openRatePerMinute()).isEqualTo(30);
        assertThat(loadValue("http.open_rate_per_minute", "0").limits().openRatePerMinute()).isZero();
        assertThat(loadValue("http.open_rate_per_minute", "1_000").limits().openRatePerMinute()).isEqualTo(1000);
        assertThat(load(Map.of("http.open_rate_per_minute", "0")).describe())
                .contains("http.open_rate_per_minute        = 0 (no limit) (from the command line)");
    }

    @Test
    void moneyCommandsPerMinuteWithZeroForNoLimit() {
        assertThat(load(Map.of()).limits().moneyCommandsPerMinute()).isEqualTo(60);
        assertThat(loadValue("limits.money_commands_per_minute", "0").limits().moneyCommandsPerMinute()).isZero();
        assertThat(load(Map.of()).describe()).contains("limits.money_commands_per_minute = 60 (default)");
        assertThat(new ConfigLoader(Map.of("EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE", "0"), workingDirectory)
                .load(Map.of()).limits().moneyCommandsPerMinute()).as("the benchmarks turn it off so").isZero();
    }

    @Test
    void httpLimitsHaveDefaultsAndAreSetLikeEveryKey() {
        HttpLimits defaults = load(Map.of()).http().connections();
        assertThat(defaults).isEqualTo(new HttpLimits(512, Duration.ofSeconds(30), Duration.ofSeconds(10)))
                .isEqualTo(HttpLimits.defaults());
        Config config = new ConfigLoader(Map.of("EVENTBANK_HTTP_CONNECTIONS_MAX", "64",
                "EVENTBANK_HTTP_IDLE_TIMEOUT", "PT2M", "EVENTBANK_HTTP_HEADER_TIMEOUT", "3"), Path.of("/srv"))
                .load(Map.of());
        assertThat(config.http().connections()).isEqualTo(new HttpLimits(64, Duration.ofMinutes(2), Duration.ofSeconds(3)));
        assertThat(config.describe()).contains(
                "http.connections_max             = 64 (from environment EVENTBANK_HTTP_CONNECTIONS_MAX)",
                "http.header_timeout              = PT3S (3 seconds) (from environment EVENTBANK_HTTP_HEADER_TIMEOUT)");
    }

    @Test
    void journalSegmentsAndSnapshots() {
        Config config = load(Map.of("journal.segment_bytes", "1GiB", "snapshot.every_events", "0"));
        assertThat(config.data().journalSegmentBytesMax()).isEqualTo(1L << 30);
        assertThat(config.data().snapshotEveryEvents()).isZero();
        assertThat(loadValue("snapshot.every_events", "5").data().snapshotEveryEvents()).isEqualTo(5);
        assertThat(loadValue("snapshot.every_events", "10_000_000").data().snapshotEveryEvents()).isEqualTo(10_000_000);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1        | 127.0.0.1",
        "0.0.0.0          | 0.0.0.0",
        "localhost        | localhost",
        "bank.example.com | bank.example.com",
        "::               | ::",
        "::1              | ::1",
        "[::1]            | ::1",
        "fe80::1%eth0     | fe80::1%eth0",
    })
    void hostsAreNamesOrAddresses(String text, String host) {
        assertThat(loadValue("http.host", text).http().host()).isEqualTo(host);
    }

    @Test
    void bcryptCostsFromFourToThirtyOne() {
        assertThat(loadValue("auth.bcrypt_cost", "4").auth().bcryptCost()).isEqualTo(4);
        assertThat(loadValue("auth.bcrypt_cost", "31").auth().bcryptCost()).isEqualTo(31);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "http://localhost:8080          | http://localhost:8080",
        "HTTPS://bank.example/          | https://bank.example",
        "https://bank.example/eventbank | https://bank.example/eventbank",
        "https://[::1]:8443//           | https://[::1]:8443",
    })
    void publicUrlsAreHttpOrHttpsWithoutATrailingSlash(String text, String url) {
        assertThat(loadValue("public.url", text).http().publicUrl()).isEqualTo(URI.create(url));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "noreply@bank.example                   | noreply@bank.example",
        "eventbank <noreply@bank.example>       | noreply@bank.example",
        "\"Bank, Inc.\" <no.reply+x@bank.example> | no.reply+x@bank.example",
        "<noreply@bank.example>                 | noreply@bank.example",
    })
    void sendersAreMailboxes(String text, String address) {
        Config config = loadValue("mail.from", text);
        assertThat(config.mail().from()).isEqualTo(text);
        assertThat(config.mail().fromAddress()).isEqualTo(address);
    }

    @Test
    void anOperatorKeyOfSixteenPrintableCharactersOrMore() {
        assertThat(loadValue("operator.key", "0123456789abcdef").auth().operatorKey()).contains("0123456789abcdef");
    }

    @Test
    void smtpNeedsAHostAndTakesTheUsualPortOfItsSecurity() {
        assertThat(problemOf(Map.of("EVENTBANK_MAIL_TRANSPORT", "smtp"), Map.of())).isEqualTo(
                "mail.transport=smtp (from environment EVENTBANK_MAIL_TRANSPORT) needs mail.smtp.host, which is not "
                        + "set (set mail.smtp.host in the properties file or EVENTBANK_MAIL_SMTP_HOST in the "
                        + "environment)");
        Config config = load(Map.of("mail.transport", "SMTP", "mail.smtp.host", "mail.bank.example"));
        assertThat(config.mail().transport()).isEqualTo(MailTransportKind.SMTP);
        assertThat(config.mail().smtp())
                .contains(new SmtpSettings("mail.bank.example", 587, SmtpSecurity.STARTTLS, null, null));
        assertThat(config.mail().smtp().orElseThrow().hasLogin()).isFalse();
        assertThat(config.sourceOf(ConfigKey.MAIL_SMTP_PORT))
                .contains(Source.derivedDefault("the usual port for mail.smtp.security=starttls"));
        assertThat(load(Map.of("mail.transport", "smtp", "mail.smtp.host", "m.test", "mail.smtp.security", "smtps"))
                .mail().smtp().orElseThrow().port()).isEqualTo(465);
        assertThat(load(Map.of("mail.transport", "smtp", "mail.smtp.host", "m.test", "mail.smtp.security", "none"))
                .mail().smtp().orElseThrow().port()).isEqualTo(25);
        assertThat(load(Map.of("mail.transport", "smtp", "mail.smtp.host", "m.test", "mail.smtp.security", "smtps",
                "mail.smtp.port", "2465")).mail().smtp().orElseThrow().port()).isEqualTo(2465);
    }

    @Test
    void smtpTakesAUserWithAPasswordOrNeither() {
        Config config = load(Map.of("mail.transport", "smtp", "mail.smtp.host", "m.test",
                "mail.smtp.user", "bank", "mail.smtp.password", "pa ss word"));
        assertThat(config.mail().smtp().orElseThrow().user()).isEqualTo("bank");
        assertThat(config.mail().smtp().orElseThrow().password()).isEqualTo("pa ss word");
        assertThat(problemOf(Map.of("EVENTBANK_MAIL_SMTP_USER", "bank"),
                Map.of("mail.transport", "smtp", "mail.smtp.host", "m.test"))).isEqualTo(
                "mail.smtp.user=bank (from environment EVENTBANK_MAIL_SMTP_USER) is set but mail.smtp.password is "
                        + "not; set both to log in to the SMTP server, or neither to send without logging in");
        assertThat(problemOf(Map.of(), Map.of("mail.transport", "smtp", "mail.smtp.host", "m.test",
                "mail.smtp.password", "hunter2"))).isEqualTo(
                "mail.smtp.password=*** (from the command line) is set but mail.smtp.user is not; set both to log in "
                        + "to the SMTP server, or neither to send without logging in");
    }

    @Test
    void aPasswordIsNotSentInClearTextAcrossANetwork() {
        Map<String, String> clear = Map.of("mail.transport", "smtp", "mail.smtp.host", "mail.bank.example",
                "mail.smtp.security", "none", "mail.smtp.user", "bank", "mail.smtp.password", "hunter2");
        assertThat(problemOf(Map.of(), clear)).isEqualTo("mail.smtp.password=*** (from the command line) would cross "
                + "the network in clear text to mail.bank.example with mail.smtp.security=none (from the command "
                + "line); use starttls or smtps");
        Map<String, String> local = new java.util.HashMap<>(clear);
        local.put("mail.smtp.host", "localhost");
        assertThat(load(local).mail().smtp().orElseThrow().security()).isEqualTo(SmtpSecurity.NONE);
    }

    @Test
    void smtpSettingsAreCheckedButUnusedUnderAnotherTransport() {
        Config config = load(Map.of("mail.smtp.user", "bank", "mail.smtp.port", "2525"));
        assertThat(config.mail().transport()).isEqualTo(MailTransportKind.FILE);
        assertThat(config.mail().smtp()).isEmpty();
        assertThatThrownBy(() -> load(Map.of("mail.smtp.port", "x"))).isInstanceOf(ConfigException.class);
    }

    @Test
    void mailgunNeedsADomainAndAnApiKey() {
        ConfigException thrown = catchThrowableOfType(ConfigException.class,
                () -> load(Map.of("mail.transport", "mailgun")));
        assertThat(thrown.problems()).containsExactly(
                "mail.transport=mailgun (from the command line) needs mail.mailgun.domain, which is not set (set "
                        + "mail.mailgun.domain in the properties file or EVENTBANK_MAIL_MAILGUN_DOMAIN in the "
                        + "environment)",
                "mail.transport=mailgun (from the command line) needs mail.mailgun.api_key, which is not set (set "
                        + "mail.mailgun.api_key in the properties file or EVENTBANK_MAIL_MAILGUN_API_KEY in the "
                        + "environment)");
        Config config = load(Map.of("mail.transport", "mailgun", "mail.mailgun.domain", "mg.bank.example",
                "mail.mailgun.api_key", "key-0123456789", "mail.mailgun.region", "EU"));
        MailgunSettings mailgun = config.mail().mailgun().orElseThrow();
        assertThat(mailgun.region()).isEqualTo(MailgunRegion.EU);
        assertThat(mailgun.apiKey()).isEqualTo("key-0123456789");
        assertThat(mailgun.messagesUrl())
                .isEqualTo(URI.create("https://api.eu.mailgun.net/v3/mg.bank.example/messages"));
        assertThat(load(Map.of("mail.transport", "mailgun", "mail.mailgun.domain", "mg.bank.example",
                "mail.mailgun.api_key", "k")).mail().mailgun().orElseThrow().region()).isEqualTo(MailgunRegion.US);
    }
}
