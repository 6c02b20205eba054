package eventbank.server.mail;

import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import jakarta.mail.Session;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The transport for local development and tests (and the default): each mail becomes an RFC 5322
 * file {@code {seq:020}-{kind}.eml} in the outbox directory, which any mail client opens. A file
 * appears whole or not at all: it is written under a {@code .tmp} name, fsynced, renamed, and
 * the directory fsynced. Sending a mail again (after a crash) replaces its file by the same
 * message.
 *
 * <p>It alone also prints the verification link to the console, so a developer can follow it
 * without opening the file. That line is the one place outside the mail itself where a code
 * appears.
 */
public final class FileMailTransport implements MailTransport {
    /** The suffix of a file being written; a reader of the outbox skips such files. */
    public static final String TEMPORARY_SUFFIX = Storage.TEMPORARY_SUFFIX;
    private static final System.Logger LOG = System.getLogger(FileMailTransport.class.getName());

    private final Path directory;
    private final Storage storage;
    private final PrintStream console;
    private final Session session = MimeMails.session();

    /**
     * @param directory where the files go ({@code data/outbox})
     * @param console   where the verification link is printed
     */
    public FileMailTransport(Path directory, Storage storage, PrintStream console) {
        this.directory = Objects.requireNonNull(directory, "directory");
        this.storage = Objects.requireNonNull(storage, "storage");
        this.console = Objects.requireNonNull(console, "console");
    }

    /** Real files, the link printed to standard output. */
    public FileMailTransport(Path directory) {
        this(directory, new FileStorage(), System.out);
    }

    /** {@code {seq:020}-{kind}.eml}. */
    public static String fileName(OutgoingMail mail) {
        return String.format("%020d-%s.eml", mail.seq(), mail.kind().label());
    }

    public Path directory() {
        return directory;
    }

    @Override
    public void send(OutgoingMail mail) throws IOException {
        byte[] message = MimeMails.bytes(MimeMails.build(session, mail), mail);
        String name = fileName(mail);
        // The link is printed before the file appears, so whoever sees the file sees the link.
        if (mail.link() != null) {
            console.println("eventbank: verification link for " + mail.to() + ": " + mail.link());
        }
        storage.replaceDurably(directory.resolve(name), ByteBuffer.wrap(message));
        LOG.log(System.Logger.Level.DEBUG, () -> "wrote " + mail + " to " + directory.resolve(name));
    }
}
