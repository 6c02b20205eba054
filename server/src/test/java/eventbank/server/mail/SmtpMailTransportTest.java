package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.Message;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Instant;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The SMTP transport against real SMTP servers: GreenMail, and a scripted one that refuses. */
class SmtpMailTransportTest {
    private static final String LOCALHOST = "127.0.0.1";
    private static final Instant TIME = Instant.parse("2026-11-26T10:00:00Z");

    private GreenMail greenMail;

    @AfterEach
    void stopGreenMail() {
        if (greenMail != null) {
            greenMail.stop();
        }
    }

    private GreenMail startGreenMail(ServerSetup setup, GreenMailConfiguration configuration) {
        greenMail = new GreenMail(setup).withConfiguration(configuration);
        greenMail.start();
        return greenMail;
    }

    private static OutgoingMail withdrawal(long seq, String to) {
        return MailTemplates.withdrawal(MailBank.SETTINGS, seq, TIME.plusSeconds(seq), 1234567890123456L, to,
                12_34, 987_66);
    }

    private static SmtpSettings plain(int port) {
        return new SmtpSettings(LOCALHOST, port, SmtpSecurity.NONE, null, null);
    }

    @Test
    void mailsArriveWithTheOutboxsMessageIdHeadersAndBothBodiesOverOneConnection() throws Exception {
        GreenMail server = startGreenMail(ServerSetupTest.SMTP.dynamicPort(), GreenMailConfiguration.aConfig());
        OutgoingMail first = withdrawal(7, "alice@example.com");
        OutgoingMail second = withdrawal(8, "bob@example.com");
        try (SmtpMailTransport transport = new SmtpMailTransport(plain(server.getSmtp().getPort()),
                "noreply@bank.example")) {
            transport.send(first);
            transport.send(second);
        }
        assertThat(server.waitForIncomingEmail(5_000, 2)).isTrue();
        MimeMessage[] received = server.getReceivedMessages();
        assertThat(received).extracting(MimeMessage::getMessageID)
                .containsExactlyInAnyOrder(first.messageId(), second.messageId());
        MimeMessage alice = received[0].getMessageID().equals(first.messageId()) ? received[0] : received[1];
        assertThat(alice.getRecipients(Message.RecipientType.TO)).extracting(a -> ((InternetAddress) a).getAddress())
                .containsExactly("alice@example.com");
        assertThat(((InternetAddress) alice.getFrom()[0]).getAddress()).isEqualTo("noreply@bank.example");
        assertThat(alice.getHeader("Return-Path", null)).as("the envelope sender").contains("noreply@bank.example");
        assertThat(alice.getSubject()).isEqualTo(first.subject());
        assertThat(alice.getSentDate().toInstant()).isEqualTo(first.time());
        assertThat(alice.getHeader("Auto-Submitted", null)).isEqualTo("auto-generated");
        MailFiles.Parts parts = MailFiles.parts(alice);
        assertThat(parts.text()).contains("$12.34 was withdrawn").contains("$987.66");
        assertThat(parts.html()).contains("<strong>$12.34</strong>");
    }

    @Test
    void logsInWithTheConfiguredUserAndAWrongPasswordIsATemporaryFailure() throws Exception {
        GreenMail server = startGreenMail(ServerSetupTest.SMTP.dynamicPort(),
                GreenMailConfiguration.aConfig().withUser("bank@bank.example", "bank", "s3cret-password"));
        int port = server.getSmtp().getPort();
        try (SmtpMailTransport transport = new SmtpMailTransport(
                new SmtpSettings(LOCALHOST, port, SmtpSecurity.NONE, "bank", "s3cret-password"), "noreply@bank.example")) {
            transport.send(withdrawal(1, "alice@example.com"));
        }
        assertThat(server.waitForIncomingEmail(5_000, 1)).isTrue();

        try (SmtpMailTransport transport = new SmtpMailTransport(
                new SmtpSettings(LOCALHOST, port, SmtpSecurity.NONE, "bank", "wrong-password"), "noreply@bank.example")) {
            // The operator's to fix, and then every mail goes out: not a reason to set this one aside.
            assertThatThrownBy(() -> transport.send(withdrawal(2, "alice@example.com")))
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class);
        }
        assertThat(server.getReceivedMessages()).hasSize(1);
    }

    @Test
    void smtpsSpeaksTlsFromTheFirstByte() throws Exception {
        GreenMail server = startGreenMail(ServerSetupTest.SMTPS.dynamicPort(), GreenMailConfiguration.aConfig());
        Properties trustTestCertificate = new Properties();
        // GreenMail's certificate is self-signed and names no host: trusted here, and only here.
        trustTestCertificate.setProperty("mail.smtps.ssl.trust", "*");
        trustTestCertificate.setProperty("mail.smtps.ssl.checkserveridentity", "false");
        SmtpSettings settings = new SmtpSettings(LOCALHOST, server.getSmtps().getPort(), SmtpSecurity.SMTPS, null,
                null);
        try (SmtpMailTransport transport = new SmtpMailTransport(settings, "noreply@bank.example",
                trustTestCertificate)) {
            transport.send(withdrawal(3, "alice@example.com"));
        }
        assertThat(server.waitForIncomingEmail(5_000, 1)).isTrue();
        try (SmtpMailTransport untrusting = new SmtpMailTransport(settings, "noreply@bank.example")) {
            assertThatThrownBy(() -> untrusting.send(withdrawal(4, "alice@example.com")))
                    .as("an unknown certificate is refused by default").isInstanceOf(IOException.class)
                    .isNotInstanceOf(PermanentMailException.class);
        }
    }

    @Test
    void starttlsIsRequiredNotMerelyTried() throws Exception {
        // GreenMail's plain SMTP offers no STARTTLS: the transport must refuse to send in clear text.
        GreenMail server = startGreenMail(ServerSetupTest.SMTP.dynamicPort(), GreenMailConfiguration.aConfig());
        SmtpSettings settings = new SmtpSettings(LOCALHOST, server.getSmtp().getPort(), SmtpSecurity.STARTTLS, null,
                null);
        try (SmtpMailTransport transport = new SmtpMailTransport(settings, "noreply@bank.example")) {
            assertThatThrownBy(() -> transport.send(withdrawal(5, "alice@example.com")))
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class);
        }
        assertThat(server.getReceivedMessages()).isEmpty();
    }

    @Test
    void aServerThatIsDownIsATemporaryFailureAndTheNextAttemptConnectsAgain() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try (SmtpMailTransport transport = new SmtpMailTransport(plain(port), "noreply@bank.example")) {
            assertThatThrownBy(() -> transport.send(withdrawal(1, "alice@example.com")))
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class)
                    .hasMessageContaining(LOCALHOST + ":" + port);
            GreenMail server = startGreenMail(new ServerSetup(port, LOCALHOST, ServerSetup.PROTOCOL_SMTP),
                    GreenMailConfiguration.aConfig());
            transport.send(withdrawal(1, "alice@example.com"));
            assertThat(server.waitForIncomingEmail(5_000, 1)).isTrue();

            // The server goes away between two mails: the kept connection is dead, the next one is new.
            server.stop();
            assertThatThrownBy(() -> transport.send(withdrawal(2, "alice@example.com")))
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class);
            server = startGreenMail(new ServerSetup(port, LOCALHOST, ServerSetup.PROTOCOL_SMTP),
                    GreenMailConfiguration.aConfig());
            transport.send(withdrawal(2, "alice@example.com"));
            assertThat(server.waitForIncomingEmail(5_000, 1)).isTrue();
            assertThat(server.getReceivedMessages()[0].getMessageID()).isEqualTo(withdrawal(2, "x@y").messageId());
        }
    }

    @Test
    void aRecipientRefusedWithA5xxIsPermanent() throws Exception {
        try (ScriptedSmtpServer server = new ScriptedSmtpServer("250 ok", "550 5.1.1 no such user", "250 ok");
             SmtpMailTransport transport = new SmtpMailTransport(plain(server.port()), "noreply@bank.example")) {
            assertThatThrownBy(() -> transport.send(withdrawal(1, "nobody@example.com")))
                    .isInstanceOf(PermanentMailException.class).hasMessageContaining("no such user");
            assertThat(server.commands()).anyMatch(c -> c.startsWith("RCPT TO:<nobody@example.com>"))
                    .noneMatch(c -> c.equals("DATA"));
        }
    }

    @Test
    void contentRefusedWithA5xxAfterDataIsPermanent() throws Exception {
        try (ScriptedSmtpServer server = new ScriptedSmtpServer("250 ok", "250 ok", "554 5.7.1 rejected as spam");
             SmtpMailTransport transport = new SmtpMailTransport(plain(server.port()), "noreply@bank.example")) {
            assertThatThrownBy(() -> transport.send(withdrawal(1, "alice@example.com")))
                    .isInstanceOf(PermanentMailException.class).hasMessageContaining("rejected as spam");
        }
    }

    @Test
    void a4xxIsTemporary() throws Exception {
        try (ScriptedSmtpServer server = new ScriptedSmtpServer("250 ok", "450 4.2.0 greylisted, try later", "250 ok");
             SmtpMailTransport transport = new SmtpMailTransport(plain(server.port()), "noreply@bank.example")) {
            assertThatThrownBy(() -> transport.send(withdrawal(1, "alice@example.com")))
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class)
                    .hasMessageContaining("greylisted");
        }
    }

    @Test
    void aRefusedSenderIsTheOperatorsToFixSoItIsTemporary() throws Exception {
        try (ScriptedSmtpServer server = new ScriptedSmtpServer("553 5.7.1 sender not allowed", "250 ok", "250 ok");
             SmtpMailTransport transport = new SmtpMailTransport(plain(server.port()), "noreply@bank.example")) {
            assertThatThrownBy(() -> transport.send(withdrawal(1, "alice@example.com")))
                    .isInstanceOf(IOException.class).isNotInstanceOf(PermanentMailException.class)
                    .hasMessageContaining("sender not allowed");
            assertThat(server.commands()).anyMatch(c -> c.startsWith("MAIL FROM:<noreply@bank.example>"));
        }
    }
}
