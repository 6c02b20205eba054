package eventbank.server.cli;

import eventbank.engine.history.Verifier;
import eventbank.engine.storage.FileStorage;
import eventbank.server.config.DataDirectoryEvidence;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank verify}: checks a data directory end to end with {@link Verifier} (every
 * batch's checksums, the hash chain from seq 1, a full replay, every snapshot, the money
 * invariant) and prints a summary ending in the head {@code {seq, hash}} to record elsewhere.
 * With the journal in PostgreSQL, it checks every row the same way, the data directory's
 * snapshots (if any) against it, and that the journal's head row is where the rows end, and
 * prints the same head. Read-only, like {@code events}.
 */
@Command(name = "verify", sortOptions = false,
        description = {"Checks a data directory end to end and prints its head {seq, hash}.",
                "Checks every batch's checksums and the hash chain from seq 1, replays the journal,",
                "compares every snapshot with the replay and checks the money invariant.",
                "Read-only: takes no lock, writes nothing, works beside a running server."},
        footer = {"", "Exit codes: 0 ok, 1 a check failed, 2 usage error, 3 data directory missing or",
                "unreadable, or the journal's database unreachable."})
final class VerifyCommand implements Callable<Integer> {
    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ReplayOptions replay;

    @Mixin
    private HelpOption help;

    VerifyCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws IOException {
        JournalOptions.History history = replay.open(environment, spec.name());
        long window = replay.idempotencyWindowMicros(environment);
        Verifier.Report report;
        if (history.postgres().isEmpty()) {
            Path directory = history.dataDirectory().orElseThrow();
            FileStorage storage = new FileStorage();
            report = Verifier.verify(storage, directory, window, DataDirectoryEvidence.sources(storage, directory));
        } else {
            report = Verifier.verify(history.journal(), history.snapshots(), window);
        }
        PrintWriter out = spec.commandLine().getOut();
        printSummary(out, history.describe(), report);
        out.flush();
        if (!report.ok()) {
            int more = report.problems().size() - 1;
            spec.commandLine().getErr().println(spec.qualifiedName() + ": FAILED: " + report.problems().get(0)
                    + (more > 0 ? " (and " + more + " more problem" + (more > 1 ? "s" : "") + ")" : ""));
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.OK;
    }

    /** The summary, after {@code where}: the lines that say where the journal and the snapshots are. */
    static void printSummary(PrintWriter out, String where, Verifier.Report report) {
        out.println(where);
        out.println("events: " + report.events() + " in " + report.batches() + " batches");
        out.println("accounts: " + report.accounts());
        out.println("snapshots checked: " + report.snapshotsChecked());
        long expected = report.openedTotal() - report.withdrawnTotal();
        out.println("money: balances " + report.balanceTotal() + " = opened " + report.openedTotal()
                + " - withdrawn " + report.withdrawnTotal() + " cents: "
                + (report.balanceTotal() == expected ? "the invariant holds" : "BROKEN, expected " + expected));
        out.println("warnings: " + report.warnings().size());
        for (String warning : report.warnings()) {
            out.println("  warning: " + warning);
        }
        out.println("problems: " + report.problems().size());
        for (String problem : report.problems()) {
            out.println("  problem: " + problem);
        }
        // Only a sound directory's head is worth recording elsewhere; a failed check says so on
        // the same line, so that a script taking the line that starts with "head: " takes none.
        out.println((report.ok() ? "head: " : "head (verify failed: the last sound batch, not to be recorded): ")
                + "{\"seq\":" + report.lastSeq() + ",\"hash\":\"" + report.headHash() + "\"}");
        out.println(report.ok() ? "verify: OK" : "verify: FAILED");
    }
}
