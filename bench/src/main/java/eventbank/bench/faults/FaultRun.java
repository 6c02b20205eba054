package eventbank.bench.faults;

import eventbank.testkit.ConsoleLog;
import eventbank.testkit.FaultInjectingStorage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One run of the harness: a fresh data directory, the real server started on it, clients under
 * load, and a series of faults, each followed by a restart, the retry of every operation whose
 * outcome is unknown, a replay of a few acknowledged keys ({@link FaultSteps}), and a full round
 * of the checker. The server checkpoints its read models every 20 to 50 events (drawn per run),
 * so that a SIGKILL often falls in or just after a checkpoint's write and the restarts start from
 * checkpoints rather than from seq 0; it has an operator key, so that the checker reads the
 * operator's routes too.
 */
final class FaultRun {
    /** The operator key of the harness's servers (the checker reads the history and the reports with it). */
    static final String OPERATOR_KEY = "fault-harness-operator-key";
    private static final long FAULT_WAIT_SECONDS_MAX = FaultSteps.FAULT_WAIT_SECONDS_MAX;
    /** The hook fails the 2nd to this many-th journal write or fsync after the start. */
    private static final int JOURNAL_FAULT_OCCURRENCE_MAX = 60;
    /** The read models checkpoint every this many events at least... */
    private static final int CHECKPOINT_EVERY_EVENTS_MIN = 20;
    /** ...and at most. */
    private static final int CHECKPOINT_EVERY_EVENTS_MAX = 50;
    /** The hook halts the process in the 1st to this many-th write to a read-model file after the start. */
    private static final int READMODEL_KILL_OCCURRENCE_MAX = 60;
    /** Load goes on this long at most for the hook to halt the server; then a SIGKILL instead. */
    private static final long READMODEL_KILL_WAIT_SECONDS_MAX = 30;
    /** The SMTP server stays away 1 s to this many ms, and at least until transfers were acknowledged. */
    private static final int SMTP_OUTAGE_MILLIS_MAX = 3000;

    private final FaultHarness.Options options;
    private final int number;
    private final SplittableRandom random;
    private final Path dataDirectory;
    private final Path consoleLog;
    private final LoopDisk disk;
    /** The run's SMTP server, or null when the run uses the file transport. */
    private final MailSink mails;
    private final Tally tally;
    private final PrintStream out;
    private final Map<String, String> environment;
    private final Ledger ledger;
    private final BankClient client = new BankClient();
    private final Requests requests;
    private final Checker checker;
    private final Workload workload;
    private final FaultSteps steps;
    /** Failures of the fault step itself (exit codes, messages), reported with the next check. */
    private final List<String> pending = new ArrayList<>();
    private ServerProcess server;
    private long consoleOffset;

    FaultRun(FaultHarness.Options options, int number, long seed, Path directory, LoopDisk disk, Tally tally,
             PrintStream out) throws IOException {
        this(options, number, seed, directory, disk, false, tally, out);
    }

    /** @param smtp send the mail to a GreenMail server of the run's own instead of {@code data/outbox/} */
    FaultRun(FaultHarness.Options options, int number, long seed, Path directory, LoopDisk disk, boolean smtp,
             Tally tally, PrintStream out) throws IOException {
        this.options = options;
        this.number = number;
        this.random = new SplittableRandom(seed);
        this.dataDirectory = (disk != null ? disk.root() : directory).resolve("data");
        this.consoleLog = directory.resolve("console.log");
        this.disk = disk;
        this.tally = tally;
        this.out = out;
        Map<String, String> variables = new HashMap<>(Map.of("EVENTBANK_AUTH_BCRYPT_COST", "4",
                "EVENTBANK_HTTP_OPEN_RATE_PER_MINUTE", "0", "EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE", "0",
                "EVENTBANK_SNAPSHOT_EVERY_EVENTS", Integer.toString(100 + random.nextInt(400)),
                "EVENTBANK_JOURNAL_SEGMENT_BYTES", "1MiB", "EVENTBANK_OPERATOR_KEY", OPERATOR_KEY,
                "EVENTBANK_CHECKPOINT_EVERY_EVENTS", Integer.toString(CHECKPOINT_EVERY_EVENTS_MIN
                        + random.nextInt(CHECKPOINT_EVERY_EVENTS_MAX - CHECKPOINT_EVERY_EVENTS_MIN + 1))));
        this.mails = smtp ? new MailSink() : null;
        if (mails != null) {
            variables.putAll(mails.environment());
        }
        this.environment = Map.copyOf(variables);
        this.ledger = new Ledger("r" + number);
        ConsoleLinks links = new ConsoleLinks(consoleLog, mails);
        this.requests = new Requests(client, ledger, links);
        this.checker = new Checker(client, requests, OPERATOR_KEY, mails);
        this.workload = new Workload(ledger, requests, options.clients(), options.accountsMax(), random.split());
        this.steps = new FaultSteps(random, options.acksMax(), ledger, requests, workload, tally);
    }

    /** Runs the faults; answers the failures found (empty when everything held). */
    List<String> run(List<Fault> faults) throws Exception {
        List<String> failures = new ArrayList<>();
        try {
            start(null);
            for (int i = 0; i < faults.size() && failures.isEmpty(); i++) {
                long started = System.nanoTime();
                String what = inject(faults.get(i));
                long injected = System.nanoTime();
                failures.addAll(afterFault());
                out.printf("run %d fault %d/%d %s: %s; %d acknowledged so far, %d checks, %.1f s (%.1f s after the"
                                + " fault)%s%n", number, i + 1, faults.size(), faults.get(i).label(), what,
                        ledger.count(Operation.State.ACKNOWLEDGED), checker.checks(),
                        (System.nanoTime() - started) / 1e9, (System.nanoTime() - injected) / 1e9,
                        failures.isEmpty() ? "" : "; FAILED:\n  " + String.join("\n  ", failures));
            }
        } catch (ServerProcess.StartFailed e) {
            failures.add("run " + number + ": a restart failed: " + e.getMessage());
        } finally {
            workload.stop();
            if (server != null && server.isAlive()) {
                int status = server.terminate();
                if (status != 0 && failures.isEmpty()) {
                    failures.add("run " + number + ": the last SIGTERM ended the server with status " + status);
                }
            }
            tally.add(ledger);
            tally.checks += checker.checks();
            tally.lost += checker.lost();
            tally.mismatches += checker.mismatches();
            tally.events += lastSeq();
            tally.mailsChecked += checker.mailsChecked();
            tally.mailsTwice += checker.mailsTwice();
            if (mails != null) {
                mails.close();
            }
        }
        return failures;
    }

    private long lastSeq() {
        long seq = 0;
        for (Operation operation : ledger.operations()) {
            seq = Math.max(seq, operation.seq());
        }
        return seq;
    }

    // ---- The faults ----

    private String inject(Fault fault) throws Exception {
        tally.fault(fault);
        if (fault == Fault.SIGKILL || fault == Fault.SNAPSHOT || fault == Fault.DISK_FULL
                || fault == Fault.SMTP_DOWN || fault == Fault.READMODEL_KILL) {
            // A SIGKILL (or a halt), or a dropped SMTP session: the outbox may send a mail again (same Message-ID).
            checker.resendsPossible();
        }
        return switch (fault) {
            case SIGKILL -> signal(true);
            case SIGTERM -> signal(false);
            case JOURNAL_FSYNC, JOURNAL_WRITE -> journalFault(fault);
            case SNAPSHOT -> snapshot();
            case READMODEL_KILL -> readModelKill();
            case DISK_FULL -> diskFull();
            case SMTP_DOWN -> smtpDown();
            case LEADER_KILL, PRIMARY_KILL -> throw new IllegalArgumentException(fault.label() + " is a cluster fault:"
                    + " ClusterFaultRun plays it");
        };
    }

    private String signal(boolean kill) throws Exception {
        String when = steps.loadUntilFaultPoint();
        int status = kill ? server.kill() : server.terminate();
        workload.stop();
        expect(status == (kill ? 137 : 0), (kill ? "SIGKILL" : "SIGTERM") + " ended the server with status " + status);
        if (!kill) {
            expect(console().contains("eventbank: stopped cleanly"), "SIGTERM: no \"stopped cleanly\" on the console");
        }
        start(null);
        return (kill ? "SIGKILL" : "SIGTERM") + " " + when;
    }

    /**
     * Restarts the server with the test-only hook failing the journal's N-th fsync or write, loads
     * it until it fails stop, checks how it says so, kills it and restarts without the hook.
     */
    private String journalFault(Fault fault) throws Exception {
        expect(server.terminate() == 0, "SIGTERM before the journal fault did not stop the server cleanly");
        long occurrence = 2 + random.nextInt(JOURNAL_FAULT_OCCURRENCE_MAX - 1);
        String hook = fault.label() + "@" + occurrence;
        start(hook);
        expect(console().contains("TEST-ONLY FAULT INJECTION IS ON"), "the fault hook was not announced");
        workload.start();
        String message = awaitFailStop("injected fault " + hook);
        workload.stop();
        boolean kill = random.nextBoolean();
        if (kill) {
            checker.resendsPossible();
        }
        int status = kill ? server.kill() : server.terminate();
        // After fail-stop a SIGTERM ends the server with 1, never with the 0 of a healthy stop (finding 2).
        expect(status == (kill ? 137 : 1), "after fail-stop, " + (kill ? "SIGKILL" : "SIGTERM") + " ended the server"
                + " with status " + status);
        if (!kill) {
            expect(console().contains("stopped after the journal failed") && !console().contains("stopped cleanly"),
                    "SIGTERM after fail-stop: the console does not say that the server stopped after a failure");
        }
        start(null);
        return hook + " failed stop (" + message + "), then " + (kill ? "SIGKILL" : "SIGTERM");
    }

    /**
     * Restarts the server with the test-only hook halting it half-way through its N-th write to a
     * read model's file ({@code readmodel-kill@N}, the same as a SIGKILL at that instant), or, one
     * time in two, its N-th write to a checkpoint ({@code checkpoint-kill@N}: the statements'
     * store, written at every batch, would otherwise take most of the halts), loads it until it
     * halts (or SIGKILLs it when the hook did not fire within the bound), and
     * restarts without the hook: the read models start from whatever their files hold then. The
     * server before is stopped with a SIGKILL too (idle: the clients are stopped between faults),
     * which is quicker than a clean stop and leaves the hooked start its catch-up to do.
     */
    private String readModelKill() throws Exception {
        expect(server.kill() == 137, "SIGKILL before the read-model kill did not end the server with 137");
        FaultInjectingStorage.Kind kind = random.nextBoolean() ? FaultInjectingStorage.Kind.READMODEL_KILL
                : FaultInjectingStorage.Kind.CHECKPOINT_KILL;
        String hook = kind.label() + "@" + (1 + random.nextInt(READMODEL_KILL_OCCURRENCE_MAX));
        int status;
        try {
            start(hook);
            expect(console().contains("TEST-ONLY FAULT INJECTION IS ON"), "the fault hook was not announced");
            workload.start();
            status = server.awaitExit(READMODEL_KILL_WAIT_SECONDS_MAX);
            workload.stop();
        } catch (ServerProcess.StartFailed e) {
            if (e.exitStatus() != FaultInjectingStorage.READMODEL_KILL_STATUS) {
                throw e;
            }
            status = e.exitStatus(); // halted while it started, before it served
        }
        String what;
        if (status == FaultInjectingStorage.READMODEL_KILL_STATUS) {
            String halted = haltedIn();
            expect(halted != null, "the server exited with the hook's status " + status + " but its console does not"
                    + " say where it halted");
            tally.readModelHalts++;
            tally.haltedIn.merge(String.valueOf(halted), 1, Integer::sum);
            what = hook + " halted the server in a write to " + halted;
        } else {
            expect(status == -1, "under " + hook + " the server exited with status " + status);
            expect(server.kill() == 137, "SIGKILL after " + hook + " did not fire did not end the server with 137");
            what = hook + " did not fire within " + READMODEL_KILL_WAIT_SECONDS_MAX + " s of load: SIGKILL instead";
        }
        start(null);
        return what;
    }

    /** Where the hook says it halted, since the last start: the file's path within the data directory. */
    private String haltedIn() throws IOException {
        for (String line : console().split("\n")) {
            int at = line.indexOf(FaultInjectingStorage.READMODEL_KILL_MARK);
            int to = line.lastIndexOf(" to ");
            if (at >= 0 && to > at) {
                Path file = Path.of(line.substring(to + 4).strip()).toAbsolutePath();
                Path data = dataDirectory.toAbsolutePath();
                return file.startsWith(data) ? data.relativize(file).toString() : file.toString();
            }
        }
        return null;
    }

    /**
     * Polls /health until it is 503 {@code failed} (bounded), then checks that it names the cause
     * and that a new command is refused with {@code journal_failed}.
     */
    private String awaitFailStop(String cause) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FAULT_WAIT_SECONDS_MAX);
        BankClient.Reply health = client.get("/health", null);
        while (health.status() != 503 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20); // polling /health, bounded by the deadline
            health = client.get("/health", null);
        }
        if (health.status() != 503) {
            throw new IllegalStateException("the server did not fail stop within " + FAULT_WAIT_SECONDS_MAX + " s: "
                    + health.body());
        }
        expect(health.body().path("status").asText().equals("failed")
                        && health.body().path("problems").toString().contains(cause),
                "/health after the fault says " + health.body() + ", not failed with " + cause);
        // The server's log says it too, once, as an error naming the cause (finding 1).
        long logDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!failureLogged(cause) && System.nanoTime() < logDeadline) {
            TimeUnit.MILLISECONDS.sleep(20); // polling the console log, bounded by the deadline
        }
        expect(failureLogged(cause), "the server's log does not say that the journal failed with " + cause);
        Account holder = ledger.accounts().getFirst();
        Operation refused = ledger.newOperation(Operation.Kind.WITHDRAW, holder, null, 1);
        requests.execute(refused);
        expect(refused.lastAnswer().equals("503 journal_failed"), "a command after fail-stop was answered "
                + refused.lastAnswer());
        return "/health 503, new commands journal_failed";
    }

    /**
     * SIGKILL once there is a snapshot (the load goes on until the snapshotter wrote one), damage
     * the newest, check that verify names it, restart (from an older one or a full replay).
     */
    private String snapshot() throws Exception {
        String when = steps.loadUntilFaultPoint();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FAULT_WAIT_SECONDS_MAX);
        while (newestSnapshot() == null && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20); // polling the snapshot directory, bounded by the deadline
        }
        expect(server.kill() == 137, "SIGKILL before the snapshot damage did not end the server with 137");
        workload.stop();
        Path newest = newestSnapshot();
        if (newest == null) {
            expect(false, "no snapshot was written within " + FAULT_WAIT_SECONDS_MAX + " s of load");
            start(null);
            return "SIGKILL " + when + "; no snapshot to damage";
        }
        long offset;
        try (RandomAccessFile file = new RandomAccessFile(newest.toFile(), "rw")) {
            offset = random.nextLong(file.length());
            file.seek(offset);
            int original = file.read();
            file.seek(offset);
            file.write(original ^ (1 + random.nextInt(255)));
        }
        Checker.Tool verify = Checker.Tool.run("verify", "--data-dir", dataDirectory.toString());
        expect(verify.exitCode() == 1 && verify.out().contains(newest.getFileName().toString()),
                "verify did not report the damaged " + newest + " (exit " + verify.exitCode() + "):\n" + verify.out());
        start(null);
        expect(console().contains(newest.getFileName().toString()), "the start did not warn about " + newest);
        // What docs/OPERATIONS.md tells an operator to do with a damaged snapshot: move it away.
        try {
            // A snapshot of the same seq may be written again after a restart and damaged again.
            Path aside = dataDirectory.resolveSibling("damaged-" + newest.getFileName());
            for (int copy = 2; Files.exists(aside); copy++) {
                aside = dataDirectory.resolveSibling("damaged-" + copy + "-" + newest.getFileName());
            }
            Files.move(newest, aside);
        } catch (NoSuchFileException prunedMeanwhile) {
            // The snapshotter's retention removed it first: as good.
        }
        return "SIGKILL " + when + ", byte " + offset + " of " + newest.getFileName() + " damaged, start passed over it";
    }

    private boolean failureLogged(String cause) throws IOException {
        for (String line : console().split("\n")) {
            if (line.contains("ERROR") && line.contains("the journal failed: ") && line.contains(cause)) {
                return true;
            }
        }
        return false;
    }

    private Path newestSnapshot() throws IOException {
        Path directory = dataDirectory.resolve("snapshots");
        if (!Files.isDirectory(directory)) {
            return null;
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".snap"))
                    .max(Comparator.comparing(Path::getFileName)).orElse(null);
        }
    }

    /** Fills the loop-mounted file system under load until the journal fails stop; frees it; restarts. */
    private String diskFull() throws Exception {
        if (disk == null) {
            throw new IllegalStateException("the disk-full fault needs a run on a loop-mounted file system");
        }
        String when = steps.loadUntilFaultPoint();
        long leave = random.nextLong(256 * 1024);
        disk.fill(leave);
        String message = awaitFailStop("No space left on device");
        workload.stop();
        expect(server.kill() == 137, "SIGKILL of the failed server did not end it with 137");
        disk.empty();
        start(null);
        return "filled to " + leave + " bytes free " + when + ": " + message + "; space given back, restarted";
    }

    /**
     * Stops the SMTP server under load; the clients go on (transfers and withdrawals must still be
     * acknowledged: the outbox works behind the journal); starts it again on the same port. The
     * checker then waits for every mail.
     */
    private String smtpDown() throws Exception {
        if (mails == null) {
            throw new IllegalStateException("the smtp-down fault needs a run with the SMTP transport");
        }
        String when = steps.loadUntilFaultPoint();
        // Transfers need verified accounts, and verifying needs the mail: an outage before the
        // first transfer would starve the workload (a seed did) instead of testing the outbox.
        long verifiedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(FAULT_WAIT_SECONDS_MAX);
        while (acknowledgedTransfers() == 0 && System.nanoTime() < verifiedBy) {
            TimeUnit.MILLISECONDS.sleep(20); // polling the ledger, bounded by the deadline
        }
        mails.stop();
        long transfersBefore = acknowledgedTransfers();
        long acknowledgedBefore = workload.acknowledged();
        long millis = 1000 + random.nextInt(SMTP_OUTAGE_MILLIS_MAX - 999);
        TimeUnit.MILLISECONDS.sleep(millis); // the outage itself, of a random length
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FAULT_WAIT_SECONDS_MAX);
        while (acknowledgedTransfers() == transfersBefore && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20); // polling the ledger, bounded by the deadline
        }
        long transfers = acknowledgedTransfers() - transfersBefore;
        long acknowledged = workload.acknowledged() - acknowledgedBefore;
        mails.start();
        workload.stop();
        expect(transfers > 0, "no transfer was acknowledged while the SMTP server was down ("
                + acknowledged + " operations were)");
        return "SMTP server down " + when + " for " + millis + " ms or more: " + acknowledged + " acknowledged"
                + " meanwhile (" + transfers + " transfers), then back on port " + mails.port();
    }

    private long acknowledgedTransfers() {
        long count = 0;
        for (Operation operation : ledger.operations()) {
            if (operation.kind == Operation.Kind.TRANSFER && operation.state() == Operation.State.ACKNOWLEDGED) {
                count++;
            }
        }
        return count;
    }

    // ---- Load, restarts, retries, checks ----

    private void start(String faults) throws IOException, InterruptedException {
        consoleOffset = Files.exists(consoleLog) ? Files.size(consoleLog) : 0;
        server = ServerProcess.start(dataDirectory, consoleLog, faults, environment);
        client.baseUrl(server.baseUrl());
        tally.restarts++;
    }

    /** The console since the last start. */
    private String console() throws IOException {
        return ConsoleLog.readFrom(consoleLog, consoleOffset);
    }

    private List<String> afterFault() throws Exception {
        steps.settle();
        tally.checkRounds++;
        List<String> found = new ArrayList<>(pending);
        pending.clear();
        found.addAll(checker.checkAll(ledger, dataDirectory, true));
        return found;
    }

    private void expect(boolean holds, String failure) {
        if (!holds) {
            pending.add(failure);
        }
    }
}
