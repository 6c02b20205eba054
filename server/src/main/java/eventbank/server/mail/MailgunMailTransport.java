package eventbank.server.mail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Posts each mail to Mailgun's HTTP API ({@code mail.transport=mailgun}) as the complete MIME
 * message the other transports send ({@code POST /v3/{domain}/messages.mime}), so the mail keeps
 * the outbox's Message-ID, Date and both bodies, and a mail sent twice is the same mail.
 *
 * <p><b>Which failures are permanent.</b> 400 (Mailgun refuses this message, say its recipient
 * address) and 413 (too large): retrying sends the same bytes. Everything else is temporary:
 * no connection, a timeout, 429 (a rate limit), 5xx, and also 401, 403 and 404 (a wrong API key,
 * region or domain): those are the operator's to fix, and every mail would fail alike, so the
 * outbox should stop and send them after the fix rather than set them aside.
 */
public final class MailgunMailTransport implements MailTransport {
    /** How long connecting, and the whole request, may take before the attempt fails. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** The most of Mailgun's reply kept for an error message. */
    private static final int REPLY_CHARS_MAX = 300;

    private final URI messagesMimeUrl;
    private final String authorization;
    private final HttpClient client;
    private final jakarta.mail.Session session = MimeMails.session();
    private final SecureRandom random = new SecureRandom();

    /** Posts to the API host of the settings' region. */
    public MailgunMailTransport(MailgunSettings settings) {
        this(settings, URI.create(settings.messagesUrl() + ".mime"));
    }

    /** Posts to {@code messagesMimeUrl} instead: a test's own HTTP server. */
    MailgunMailTransport(MailgunSettings settings, URI messagesMimeUrl) {
        this.messagesMimeUrl = Objects.requireNonNull(messagesMimeUrl, "messagesMimeUrl");
        this.authorization = "Basic " + Base64.getEncoder()
                .encodeToString(("api:" + settings.apiKey()).getBytes(StandardCharsets.UTF_8));
        this.client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    }

    @Override
    public void send(OutgoingMail mail) throws IOException {
        byte[] message = MimeMails.bytes(MimeMails.build(session, mail), mail);
        String boundary = "eventbank-" + HexFormat.of().formatHex(randomBytes());
        HttpRequest request = HttpRequest.newBuilder(messagesMimeUrl)
                .timeout(TIMEOUT)
                .header("Authorization", authorization)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form(boundary, mail.to(), message)))
                .build();
        HttpResponse<String> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while posting " + mail + " to Mailgun", e);
        }
        int status = response.statusCode();
        if (status / 100 == 2) {
            return;
        }
        String reply = "Mailgun answered " + status + ": " + excerpt(response.body());
        if (status == 400 || status == 413) {
            throw new PermanentMailException(reply, null);
        }
        throw new IOException(reply);
    }

    /**
     * The form Mailgun takes: {@code to}, the recipient (Mailgun sends to it, not to the header),
     * and {@code message}, the MIME message as a file.
     */
    static byte[] form(String boundary, String to, byte[] message) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(message.length + 512);
        String toPart = "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"to\"\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                + to + "\r\n";
        String messagePart = "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"message\"; filename=\"message.mime\"\r\n"
                + "Content-Type: message/rfc822\r\n\r\n";
        body.writeBytes(toPart.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(messagePart.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(message);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return body.toByteArray();
    }

    /**
     * A boundary no message holds: random, so a message cannot contain it by chance (nor by
     * design: the address in {@code to} is the client's to choose).
     */
    private byte[] randomBytes() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return bytes;
    }

    private static String excerpt(String body) {
        String flat = body == null ? "" : body.replace('\n', ' ').replace('\r', ' ').strip();
        return flat.length() <= REPLY_CHARS_MAX ? flat : flat.substring(0, REPLY_CHARS_MAX) + "...";
    }
}
