package eventbank.server.config;

/** How mail leaves the server ({@code mail.transport}). */
public enum MailTransportKind {
    /** Each message is written to {@code data/outbox/}; the verification link also goes to the console. */
    FILE,
    /** Each message is sent to an SMTP server ({@code mail.smtp.*}). */
    SMTP,
    /** Each message is posted to Mailgun's HTTP API ({@code mail.mailgun.*}). */
    MAILGUN
}
