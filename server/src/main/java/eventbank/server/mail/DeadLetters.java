package eventbank.server.mail;

import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the outbox sets aside a mail that no retry can deliver ({@link PermanentMailException}),
 * so that one bad address does not hold back everybody's mail: {@code data/outbox/dead-letters/},
 * one text file {@code {seq:020}-{kind}.txt} a mail, saying which mail it was, why it was
 * refused, and the facts it was made of (account number; amount and balance of a withdrawal),
 * so that an operator can send it again ({@code POST /api/admin/mail/dead/{seq}/retry}). The
 * link (and so the code) is not written down: it is derived again from the account number and
 * the seq, and an operator who reads the file should not hold a key to someone's account.
 *
 * <p>Its methods are synchronized: the outbox's thread sets mails aside while operators list
 * and retry them from HTTP threads.
 */
final class DeadLetters {
    static final String DIRECTORY_NAME = "dead-letters";
    /** The most dead letters one listing reads; an operator pages through more with after_seq. */
    static final int LIST_LIMIT_MAX = 1_000;
    private static final Pattern FILE_NAME = Pattern.compile("(\\d{20})-([a-z-]+)\\.txt");

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
    static String fileName(long seq, OutgoingMail.Kind kind) {
        return String.format("%020d-%s.txt", seq, kind.label());
    }

    /** Writes the dead letter, durably; again for the same mail replaces it. */
    synchronized void setAside(DeadLetter letter) throws IOException {
        String text = "seq: " + letter.seq() + "\n"
                + "kind: " + letter.kind().label() + "\n"
                + "message_id: " + letter.messageId() + "\n"
                + "to: " + letter.to() + "\n"
                + "subject: " + letter.subject() + "\n"
                + "time: " + letter.time() + "\n"
                + "account_number: " + letter.accountNumber() + "\n"
                + "amount: " + letter.amount() + "\n"
                + "balance_after: " + letter.balanceAfter() + "\n"
                + "refused: " + oneLine(letter.reason()) + "\n"
                + "set_aside_at: " + letter.setAsideAt() + "\n";
        storage.replaceDurably(directory.resolve(fileName(letter.seq(), letter.kind())),
                ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Up to {@code limit} dead letters with a seq above {@code afterSeq}, in seq order. */
    synchronized List<DeadLetter> list(long afterSeq, int limit) throws IOException {
        List<DeadLetter> letters = new ArrayList<>();
        for (String name : names()) {
            if (letters.size() >= limit) {
                break;
            }
            if (Long.parseLong(name.substring(0, name.indexOf('-'))) > afterSeq) {
                letters.add(read(name));
            }
        }
        return letters;
    }

    /** The dead letter of this seq, if one is set aside. */
    synchronized Optional<DeadLetter> find(long seq) throws IOException {
        String prefix = String.format("%020d-", seq);
        for (String name : names()) {
            if (name.startsWith(prefix)) {
                return Optional.of(read(name));
            }
        }
        return Optional.empty();
    }

    /** Deletes the dead letter, durably: its mail went out. */
    synchronized void remove(DeadLetter letter) throws IOException {
        storage.delete(directory.resolve(fileName(letter.seq(), letter.kind())));
        storage.syncDirectory(directory);
    }

    /** The names of the dead letters, in seq order (the seq is zero-padded); temporary files left out. */
    private List<String> names() throws IOException {
        if (!storage.exists(directory)) {
            return List.of();
        }
        return storage.list(directory).stream().filter(name -> FILE_NAME.matcher(name).matches()).sorted().toList();
    }

    private DeadLetter read(String name) throws IOException {
        Path path = directory.resolve(name);
        byte[] bytes = storage.readAll(path);
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                fields.put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        try {
            return new DeadLetter(Long.parseLong(field(fields, "seq", path)), kindOf(field(fields, "kind", path)),
                    field(fields, "message_id", path), field(fields, "to", path), field(fields, "subject", path),
                    Instant.parse(field(fields, "time", path)), Long.parseLong(field(fields, "account_number", path)),
                    Long.parseLong(field(fields, "amount", path)), Long.parseLong(field(fields, "balance_after", path)),
                    field(fields, "refused", path), Instant.parse(field(fields, "set_aside_at", path)));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IOException("the dead letter " + path + " is damaged: " + e.getMessage(), e);
        }
    }

    private static String field(Map<String, String> fields, String name, Path path) throws IOException {
        String value = fields.get(name);
        if (value == null) {
            throw new IOException("the dead letter " + path + " has no '" + name + "' line");
        }
        return value;
    }

    /** The kind a dead letter names by its label. */
    static OutgoingMail.Kind kindOf(String label) throws IOException {
        for (OutgoingMail.Kind kind : OutgoingMail.Kind.values()) {
            if (kind.label().equals(label)) {
                return kind;
            }
        }
        throw new IOException("a dead letter of an unknown kind: " + label);
    }

    /** A server's reply may span lines; each field of the file is one line. */
    private static String oneLine(String text) {
        return String.valueOf(text).replaceAll("\\s+", " ").strip();
    }
}
