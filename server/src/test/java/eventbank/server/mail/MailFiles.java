package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/** Reads the outbox directory back the way a mail client would. */
final class MailFiles {
    private MailFiles() {}

    /** The names of the finished mail files, sorted. */
    static List<String> names(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString()).filter(name -> name.endsWith(".eml"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static MimeMessage read(Path file) throws IOException, MessagingException {
        Properties properties = new Properties();
        properties.setProperty("mail.mime.allowutf8", "true");
        try (InputStream in = Files.newInputStream(file)) {
            return new MimeMessage(Session.getInstance(properties), in);
        }
    }

    /** The two parts of a mail, checked to be multipart/alternative with text, then HTML. */
    record Parts(String text, String html) {}

    static Parts parts(MimeMessage message) throws IOException, MessagingException {
        assertThat(message.getContentType()).startsWith("multipart/alternative");
        MimeMultipart multipart = (MimeMultipart) message.getContent();
        assertThat(multipart.getCount()).isEqualTo(2);
        BodyPart text = multipart.getBodyPart(0);
        BodyPart html = multipart.getBodyPart(1);
        assertThat(text.isMimeType("text/plain")).as(text.getContentType()).isTrue();
        assertThat(html.isMimeType("text/html")).as(html.getContentType()).isTrue();
        return new Parts((String) text.getContent(), (String) html.getContent());
    }

    static String messageId(Path file) throws IOException, MessagingException {
        return read(file).getMessageID();
    }
}
