package eventbank.testkit.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The mail of a cluster whose nodes write it with the file transport, each into its own
 * {@code outbox/}: every event that gets a mail (an opening, a withdrawal) must have one on some
 * node, whichever node led when it was committed; a mail sent by two nodes (the old leader sent
 * it, and died before its checkpoint said so) is a duplicate, allowed only with the same
 * Message-ID. Counted, so that a run can report them.
 */
public final class MailAudit {
    private static final Pattern NAME = Pattern.compile("(\\d{20})-(verification|withdrawal)\\.eml");
    private static final Pattern MESSAGE_ID = Pattern.compile("(?im)^Message-ID:\\s*(\\S+)");

    /**
     * @param expected   mails the journal's events call for
     * @param missing    of those, the ones no node sent (by seq and kind)
     * @param duplicates mails sent by more than one node
     * @param problems   duplicates whose Message-IDs differ, and missing mails, one sentence each
     */
    public record Verdict(int expected, List<String> missing, int duplicates, List<String> problems) {}

    private MailAudit() {}

    /**
     * Waits up to {@code timeout} for every mail that {@code audit}'s events call for to be in
     * some node's outbox, then judges what is there.
     */
    public static Verdict check(LocalCluster cluster, JournalAudit audit, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, List<Path>> sent = sent(cluster);
        List<String> missing = missing(audit, sent);
        while (!missing.isEmpty() && System.nanoTime() - deadline < 0) {
            TimeUnit.MILLISECONDS.sleep(100);
            sent = sent(cluster);
            missing = missing(audit, sent);
        }
        List<String> problems = new ArrayList<>();
        missing.forEach(name -> problems.add("no node sent the mail " + name));
        int duplicates = 0;
        for (Map.Entry<String, List<Path>> mail : sent.entrySet()) {
            if (mail.getValue().size() < 2) {
                continue;
            }
            duplicates += mail.getValue().size() - 1;
            List<String> ids = new ArrayList<>();
            for (Path file : mail.getValue()) {
                Matcher id = MESSAGE_ID.matcher(Files.readString(file));
                ids.add(id.find() ? id.group(1) : "(none)");
            }
            if (ids.stream().distinct().count() != 1) {
                problems.add("the mail " + mail.getKey() + " was sent by several nodes with different Message-IDs: "
                        + ids);
            }
        }
        return new Verdict(audit.mails().size(), missing, duplicates, problems);
    }

    /** Each mail's file name, with the files of every node that sent it. */
    private static Map<String, List<Path>> sent(LocalCluster cluster) throws IOException {
        Map<String, List<Path>> sent = new HashMap<>();
        for (NodeProcess node : cluster.nodes()) {
            Path outbox = node.dataDirectory().resolve("outbox");
            if (!Files.isDirectory(outbox)) {
                continue;
            }
            try (Stream<Path> files = Files.list(outbox)) {
                for (Path file : files.toList()) {
                    if (NAME.matcher(file.getFileName().toString()).matches()) {
                        sent.computeIfAbsent(file.getFileName().toString(), name -> new ArrayList<>()).add(file);
                    }
                }
            }
        }
        return sent;
    }

    private static List<String> missing(JournalAudit audit, Map<String, List<Path>> sent) {
        List<String> missing = new ArrayList<>();
        audit.mails().forEach((seq, kind) -> {
            String name = String.format("%020d-%s.eml", seq, kind);
            if (!sent.containsKey(name)) {
                missing.add(name);
            }
        });
        return missing;
    }
}
