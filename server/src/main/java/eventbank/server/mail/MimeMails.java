package eventbank.server.mail;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Date;
import java.util.Properties;

/**
 * Turns an {@link OutgoingMail} into an RFC 5322 message: multipart/alternative with the plain
 * text first and the HTML second, the outbox's own Message-ID and the event's time as Date.
 * Every transport that speaks MIME builds its messages here.
 */
final class MimeMails {

    private MimeMails() {}

    /**
     * A session for building messages only. Headers may hold UTF-8 (RFC 6532): the core accepts
     * any non-ASCII address, and without this setting jakarta.mail would write such a header
     * byte by byte, garbled.
     */
    static Session session() {
        Properties properties = new Properties();
        properties.setProperty("mail.mime.allowutf8", "true");
        return Session.getInstance(properties);
    }

    /** The message; a mail whose fields make no valid message is a permanent failure. */
    static MimeMessage build(Session session, OutgoingMail mail) throws PermanentMailException {
        try {
            MimeMessage message = new FixedIdMessage(session, mail.messageId());
            message.setFrom(new InternetAddress(mail.from(), true));
            message.setRecipient(Message.RecipientType.TO, recipient(mail.to()));
            message.setSubject(mail.subject(), "UTF-8");
            message.setSentDate(Date.from(mail.time()));
            // RFC 3834: an automatic mail, so that vacation responders do not answer it.
            message.setHeader("Auto-Submitted", "auto-generated");
            MimeBodyPart text = new MimeBodyPart();
            text.setText(crlf(mail.textBody()), "UTF-8", "plain");
            MimeBodyPart html = new MimeBodyPart();
            html.setText(crlf(mail.htmlBody()), "UTF-8", "html");
            message.setContent(new MimeMultipart("alternative", text, html));
            message.saveChanges();
            return message;
        } catch (MessagingException e) {
            throw new PermanentMailException(mail + " makes no valid message: " + e.getMessage(), e);
        }
    }

    /**
     * Text in MIME's canonical form, lines ending in CRLF. jakarta.mail converts line ends only
     * where it encodes (quoted-printable, base64); a 7bit part is written as it is, and SMTP
     * clients fix bare line feeds on the wire, but a file must be right by itself.
     */
    static String crlf(String text) {
        return text.replace("\r\n", "\n").replace("\n", "\r\n");
    }

    /** The message's bytes, lines ending in CRLF, as they go into a file or over SMTP. */
    static byte[] bytes(MimeMessage message, OutgoingMail mail) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            message.writeTo(out);
        } catch (MessagingException e) {
            throw new PermanentMailException(mail + " cannot be written: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /**
     * The recipient as an address header holds it. The core accepts any address with one
     * {@code @} and no white space, so a local part may hold characters that RFC 5322 only
     * allows inside quotes ({@code <}, {@code "}, {@code (}): such a local part is quoted, so the
     * header names exactly the address the client gave and a parser cannot read an angle
     * bracket in it as the start of another address.
     */
    static InternetAddress recipient(String email) {
        int at = email.lastIndexOf('@');
        String local = email.substring(0, at);
        String quoted = isDotAtom(local) ? local
                : '"' + local.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        InternetAddress address = new InternetAddress();
        address.setAddress(quoted + email.substring(at));
        return address;
    }

    /** RFC 5322 dot-atom, with RFC 6532's non-ASCII characters counted as atext. */
    private static boolean isDotAtom(String local) {
        if (local.isEmpty() || local.startsWith(".") || local.endsWith(".") || local.contains("..")) {
            return false;
        }
        return local.chars().allMatch(c -> c > 0x7f || Character.isLetterOrDigit(c) && c < 0x80
                || c == '.' || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0);
    }

    /** A message whose Message-ID is the outbox's, not one jakarta.mail makes up when saving. */
    private static final class FixedIdMessage extends MimeMessage {
        private final String messageId;

        FixedIdMessage(Session session, String messageId) {
            super(session);
            this.messageId = messageId;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", messageId);
        }
    }
}
