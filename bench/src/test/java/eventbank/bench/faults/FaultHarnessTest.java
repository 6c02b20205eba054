package eventbank.bench.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short run of the fault harness (docs/RELIABILITY.md), on every build: the real server as a
 * child process, clients under load, every kind of fault at least once ({@code readmodel-kill}
 * twice), the checker after each, comparing every read route with the journal. The ordinary run
 * has an {@code smtp-down} fault, so its mail goes to GreenMail over SMTP; the full-disk run keeps
 * the file transport.
 * {@code -Dfaults.seed=S} repeats a run's choices; the seed is printed first.
 */
class FaultHarnessTest {
    private static final long SEED = Long.getLong("faults.seed", System.nanoTime());

    @TempDir
    Path temporary;

    @Test
    void theServerSurvivesKillsStopsJournalFailuresADamagedSnapshotKillsInReadModelWritesAndTheSmtpServerGoingAway()
            throws Exception {
        // Weights adding up to the count: exactly this many of each.
        Map<Fault, Integer> mix = new EnumMap<>(Fault.class);
        mix.put(Fault.SIGKILL, 1);
        mix.put(Fault.SIGTERM, 1);
        mix.put(Fault.JOURNAL_FSYNC, 1);
        mix.put(Fault.JOURNAL_WRITE, 1);
        mix.put(Fault.SNAPSHOT, 1);
        mix.put(Fault.READMODEL_KILL, 2);
        mix.put(Fault.SMTP_DOWN, 1);
        FaultHarness.Options options = new FaultHarness.Options(SEED, 1, 8, mix, 0, 0, 6, 16, 300,
                temporary.resolve("work"), false);
        FaultHarness.Result result = FaultHarness.run(options, System.out);
        System.out.print(result.table());
        assertThat(result.failures()).as("seed " + SEED).isEmpty();
        assertThat(result.lost()).as("acknowledged operations lost, seed " + SEED).isZero();
        assertThat(result.mismatches()).as("read-route answers that were not the journal's, seed " + SEED).isZero();
        for (Map.Entry<Fault, Integer> fault : mix.entrySet()) {
            assertThat(result.faults(fault.getKey().label())).as(fault.getKey().label()).isEqualTo(fault.getValue());
        }
        assertThat(result.readModelHalts()).as("read-model kills the hook ended, seed " + SEED).isPositive();
        assertThat(result.checkRounds()).isEqualTo(8);
        assertThat(result.acknowledged()).isPositive();
        assertThat(result.mailsChecked()).as("mails checked in the SMTP server").isPositive();
    }

    @Test
    void aFullDiskEndsInFailStopAndARestartWithSpaceBackRecoversEverything() throws Exception {
        FaultHarness.Options options = new FaultHarness.Options(SEED, 0, 0, Map.of(), 1, 1, 6, 16, 300,
                temporary.resolve("work"), false);
        FaultHarness.Result result = FaultHarness.run(options, System.out);
        System.out.print(result.table());
        Assumptions.assumeTrue(result.skipped().isEmpty(),
                () -> "SKIPPED, not passed: the full-disk run needs a loop-mounted file system: " + result.skipped());
        assertThat(result.failures()).as("seed " + SEED).isEmpty();
        assertThat(result.lost()).isZero();
        assertThat(result.faults(Fault.DISK_FULL.label())).isEqualTo(1);
        assertThat(result.checkRounds()).isEqualTo(1);
    }

    /**
     * The checker is not a formality: an acknowledged operation the journal lacks is reported
     * lost, and read routes that answer what is not in the journal it reads are mismatches.
     */
    @Test
    void theCheckerReportsAnAcknowledgedOperationMissingFromTheJournalAndReadRoutesThatAreNotTheJournals()
            throws Exception {
        Path data = temporary.resolve("data");
        Path console = temporary.resolve("console.log");
        ServerProcess server = ServerProcess.start(data, console, null, Map.of("EVENTBANK_AUTH_BCRYPT_COST", "4",
                "EVENTBANK_OPERATOR_KEY", FaultRun.OPERATOR_KEY));
        try {
            BankClient client = new BankClient();
            client.baseUrl(server.baseUrl());
            Ledger ledger = new Ledger("c");
            Requests requests = new Requests(client, ledger, new ConsoleLinks(console));
            Account a = open(requests, ledger);
            Account b = open(requests, ledger);
            assertThat(requests.makeUsable(a) || awaitUsable(requests, a)).isTrue();
            Operation withdrawal = ledger.newOperation(Operation.Kind.WITHDRAW, a, null, 100);
            requests.execute(withdrawal);
            assertThat(withdrawal.state()).isEqualTo(Operation.State.ACKNOWLEDGED);
            Checker honest = new Checker(client, requests, FaultRun.OPERATOR_KEY, null);
            assertThat(honest.checkAll(ledger, data, true)).isEmpty();
            assertThat(honest.mismatches()).isZero();
            // The data directory as it is now: a journal one withdrawal behind the server's.
            Path older = temporary.resolve("older");
            copyTree(data, older);
            Operation second = ledger.newOperation(Operation.Kind.WITHDRAW, a, null, 200);
            requests.execute(second);
            assertThat(second.state()).isEqualTo(Operation.State.ACKNOWLEDGED);

            // Claim a transfer was acknowledged that the server never heard of.
            Operation forged = ledger.newOperation(Operation.Kind.TRANSFER, a, b, 5);
            forged.settle(Operation.State.ACKNOWLEDGED, second.seq() + 1, "200 (forged)");
            Checker checker = new Checker(client, requests, FaultRun.OPERATOR_KEY, null);
            List<String> failures = checker.checkAll(ledger, data, true);
            assertThat(checker.lost()).isEqualTo(1);
            assertThat(failures).anyMatch(failure -> failure.startsWith("LOST: TRANSFER " + forged.key));
            assertThat(failures).anyMatch(failure -> failure.contains("state --at"));
            assertThat(checker.mismatches()).as("the routes do not know the forged transfer either").isZero();

            // Every route of account a now answers what the older journal does not hold.
            Checker behind = new Checker(client, requests, FaultRun.OPERATOR_KEY, null);
            failures = behind.checkAll(ledger, new Checker.Place(List.of("--data-dir", older.toString()),
                    List.of(data.resolve("outbox")), List.of()), true);
            for (String route : List.of("GET /api/account of account " + a.number(),
                    "GET /api/account/transactions (every page), line 2 of 2 (the journal has 1) of account "
                            + a.number(),
                    "GET /api/admin/accounts/" + a.number() + "/history, line 4 of 4 (the journal has 3)",
                    "GET /api/operations/" + second.key + " of account " + a.number())) {
                assertThat(failures).as(route).anyMatch(failure -> failure.startsWith("MISMATCH: " + route));
            }
            assertThat(failures).anyMatch(failure -> failure.startsWith("MISMATCH: GET /api/report/sum_transactions")
                    && failure.endsWith(" served 300; the journal says 100"));
            assertThat(behind.mismatches()).isEqualTo(failures.stream().filter(f -> f.startsWith("MISMATCH")).count());
        } finally {
            assertThat(server.terminate()).isZero();
        }
        assertThat(Files.readString(console)).contains("stopped cleanly");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }

    private static Account open(Requests requests, Ledger ledger) throws InterruptedException {
        Operation open = ledger.newOperation(Operation.Kind.OPEN, ledger.newAccount(), null, 0);
        requests.execute(open);
        assertThat(open.state()).as(open.toString()).isEqualTo(Operation.State.ACKNOWLEDGED);
        return open.account;
    }

    /** The verification link is printed once the outbox mailed it: poll for it, bounded. */
    private static boolean awaitUsable(Requests requests, Account account) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (requests.makeUsable(account)) {
                return true;
            }
            Thread.sleep(20); // polling for the link, bounded by the deadline
        }
        return false;
    }

    @BeforeAll
    static void printSeed() {
        System.out.println("FaultHarnessTest seed " + SEED + " (repeat with -Dfaults.seed=" + SEED + ")");
    }
}
