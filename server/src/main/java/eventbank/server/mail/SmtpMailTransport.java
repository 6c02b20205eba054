package eventbank.server.mail;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

/**
 * Sends each mail to an SMTP server ({@code mail.transport=smtp}), over one connection kept open
 * between mails and opened again when the server has closed it.
 *
 * <p><b>Which failures are permanent.</b> Only a 5xx reply about this very mail: its recipient
 * refused at {@code RCPT TO} (no such mailbox), or its content refused after {@code DATA}. Such
 * a mail is not retried. Everything else is temporary and retried by the outbox: the server
 * cannot be reached, a 4xx (greylisting, a full queue), a dropped connection, and also a refused
 * login or sender ({@code MAIL FROM}): those are the operator's to fix, and every mail would fail
 * alike, so the outbox should stop and send them after the fix rather than set them aside.
 */
public final class SmtpMailTransport implements MailTransport {
    /** How long connecting, and waiting for any one reply, may take before the attempt fails. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Session session;
    private final SmtpSettings settings;
    private Transport transport;

    /**
     * @param envelopeFrom the address alone of {@code mail.from}, for {@code MAIL FROM}
     */
    public SmtpMailTransport(SmtpSettings settings, String envelopeFrom) {
        this(settings, envelopeFrom, new Properties());
    }

    /** With session properties added or replaced, for tests (trusting a test server's certificate). */
    SmtpMailTransport(SmtpSettings settings, String envelopeFrom, Properties extra) {
        this.settings = Objects.requireNonNull(settings, "settings");
        Properties properties = sessionProperties(settings, Objects.requireNonNull(envelopeFrom, "envelopeFrom"));
        properties.putAll(extra);
        this.session = Session.getInstance(properties);
    }

    /** The jakarta.mail session of these settings: protocol, timeouts, TLS, login, envelope sender. */
    static Properties sessionProperties(SmtpSettings settings, String envelopeFrom) {
        String protocol = protocolOf(settings.security());
        String prefix = "mail." + protocol + ".";
        Properties properties = new Properties();
        properties.setProperty("mail.transport.protocol", protocol);
        properties.setProperty(prefix + "host", settings.host());
        properties.setProperty(prefix + "port", Integer.toString(settings.port()));
        properties.setProperty(prefix + "from", envelopeFrom);
        properties.setProperty(prefix + "auth", Boolean.toString(settings.hasLogin()));
        String millis = Long.toString(TIMEOUT.toMillis());
        properties.setProperty(prefix + "connectiontimeout", millis);
        properties.setProperty(prefix + "timeout", millis);
        properties.setProperty(prefix + "writetimeout", millis);
        // The server's certificate must name the host: jakarta.mail does not check that by default.
        properties.setProperty(prefix + "ssl.checkserveridentity", "true");
        if (settings.security() == SmtpSecurity.STARTTLS) {
            properties.setProperty(prefix + "starttls.enable", "true");
            // Refuse to go on in clear text when the server offers no STARTTLS (or a man in the middle hides it).
            properties.setProperty(prefix + "starttls.required", "true");
        }
        // Addresses with non-ASCII characters (RFC 6531): SMTPUTF8 when the server offers it.
        properties.setProperty("mail.mime.allowutf8", "true");
        return properties;
    }

    private static String protocolOf(SmtpSecurity security) {
        return security == SmtpSecurity.SMTPS ? "smtps" : "smtp";
    }

    /** Sends on the open connection, connecting first if there is none; one mail at a time. */
    @Override
    public synchronized void send(OutgoingMail mail) throws IOException {
        MimeMessage message = MimeMails.build(session, mail);
        try {
            Transport connected = connected();
            connected.sendMessage(message, message.getAllRecipients());
        } catch (MessagingException e) {
            // The session may be half way through a command: start the next attempt on a new one.
            disconnect();
            if (isRefusalOfThisMail(e)) {
                throw new PermanentMailException("the SMTP server " + settings.host() + " refused it: "
                        + replyOf(e), e);
            }
            throw new IOException("SMTP " + settings.host() + ":" + settings.port() + ": " + replyOf(e), e);
        }
    }

    private Transport connected() throws MessagingException {
        if (transport != null && !transport.isConnected()) {
            disconnect();
        }
        if (transport == null) {
            Transport fresh = session.getTransport();
            if (settings.hasLogin()) {
                fresh.connect(settings.user(), settings.password());
            } else {
                fresh.connect();
            }
            transport = fresh;
        }
        return transport;
    }

    private void disconnect() {
        if (transport == null) {
            return;
        }
        try {
            transport.close();
        } catch (MessagingException ignored) {
            // Closing a broken session: nothing more to learn from it.
        }
        transport = null;
    }

    /**
     * A 5xx about the recipient or the content, anywhere in the chain jakarta.mail builds (the
     * SendFailedException of a refused recipient holds the SMTPAddressFailedException as its next).
     */
    static boolean isRefusalOfThisMail(MessagingException failure) {
        for (Exception e = failure; e != null; e = e instanceof MessagingException m ? m.getNextException() : null) {
            if (e instanceof SMTPAddressFailedException refused) {
                return isPermanent(refused.getReturnCode());
            }
            if (e instanceof SMTPSenderFailedException) {
                return false;
            }
            if (e instanceof SMTPSendFailedException refused) {
                // A refused MAIL FROM comes as this exception too, naming the command: not this mail's fault.
                String command = String.valueOf(refused.getCommand());
                return !command.regionMatches(true, 0, "MAIL", 0, 4) && isPermanent(refused.getReturnCode());
            }
        }
        return false;
    }

    private static boolean isPermanent(int replyCode) {
        return replyCode >= 500 && replyCode <= 599;
    }

    /** The server's words, without jakarta.mail's wrapping; never the message itself. */
    private static String replyOf(MessagingException failure) {
        StringBuilder text = new StringBuilder(String.valueOf(failure.getMessage()).strip());
        Exception next = failure.getNextException();
        if (next != null && next.getMessage() != null && !text.toString().contains(next.getMessage().strip())) {
            text.append(" (").append(next.getMessage().strip()).append(')');
        }
        return text.toString().replace('\n', ' ').replace('\r', ' ');
    }

    /** Closes the connection, if one is open. */
    @Override
    public synchronized void close() {
        disconnect();
    }
}
