package eventbank.server.mail;

import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where the outbox sets aside a mail that no retry can deliver ({@link PermanentMailException}),
 * so that one bad address does not hold back everybody's mail: {@code data/outbox/dead-letters/},
 * one text file {@code {seq:020}-{kind}.txt} a mail, saying which mail it was and why it was
 * refused. The link (and so the code) is not written down: the holder of an unverified account
 * can ask for it again ({@code POST /api/verify/resend}), and an operator who reads the file
 * should not hold a key to someone's account.
 */
final class DeadLetters {
    static final String DIRECTORY_NAME = "dead-letters";

    private final Storage storage;
    private final Path directory;

    DeadLetters(Storage storage, Path outboxDirectory) {
        this.storage = storage;
        this.directory = outboxDirectory.resolve(DIRECTORY_NAME);
    }

    Path directory() {
        return directory;
    }

    /** {@code {seq:020}-{kind}.txt}. */
    static String fileName(OutgoingMail mail) {
        return String.format("%020d-%s.txt", mail.seq(), mail.kind().label());
    }

    /** Writes the mail's dead letter, durably; again for the same mail replaces it. */
    void setAside(OutgoingMail mail, String reason) throws IOException {
        String text = "seq: " + mail.seq() + "\n"
                + "kind: " + mail.kind().label() + "\n"
                + "message_id: " + mail.messageId() + "\n"
                + "to: " + mail.to() + "\n"
                + "subject: " + mail.subject() + "\n"
                + "time: " + mail.time() + "\n"
                + "refused: " + oneLine(reason) + "\n";
        AtomicFiles.write(storage, directory, fileName(mail), ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** A server's reply may span lines; each field of the file is one line. */
    private static String oneLine(String text) {
        return String.valueOf(text).replaceAll("\\s+", " ").strip();
    }
}
