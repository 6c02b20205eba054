package eventbank.bench.faults;

import com.icegreen.greenmail.Managers;
import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SMTP server of a run that uses {@code mail.transport=smtp}: GreenMail in the harness's JVM,
 * on a free port, plain SMTP. The {@code smtp-down} fault stops it and starts a new one on the same
 * port; what each one received is kept, so the checker sees every mail of the run, a mail sent
 * twice included. It also serves the verification links (the SMTP transport prints none).
 */
final class MailSink implements AutoCloseable {
    private static final Pattern LINK = Pattern.compile("/api/verify\\?(account_number=\\d+&code=[A-Za-z0-9_-]+)");

    /** One mail as received: its Message-ID and recipients. */
    record Mail(String messageId, List<String> to) {}

    private final int port;
    private final List<Mail> earlier = new ArrayList<>();
    private final Map<String, String> links = new ConcurrentHashMap<>();
    private final Set<String> scanned = new HashSet<>();
    private GreenMail server;
    private int outages;

    MailSink() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            this.port = socket.getLocalPort();
        }
        start();
    }

    int port() {
        return port;
    }

    /** The child's environment for sending here. */
    Map<String, String> environment() {
        return Map.of("EVENTBANK_MAIL_TRANSPORT", "smtp", "EVENTBANK_MAIL_SMTP_HOST", "127.0.0.1",
                "EVENTBANK_MAIL_SMTP_PORT", Integer.toString(port), "EVENTBANK_MAIL_SMTP_SECURITY", "none",
                // Mail goes out at most a second after the server is back.
                "EVENTBANK_MAIL_RETRY_BACKOFF_MAX", "PT1S");
    }

    synchronized boolean running() {
        return server != null;
    }

    /** Starts a new GreenMail on the port. */
    synchronized void start() {
        server = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP))
                .withConfiguration(GreenMailConfiguration.aConfig());
        server.start();
    }

    /**
     * Stops it (the SMTP server is gone), then keeps what it received: {@link GreenMail#stop()}
     * gives it a new, empty store, so the old one is read after the stop, and a mail accepted in
     * the last moment is kept too.
     */
    synchronized void stop() throws MessagingException, InterruptedException {
        Managers store = server.getManagers();
        server.stop();
        server = null;
        outages++;
        TimeUnit.MILLISECONDS.sleep(200); // a session thread may still be storing a mail it accepted
        List<MimeMessage> messages = new ArrayList<>();
        for (StoredMessage stored : store.getImapHostManager().getAllMessages()) {
            messages.add(stored.getMimeMessage());
        }
        scanLinks(messages.toArray(MimeMessage[]::new));
        for (MimeMessage message : messages) {
            earlier.add(mail(message));
        }
    }

    synchronized int outages() {
        return outages;
    }

    /** Every mail received so far, by every GreenMail of the run. */
    synchronized List<Mail> received() throws MessagingException {
        List<Mail> all = new ArrayList<>(earlier);
        if (server != null) {
            for (MimeMessage message : server.getReceivedMessages()) {
                all.add(mail(message));
            }
        }
        return all;
    }

    /** The query of the verification link mailed to {@code email}, or null when none arrived yet. */
    String queryFor(String email) throws IOException {
        String query = links.get(email);
        if (query != null) {
            return query;
        }
        synchronized (this) {
            try {
                if (server != null) {
                    scanLinks(server.getReceivedMessages());
                }
            } catch (MessagingException e) {
                throw new IOException(e);
            }
        }
        return links.get(email);
    }

    private void scanLinks(MimeMessage[] messages) throws MessagingException {
        for (MimeMessage message : messages) {
            String id = message.getMessageID();
            if (id == null || !id.contains(".verification.") || !scanned.add(id)) {
                continue;
            }
            try {
                Object content = message.getContent();
                String text = content instanceof MimeMultipart multipart
                        ? String.valueOf(multipart.getBodyPart(0).getContent()) : String.valueOf(content);
                Matcher matcher = LINK.matcher(text);
                if (matcher.find()) {
                    for (Address to : message.getAllRecipients()) {
                        links.put(to.toString(), matcher.group(1));
                    }
                }
            } catch (IOException e) {
                scanned.remove(id);
                throw new MessagingException("reading " + id, e);
            }
        }
    }

    private static Mail mail(MimeMessage message) throws MessagingException {
        List<String> to = new ArrayList<>();
        Address[] recipients = message.getAllRecipients();
        if (recipients != null) {
            for (Address address : recipients) {
                to.add(address.toString());
            }
        }
        return new Mail(message.getMessageID(), to);
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop();
            server = null;
        }
    }
}
