package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file transport alone: names, atomic appearance, the console line. */
class FileMailTransportTest {
    private static final Instant TIME = Instant.parse("2026-11-26T10:00:00Z");

    @TempDir
    Path outbox;

    @Test
    void aMailFileAppearsOnlyOnceWrittenAndFsyncedUnderItsTemporaryName() throws Exception {
        RecordingStorage storage = new RecordingStorage(outbox);
        MailBank.Console console = new MailBank.Console();
        FileMailTransport transport = new FileMailTransport(outbox, storage, console.stream);

        transport.send(verification(7));

        String name = "00000000000000000007-verification.eml";
        String temporary = name + ".tmp";
        assertThat(storage.operations()).map(RecordingStorage.Operation::toString).containsExactly(
                "createDirectories " + outbox.getFileName(),
                "open " + temporary,
                "truncate " + temporary,
                "write " + temporary,
                "force " + temporary,
                "close " + temporary,
                "rename to " + name + " " + temporary,
                "syncDirectory " + outbox.getFileName());
        // Up to the rename (the seventh operation) the name is nowhere to be seen.
        for (RecordingStorage.Operation operation : storage.operations().subList(0, 7)) {
            assertThat(operation.listingBefore()).as("before %s", operation).doesNotContain(name);
        }
        assertThat(MailFiles.names(outbox)).containsExactly(name);
        assertThat(Files.list(outbox).map(Path::getFileName).map(Path::toString)).containsExactly(name);
        MimeMessage message = MailFiles.read(outbox.resolve(name));
        assertThat(message.getMessageID()).isEqualTo("<eventbank.7.verification.1000000000000001@bank.example>");
        assertThat(MailFiles.parts(message).text()).contains("code=c0de");
    }

    @Test
    void aWatcherOfTheDirectoryNeverSeesAPartialMail() throws Exception {
        FileMailTransport transport = new FileMailTransport(outbox, new eventbank.engine.storage.FileStorage(),
                new MailBank.Console().stream);
        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicReference<Throwable> watcherFailure = new AtomicReference<>();
        AtomicInteger filesRead = new AtomicInteger();
        Thread watcher = new Thread(() -> {
            try {
                while (sending.get()) {
                    for (String name : MailFiles.names(outbox)) {
                        MailFiles.Parts parts = MailFiles.parts(MailFiles.read(outbox.resolve(name)));
                        assertThat(parts.html()).endsWith("</html>\r\n");
                        filesRead.incrementAndGet();
                    }
                }
            } catch (Throwable t) {
                watcherFailure.set(t);
            }
        }, "test-outbox-watcher");
        watcher.start();
        try {
            for (int seq = 1; seq <= 40; seq++) {
                transport.send(seq % 2 == 0 ? verification(seq) : withdrawal(seq));
            }
        } finally {
            sending.set(false);
            watcher.join();
        }
        assertThat(watcherFailure.get()).isNull();
        assertThat(MailFiles.names(outbox)).hasSize(40);
        assertThat(filesRead.get()).isPositive();
    }

    @Test
    void sendingAgainReplacesTheFileAndALeftoverTemporaryFile() throws Exception {
        FileMailTransport transport = new FileMailTransport(outbox, new eventbank.engine.storage.FileStorage(),
                new MailBank.Console().stream);
        String name = "00000000000000000003-withdrawal.eml";
        // A crash in the middle of a write left a longer temporary file behind.
        Files.write(outbox.resolve(name + ".tmp"), "x".repeat(100_000).getBytes(StandardCharsets.US_ASCII));

        transport.send(withdrawal(3));
        String firstMessageId = MailFiles.messageId(outbox.resolve(name));
        transport.send(withdrawal(3));

        assertThat(Files.list(outbox).map(Path::getFileName).map(Path::toString)).containsExactly(name);
        assertThat(Files.size(outbox.resolve(name))).isLessThan(100_000);
        MimeMessage message = MailFiles.read(outbox.resolve(name));
        assertThat(message.getMessageID()).isEqualTo(firstMessageId);
        assertThat(MailFiles.parts(message).text()).contains("$12.34");
    }

    @Test
    void onlyAVerificationMailPrintsItsLinkToTheConsole() throws Exception {
        MailBank.Console console = new MailBank.Console();
        FileMailTransport transport = new FileMailTransport(outbox, new eventbank.engine.storage.FileStorage(),
                console.stream);
        transport.send(withdrawal(1));
        assertThat(console.text()).isEmpty();
        transport.send(verification(2));
        assertThat(console.text()).isEqualTo("eventbank: verification link for alice@example.com: "
                + "http://localhost:8080/api/verify?account_number=1000000000000001&code=c0de" + System.lineSeparator());
    }

    @Test
    void aFileIsAnRfc5322MessageWithCrlfLineEndsAndTheEventTimeAsDate() throws Exception {
        FileMailTransport transport = new FileMailTransport(outbox, new eventbank.engine.storage.FileStorage(),
                new MailBank.Console().stream);
        transport.send(verification(1));
        String text = Files.readString(outbox.resolve("00000000000000000001-verification.eml"), StandardCharsets.UTF_8);
        assertThat(text.replace("\r\n", "")).doesNotContain("\n").doesNotContain("\r");
        assertThat(text).contains("Message-ID: <eventbank.1.verification.1000000000000001@bank.example>\r\n")
                .contains("Auto-Submitted: auto-generated\r\n").contains("MIME-Version: 1.0\r\n");
        assertThat(MailFiles.read(outbox.resolve("00000000000000000001-verification.eml")).getSentDate().toInstant())
                .isEqualTo(TIME);
    }

    @Test
    void aNonAsciiAddressIsWrittenAsUtf8AndReadBackUnchanged() throws Exception {
        FileMailTransport transport = new FileMailTransport(outbox, new eventbank.engine.storage.FileStorage(),
                new MailBank.Console().stream);
        transport.send(MailTemplates.verification(MailBank.SETTINGS, 1, TIME, 1_000_000_000_000_001L,
                "zoë@exämple.com", "c0de"));
        MimeMessage message = MailFiles.read(outbox.resolve("00000000000000000001-verification.eml"));
        assertThat(((jakarta.mail.internet.InternetAddress) message.getRecipients(
                jakarta.mail.Message.RecipientType.TO)[0]).getAddress()).isEqualTo("zoë@exämple.com");
        assertThat(MailFiles.parts(message).html()).contains("zoë@exämple.com");
    }

    static OutgoingMail verification(long seq) {
        return MailTemplates.verification(MailBank.SETTINGS, seq, TIME, 1_000_000_000_000_001L,
                "alice@example.com", "c0de");
    }

    static OutgoingMail withdrawal(long seq) {
        return MailTemplates.withdrawal(MailBank.SETTINGS, seq, TIME, 1_000_000_000_000_001L,
                "alice@example.com", 12_34, 987_66);
    }
}
