package eventbank.bench.faults;

import eventbank.testkit.ConsoleLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The verification links the server printed on its console (the file transport prints each one
 * it mails), read from the run's console log as it grows; in a cluster, from every node's
 * console, since whichever node led mailed it. Only the query is kept: the server's port changes
 * at every restart, the link's code does not. With the SMTP transport (which prints no link)
 * they are read from the mails the {@link MailSink} received.
 */
final class ConsoleLinks {
    private static final Pattern LINK =
            Pattern.compile("verification link for (\\S+): \\S*/api/verify\\?(account_number=\\d+&code=\\S+)");

    private final List<Path> logs;
    private final MailSink mails;
    private final Map<String, String> queries = new ConcurrentHashMap<>();
    /** How far each log has been read, in bytes. */
    private final long[] offsets;

    ConsoleLinks(Path log) {
        this(List.of(log), null);
    }

    ConsoleLinks(Path log, MailSink mails) {
        this(List.of(log), mails);
    }

    ConsoleLinks(List<Path> logs, MailSink mails) {
        this.logs = List.copyOf(logs);
        this.mails = mails;
        this.offsets = new long[logs.size()];
    }

    /** The query of the link mailed to {@code email}, or null when none was printed yet. */
    synchronized String queryFor(String email) throws IOException {
        if (mails != null) {
            return mails.queryFor(email);
        }
        String query = queries.get(email);
        if (query != null) {
            return query;
        }
        for (int i = 0; i < logs.size(); i++) {
            String text = ConsoleLog.readFrom(logs.get(i), offsets[i]);
            int end = text.lastIndexOf('\n') + 1; // whole lines only
            Matcher matcher = LINK.matcher(text.substring(0, end));
            while (matcher.find()) {
                queries.put(matcher.group(1), matcher.group(2));
            }
            offsets[i] += text.substring(0, end).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        return queries.get(email);
    }
}
