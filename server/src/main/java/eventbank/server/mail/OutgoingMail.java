package eventbank.server.mail;

import java.time.Instant;
import java.util.Objects;

/**
 * One mail of the outbox, complete: a transport sends it as it is. Every field is a function of
 * one committed event (and of the server's key and settings), so the mail made again after a
 * restart is the same mail, with the same Message-ID.
 *
 * @param seq       the seq of the event the mail tells about (for a resent link, the AccountOpened)
 * @param kind      what the mail is for; it names the file of the file transport
 * @param messageId the Message-ID header, angle brackets included
 * @param from      the From address, as configured ({@code mail.from})
 * @param to        the account's email address, as the client gave it
 * @param time      the event's time, the mail's Date
 * @param link      the verification link (it holds the code), or null when the mail has none
 */
public record OutgoingMail(long seq, Kind kind, String messageId, String from, String to, String subject,
                           Instant time, String textBody, String htmlBody, String link) {

    /** What a mail is for; {@link #label()} is the {@code {kind}} of {@code {seq:020}-{kind}.eml}. */
    public enum Kind {
        VERIFICATION("verification", true),
        /** The verification link again, asked for with POST /api/verify/resend: not from an event of its own. */
        VERIFICATION_RESENT("verification-resent", true),
        WITHDRAWAL("withdrawal", false);

        private final String label;
        private final boolean carriesLink;

        Kind(String label, boolean carriesLink) {
            this.label = label;
            this.carriesLink = carriesLink;
        }

        public String label() {
            return label;
        }

        /** Whether mails of this kind carry the verification link. */
        public boolean carriesLink() {
            return carriesLink;
        }
    }

    public OutgoingMail {
        if (seq < 1) {
            throw new IllegalArgumentException("a mail tells of a committed event, whose seq is at least 1");
        }
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(textBody, "textBody");
        Objects.requireNonNull(htmlBody, "htmlBody");
        if (kind.carriesLink() != (link != null)) {
            throw new IllegalArgumentException("a verification mail, and only one, carries a link");
        }
    }

    /**
     * Names the mail without its bodies or its link: those hold the verification code, and a
     * mail that ends up in a log message or an exception must not leak it.
     */
    @Override
    public String toString() {
        return "OutgoingMail[seq=" + seq + ", kind=" + kind.label() + ", messageId=" + messageId + "]";
    }
}
