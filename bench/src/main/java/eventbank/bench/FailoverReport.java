package eventbank.bench;

import eventbank.testkit.cluster.FailoverCheck;
import eventbank.testkit.cluster.JournalAudit;
import eventbank.testkit.cluster.Ledger;
import eventbank.testkit.cluster.LocalCluster;
import eventbank.testkit.cluster.MailAudit;
import eventbank.testkit.cluster.MoneyClients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the failover benchmarks ({@link FailoverBenchmark}, {@link PatroniFailoverBenchmark}) print
 * once their clients have stopped, from the checks of the suite's failover test, and where their
 * files go at the end.
 */
final class FailoverReport {
    private FailoverReport() {}

    /**
     * Runs {@link FailoverCheck} and {@link MailAudit} and prints what they found: the commands
     * acknowledged and lost, every disagreement (the first 20), the mail.
     *
     * @param journalUrl where to read the journal (a primary's own URL, or the nodes' multi-host one)
     *
     * @return whether nothing was lost and every check held
     */
    static boolean checkAndPrint(LocalCluster cluster, Ledger ledger, List<MoneyClients.Account> accounts,
                                 String keyPrefix, double seconds, int kills, Duration timeout, String journalUrl)
            throws IOException, InterruptedException {
        FailoverCheck.Verdict verdict = FailoverCheck.check(cluster, ledger, accounts, keyPrefix, timeout, journalUrl);
        System.out.printf("%d commands acknowledged in %.0f s (%d rejected, %d answers that settled nothing:"
                + " 503s and refused connections); journal at seq %d%n", verdict.acknowledged(), seconds,
                ledger.rejected().size(), ledger.unsettled().size(), verdict.journalSeq());
        System.out.printf("acknowledged but lost: %d; disagreements found by the checks (the lost among them):"
                + " %d%n", verdict.lost(), verdict.problems().size());
        verdict.problems().stream().limit(20).forEach(problem -> System.out.println("  " + problem));
        MailAudit.Verdict mail = MailAudit.check(cluster, JournalAudit.read(journalUrl), timeout);
        System.out.printf("mail across the %d kills: %d openings and withdrawals, %d without a mail, %d sent"
                + " twice (by two leaders), %d problems%n", kills, mail.expected(), mail.missing().size(),
                mail.duplicates(), mail.problems().size());
        mail.problems().stream().limit(20).forEach(problem -> System.out.println("  " + problem));
        return verdict.lost() == 0 && verdict.problems().isEmpty() && mail.problems().isEmpty();
    }

    /** Deletes the benchmark's directory, or says where it is kept. */
    static void deleteUnlessKept(Path directory, boolean keep) throws IOException {
        if (keep) {
            System.out.println("kept " + directory);
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
