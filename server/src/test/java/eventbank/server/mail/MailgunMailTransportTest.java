package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import jakarta.mail.BodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Mailgun transport against a real HTTP server on the loopback interface that takes
 * {@code POST /v3/{domain}/messages.mime} the way Mailgun documents it, and answers what the
 * test tells it to.
 */
class MailgunMailTransportTest {
    private static final MailgunSettings SETTINGS = new MailgunSettings("mg.bank.example", "key-0123456789abcdef",
            MailgunRegion.EU);

    private record Received(String method, String path, String authorization, String contentType, byte[] body) {}

    private HttpServer server;
    private final List<Received> received = new ArrayList<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private volatile String reply = "{\"id\":\"<x@mg.bank.example>\",\"message\":\"Queued. Thank you.\"}";

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                synchronized (received) {
                    received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                            exchange.getRequestHeaders().getFirst("Authorization"),
                            exchange.getRequestHeaders().getFirst("Content-Type"), in.readAllBytes()));
                }
            }
            byte[] body = reply.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status.get(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private MailgunMailTransport transport() {
        return new MailgunMailTransport(SETTINGS, URI.create("http://127.0.0.1:" + server.getAddress().getPort()
                + "/v3/" + SETTINGS.domain() + "/messages.mime"));
    }

    private static OutgoingMail verification() {
        return MailTemplates.verification(MailBank.SETTINGS, 3, Instant.parse("2026-11-26T10:00:00Z"),
                1234567890123456L, "zoë@bücher.example", "the-code");
    }

    @Test
    void postsTheWholeMimeMessageWithTheRecipientAndTheApiKey() throws Exception {
        OutgoingMail mail = verification();
        transport().send(mail);

        assertThat(received).hasSize(1);
        Received request = received.get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/v3/mg.bank.example/messages.mime");
        assertThat(request.authorization()).isEqualTo("Basic " + Base64.getEncoder()
                .encodeToString("api:key-0123456789abcdef".getBytes(StandardCharsets.UTF_8)));
        assertThat(request.contentType()).startsWith("multipart/form-data; boundary=");

        // Read the form back as a MIME multipart, the way a server would.
        MimeMultipart form = new MimeMultipart(new ByteArrayDataSource(request.body(), request.contentType()));
        assertThat(form.getCount()).isEqualTo(2);
        BodyPart to = form.getBodyPart(0);
        assertThat(to.getDisposition()).isEqualTo("form-data");
        assertThat(to.getHeader("Content-Disposition")[0]).contains("name=\"to\"");
        assertThat(new String(to.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("zoë@bücher.example");
        BodyPart file = form.getBodyPart(1);
        assertThat(file.getHeader("Content-Disposition")[0]).contains("name=\"message\"");
        byte[] sent = file.getInputStream().readAllBytes();
        MimeMessage message = new MimeMessage(MimeMails.session(), new java.io.ByteArrayInputStream(sent));
        assertThat(message.getMessageID()).isEqualTo(mail.messageId());
        assertThat(message.getSentDate().toInstant()).isEqualTo(mail.time());
        assertThat(message.getSubject()).isEqualTo(mail.subject());
        MailFiles.Parts parts = MailFiles.parts(message);
        assertThat(parts.text()).contains(mail.link());
        assertThat(parts.html()).contains(MailTemplates.escape(mail.link()));
    }

    @Test
    void aRefusedMessageIsPermanentAndAnythingElseTemporary() {
        MailgunMailTransport transport = transport();
        for (int refused : new int[] {400, 413}) {
            status.set(refused);
            reply = "{\"message\":\"'to' parameter is not a valid address\"}";
            assertThatThrownBy(() -> transport.send(verification())).as("status %d", refused)
                    .isInstanceOf(PermanentMailException.class).hasMessageContaining(Integer.toString(refused))
                    .hasMessageContaining("not a valid address");
        }
        // A wrong key, region or domain is the operator's to fix; a rate limit or an outage passes.
        for (int temporary : new int[] {401, 403, 404, 429, 500, 502, 503}) {
            status.set(temporary);
            reply = "Forbidden";
            assertThatThrownBy(() -> transport.send(verification())).as("status %d", temporary)
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class)
                    .hasMessageContaining("Mailgun answered " + temporary);
        }
    }

    @Test
    void noServerIsATemporaryFailure() {
        MailgunMailTransport transport = transport();
        server.stop(0);
        assertThatThrownBy(() -> transport.send(verification()))
                .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class);
    }

    @Test
    void theRegionChoosesTheApiHost() {
        assertThat(new MailgunSettings("mg.bank.example", "k", MailgunRegion.US).messagesUrl())
                .hasToString("https://api.mailgun.net/v3/mg.bank.example/messages");
        assertThat(SETTINGS.messagesUrl()).hasToString("https://api.eu.mailgun.net/v3/mg.bank.example/messages");
    }
}
