package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The words of the mails, the amounts, the escaping, the limits. */
class MailTemplatesTest {
    private static final Instant TIME = Instant.parse("2026-11-26T10:00:00Z");

    @Test
    void centsAreWrittenAsDollarsWithCents() {
        assertThat(MailTemplates.dollars(0)).isEqualTo("$0.00");
        assertThat(MailTemplates.dollars(1)).isEqualTo("$0.01");
        assertThat(MailTemplates.dollars(12_34)).isEqualTo("$12.34");
        assertThat(MailTemplates.dollars(1_000_00)).isEqualTo("$1,000.00");
        assertThat(MailTemplates.dollars(1_000_000_000_000L)).isEqualTo("$10,000,000,000.00");
        assertThatThrownBy(() -> MailTemplates.dollars(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void htmlEscapingCoversContentAndAttributes() {
        assertThat(MailTemplates.escape("<a href=\"x\" title='y'>&</a>"))
                .isEqualTo("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
        assertThat(MailTemplates.escape("plain zoë")).isEqualTo("plain zoë");
    }

    @Test
    void theVerificationLinkStartsWithThePublicUrlWithoutADoubleSlash() {
        OutboxSettings settings = OutboxSettings.of("https://bank.example/", "noreply@bank.example");
        OutgoingMail mail = MailTemplates.verification(settings, 9, TIME, 1_000_000_000_000_007L,
                "a@example.com", "AbC-_9");
        assertThat(mail.link()).isEqualTo("https://bank.example/api/verify?account_number=1000000000000007&code=AbC-_9");
        assertThat(mail.messageId()).isEqualTo("<eventbank.9.verification.1000000000000007@bank.example>");
        assertThat(mail.from()).isEqualTo("noreply@bank.example");
    }

    @Test
    void aMailNamedInALogShowsNeitherItsBodiesNorItsCode() {
        OutgoingMail mail = MailTemplates.verification(MailBank.SETTINGS, 3, TIME, 1_000_000_000_000_001L,
                "alice@example.com", "secret-code-123");
        assertThat(mail.textBody()).contains("secret-code-123");
        assertThat(mail.toString()).doesNotContain("secret-code-123").doesNotContain("alice@example.com")
                .contains("seq=3").contains("verification");
    }

    @Test
    void backoffDoublesUpToItsCap() {
        OutboxSettings settings = MailBank.SETTINGS.withBackoff(250, 60_000);
        assertThat(settings.backoffMillisAfter(1)).isEqualTo(250);
        assertThat(settings.backoffMillisAfter(2)).isEqualTo(500);
        assertThat(settings.backoffMillisAfter(3)).isEqualTo(1_000);
        assertThat(settings.backoffMillisAfter(8)).isEqualTo(32_000);
        assertThat(settings.backoffMillisAfter(9)).isEqualTo(60_000);
        assertThat(settings.backoffMillisAfter(64)).isEqualTo(60_000);
        assertThat(settings.backoffMillisAfter(Integer.MAX_VALUE)).isEqualTo(60_000);
        OutboxSettings huge = MailBank.SETTINGS.withBackoff(3, Long.MAX_VALUE);
        assertThat(huge.backoffMillisAfter(62)).isEqualTo(3L << 61);
        assertThat(huge.backoffMillisAfter(63)).as("no overflow").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void settingsRefuseWhatCannotWork() {
        assertThatThrownBy(() -> OutboxSettings.of("localhost:8080", "noreply@bank.example"))
                .hasMessageContaining("public.url");
        assertThatThrownBy(() -> OutboxSettings.of("http://localhost", "not an address"))
                .hasMessageContaining("mail.from");
        assertThatThrownBy(() -> MailBank.SETTINGS.withBackoff(0, 1)).hasMessageContaining("backoff");
        assertThatThrownBy(() -> MailBank.SETTINGS.withBackoff(10, 5)).hasMessageContaining("backoff");
        // mail.retry_backoff_max alone: the first pause is the default, or the cap when that is lower.
        assertThat(MailBank.SETTINGS.withBackoffMax(60_000).backoffMillisMin()).isEqualTo(250);
        assertThat(MailBank.SETTINGS.withBackoffMax(100).backoffMillisMin()).isEqualTo(100);
        assertThat(OutboxSettings.of("http://localhost", "Bank <noreply@mail.bank.example>").messageIdDomain())
                .isEqualTo("mail.bank.example");
        // The configuration's default mail.from.
        assertThat(OutboxSettings.of("http://localhost:8080", "eventbank <noreply@localhost>").messageIdDomain())
                .isEqualTo("localhost");
    }
}
