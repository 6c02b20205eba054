package eventbank.server.readmodel;

import static eventbank.server.readmodel.ReadModelBank.PASSWORD_HASH;
import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.core.VerificationCodes;
import eventbank.engine.write.Outcome;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.FileStorage;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random histories through a real engine, many commands in flight (so batches hold many
 * events), with clock leaps that expire idempotency keys. Afterwards every read model is
 * checked against an auditor built here from the events the engine answered with, and the
 * balances against the write model: a {@link Bank} evolved from those events, the engine's own
 * {@code Outcome.Committed.balance}, and a Bank replayed from the journal on disk. Then a
 * restart must rebuild the same views.
 *
 * <p>The seed is printed; {@code -Dreadmodel.seed=N} replays one.
 */
class ReadModelsRandomTest {
    private static final int HISTORIES = 5;
    private static final int COMMANDS_PER_HISTORY = 3_000;
    private static final int IN_FLIGHT_MAX = 80;
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final long LEAP_MICROS = 6L * 60 * 60 * 1_000_000;
    private static final int COMMANDS_PER_LEAP = 300;
    private static final VerificationCodes CODES = new HmacVerificationCodes(ReadModelBank.SERVER_KEY);

    @TempDir
    Path data;

    @Test
    void randomHistoriesAgreeWithTheWriteModel() throws Exception {
        Long fixed = Long.getLong("readmodel.seed");
        long seed = fixed != null ? fixed : new SecureRandom().nextLong();
        System.out.println("ReadModelsRandomTest seed " + seed + " (replay with -Dreadmodel.seed=" + seed + ")");
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int history = 0; history < HISTORIES; history++) {
            long historySeed = seeds.nextLong();
            try {
                new History(data.resolve("history-" + history), historySeed).run();
            } catch (Throwable t) {
                throw new AssertionError("history " + history + " of seed " + seed + " failed", t);
            }
        }
    }

    /** One random history on its own data directory. */
    private static final class History {
        private final Path directory;
        private final SplittableRandom random;
        private final AtomicLong clock = ReadModelBank.newClock();
        /** The write model, evolved from the events the engine answered with, in seq order. */
        private final Bank reference = new Bank();
        private final Map<Long, Recorded> eventsBySeq = new HashMap<>();
        private final List<Long> accounts = new ArrayList<>();
        private final Map<Long, String> emails = new HashMap<>();
        private final List<Command> keyed = new ArrayList<>();
        /** The balance the engine answered for each committed transfer and withdrawal, by seq. */
        private final Map<Long, Long> committedBalances = new HashMap<>();
        private int made;
        private int replays;
        private int leaps;

        History(Path directory, long seed) {
            this.directory = directory;
            this.random = new SplittableRandom(seed);
        }

        void run() throws Exception {
            ReadModelsRestartTest.Views before;
            try (ReadModelBank bank = ReadModelBank.start(directory, clock)) {
                while (made < COMMANDS_PER_HISTORY) {
                    round(bank);
                }
                bank.awaitReadModels();
                checkAll(bank);
                before = ReadModelsRestartTest.Views.of(bank);
            }
            assertThat(replayJournal().stateDigest()).as("the journal holds the history")
                    .isEqualTo(reference.stateDigest());
            try (ReadModelBank bank = ReadModelBank.start(directory, clock)) {
                bank.awaitReadModels();
                assertThat(ReadModelsRestartTest.Views.of(bank)).as("rebuilt after a restart").isEqualTo(before);
                assertThat(bank.reports.restoredSeq()).as("the reports start from their checkpoint").isPositive();
                checkAll(bank);
            }
            assertThat(replays).as("some retries were replayed").isPositive();
            System.out.printf("  history: %d events, %d accounts, %d replays checked, %d clock leaps%n",
                    reference.lastSeq(), accounts.size(), replays, leaps);
        }

        /** A group of commands in flight at once, drawn from the state before the group. */
        private void round(ReadModelBank bank) throws Exception {
            int size = 1 + random.nextInt(IN_FLIGHT_MAX);
            List<Command> commands = new ArrayList<>();
            List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Command command = next();
                commands.add(command);
                outcomes.add(bank.engine.submit(command));
            }
            List<Recorded> recorded = new ArrayList<>();
            List<Outcome.Replayed> replayed = new ArrayList<>();
            List<Command> replayedCommands = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Outcome outcome = outcomes.get(i).join();
                assertThat(outcome).isNotInstanceOf(Outcome.Unavailable.class);
                if (outcome instanceof Outcome.Committed committed) {
                    recorded.addAll(committed.events());
                    if (commands.get(i) instanceof Command.TransferMoney
                            || commands.get(i) instanceof Command.Withdraw
                            || commands.get(i) instanceof Command.CloseAccount) {
                        committedBalances.put(committed.seq(), committed.balance());
                    }
                } else if (outcome instanceof Outcome.Replayed r) {
                    replayed.add(r);
                    replayedCommands.add(commands.get(i));
                }
                remember(commands.get(i), outcome);
            }
            recorded.sort(java.util.Comparator.comparingLong(Recorded::seq));
            for (Recorded event : recorded) {
                reference.evolve(event);
                eventsBySeq.put(event.seq(), event);
            }
            // Seconds apart, and six hours every few hundred commands, so that keys (kept a day)
            // expire several times over within a history.
            clock.addAndGet(1 + random.nextLong(20_000_000));
            if (made / COMMANDS_PER_LEAP > leaps) {
                leaps++;
                clock.addAndGet(LEAP_MICROS);
            }
            checkReplays(bank, replayed, replayedCommands);
        }

        /** The engine answered these retries with an earlier seq: the model has that first outcome. */
        private void checkReplays(ReadModelBank bank, List<Outcome.Replayed> replayed, List<Command> commands)
                throws InterruptedException {
            for (int i = 0; i < replayed.size(); i++) {
                long seq = replayed.get(i).seq();
                assertThat(bank.operations.awaitSeq(seq, ReadModelBank.CATCH_UP)).isTrue();
                String key = keyOf(commands.get(i)).key();
                Operation operation = bank.operations.replayed(scopeOf(commands.get(i)), key, seq)
                        .orElseThrow(() -> new AssertionError("no operation for replayed seq " + seq));
                assertThat(operation).isEqualTo(expectedOperation(eventsBySeq.get(seq), key));
                replays++;
            }
        }

        private void remember(Command command, Outcome outcome) {
            if (outcome instanceof Outcome.Committed committed) {
                for (Recorded recorded : committed.events()) {
                    if (recorded.event() instanceof Event.AccountOpened opened) {
                        accounts.add(opened.accountNumber());
                        emails.put(opened.accountNumber(), opened.email());
                    }
                }
            }
            if (keyOf(command) != null && keyed.size() < 200) {
                keyed.add(command);
            } else if (keyOf(command) != null) {
                keyed.set(random.nextInt(keyed.size()), command);
            }
        }

        // ---- Drawing commands ----

        private Command next() {
            made++;
            int roll = random.nextInt(100);
            if (roll < 10 || accounts.size() < 2) {
                return open();
            }
            if (roll < 20) {
                return verify();
            }
            if (roll < 27 && !keyed.isEmpty()) {
                return retry(keyed.get(random.nextInt(keyed.size())));
            }
            long from = pick();
            if (roll < 30) {
                // Rarely: a closed account refuses everything after (its transfers answer account_closed).
                return new Command.CloseAccount(from);
            }
            if (roll < 75) {
                long to = random.nextInt(100) < 3 ? from : pick();
                return new Command.TransferMoney(from, to, amount(from), key());
            }
            return new Command.Withdraw(from, amount(from), key());
        }

        private Command open() {
            String email = random.nextInt(100) < 10 && !accounts.isEmpty()
                    ? emails.get(pick()).toUpperCase(Locale.ROOT) // taken, in another case
                    : (random.nextBoolean() ? "User" : "user") + made + "@Example.com";
            long balance = random.nextInt(100) < 80 ? Limits.OPENING_BALANCE_DEFAULT : random.nextLong(0, 500_000);
            return new Command.OpenAccount(0, email, PASSWORD_HASH, balance, key());
        }

        private Command verify() {
            List<Long> unverified = accounts.stream().filter(account -> !reference.isVerified(account)).toList();
            long account = unverified.isEmpty() ? pick() : unverified.get(random.nextInt(unverified.size()));
            String code = random.nextInt(100) < 90
                    ? CODES.codeFor(account, reference.openedSeqOf(account)) : "wrong";
            return new Command.VerifyAccount(account, code);
        }

        /** The same command again (Replayed, or new after the key expired), or the key with another body. */
        private Command retry(Command earlier) {
            if (random.nextInt(100) < 80) {
                return earlier;
            }
            return switch (earlier) {
                case Command.OpenAccount c -> new Command.OpenAccount(0, "other" + made + "@example.com",
                        c.passwordHash(), c.openingBalance(), new Idempotency(c.idempotency().key(), "other"));
                case Command.TransferMoney c -> new Command.TransferMoney(c.fromAccountNumber(), c.toAccountNumber(),
                        c.amount() + 1, new Idempotency(c.idempotency().key(), "other"));
                case Command.Withdraw c -> new Command.Withdraw(c.accountNumber(), c.amount() + 1,
                        new Idempotency(c.idempotency().key(), "other"));
                case Command.TransferMoneyAtomically c -> new Command.TransferMoneyAtomically(c.fromAccountNumber(),
                        c.transfers().subList(0, 1), new Idempotency(c.idempotency().key(), "other"));
                case Command.TransferMoneyOneByOne c -> c;
                case Command.VerifyAccount c -> c;
                case Command.CloseAccount c -> c;
                case Command.ForgetAccount c -> c;
            };
        }

        private long amount(long account) {
            long balance = reference.balanceOf(account);
            int roll = random.nextInt(100);
            if (roll < 8) {
                return balance + 1 + random.nextInt(100); // too much
            }
            if (roll < 15 && balance > 0) {
                return balance; // down to zero
            }
            return 1 + random.nextLong(Math.max(1, balance / 3));
        }

        private long pick() {
            return accounts.get(random.nextInt(accounts.size()));
        }

        private Idempotency key() {
            return random.nextInt(100) < 35 ? new Idempotency("k-" + made, "f-" + made) : null;
        }

        // ---- Checking ----

        private void checkAll(ReadModelBank bank) {
            long last = bank.engine.committedSeq();
            assertThat(reference.lastSeq()).isEqualTo(last);
            assertThat(eventsBySeq).hasSize((int) last);
            Map<Long, List<StatementEntry>> statements = new LinkedHashMap<>();
            Map<Long, Long> balances = new HashMap<>();
            Map<Long, Long> subjectBalanceAt = new HashMap<>();
            Map<List<Object>, Operation> operations = new LinkedHashMap<>();
            Map<Long, Long> verifiedSeqs = new HashMap<>();
            for (long seq = 1; seq <= last; seq++) {
                Recorded recorded = eventsBySeq.get(seq);
                switch (recorded.event()) {
                    case Event.AccountOpened e -> {
                        balances.put(e.accountNumber(), e.openingBalance());
                        statements.put(e.accountNumber(), new ArrayList<>());
                    }
                    case Event.AccountVerified e -> verifiedSeqs.put(e.accountNumber(), seq);
                    case Event.MoneyTransferred e -> {
                        long from = balances.merge(e.fromAccountNumber(), -e.amount(), Long::sum);
                        long to = balances.merge(e.toAccountNumber(), e.amount(), Long::sum);
                        statements.get(e.fromAccountNumber()).add(new StatementEntry(seq, recorded.timeMicros(),
                                StatementEntry.Type.TRANSFER_OUT, e.amount(), e.toAccountNumber(), from));
                        statements.get(e.toAccountNumber()).add(new StatementEntry(seq, recorded.timeMicros(),
                                StatementEntry.Type.TRANSFER_IN, e.amount(), e.fromAccountNumber(), to));
                        subjectBalanceAt.put(seq, from);
                    }
                    case Event.MoneyWithdrawn e -> {
                        long balance = balances.merge(e.accountNumber(), -e.amount(), Long::sum);
                        statements.get(e.accountNumber()).add(new StatementEntry(seq, recorded.timeMicros(),
                                StatementEntry.Type.WITHDRAWAL, e.amount(), null, balance));
                        subjectBalanceAt.put(seq, balance);
                    }
                    case Event.AccountClosed e -> {
                        long balance = balances.merge(e.accountNumber(), -e.forfeited(), Long::sum);
                        assertThat(balance).isZero();
                        if (e.forfeited() > 0) {
                            statements.get(e.accountNumber()).add(new StatementEntry(seq, recorded.timeMicros(),
                                    StatementEntry.Type.FORFEIT, e.forfeited(), null, 0));
                        }
                        subjectBalanceAt.put(seq, 0L);
                    }
                    case Event.AccountForgotten e -> throw new AssertionError("nothing here is forgettable: " + e);
                }
                Idempotency key = Event.idempotencyOf(recorded.event());
                if (key != null) {
                    Operation operation = expectedOperation(recorded, key.key());
                    operations.remove(List.of(operation.scope(), key.key())); // reinsert in seq order
                    operations.put(List.of(operation.scope(), key.key()), operation);
                }
            }
            // The engine's own answers agree with the statements: Outcome.Committed.balance.
            assertThat(subjectBalanceAt).isEqualTo(committedBalances);
            checkAccountsAndStatements(bank, statements);
            checkHistories(bank, statements, verifiedSeqs);
            checkReports(bank, statements);
            checkOperations(bank, operations);
        }

        /**
         * Each account's history is its opening, its verification and its statement, oldest
         * first; the deltas add up to every balance after, and the last one is the write model's.
         */
        private void checkHistories(ReadModelBank bank, Map<Long, List<StatementEntry>> statements,
                                    Map<Long, Long> verifiedSeqs) {
            for (Map.Entry<Long, List<StatementEntry>> statement : statements.entrySet()) {
                long account = statement.getKey();
                long openedSeq = reference.openedSeqOf(account);
                long opening = ((Event.AccountOpened) eventsBySeq.get(openedSeq).event()).openingBalance();
                List<HistoryItem> expected = new ArrayList<>();
                expected.add(new HistoryItem(openedSeq, eventsBySeq.get(openedSeq).timeMicros(),
                        HistoryItem.Type.OPENED, opening, opening));
                Long verifiedSeq = verifiedSeqs.get(account);
                if (verifiedSeq != null) {
                    expected.add(new HistoryItem(verifiedSeq, eventsBySeq.get(verifiedSeq).timeMicros(),
                            HistoryItem.Type.VERIFIED, 0, opening));
                }
                for (StatementEntry entry : statement.getValue()) {
                    expected.add(new HistoryItem(entry.seq(), entry.timeMicros(), HistoryItem.Type.of(entry.type()),
                            entry.type().signed(entry.amount()), entry.balanceAfter()));
                }
                List<HistoryItem> history = bank.statements.history(account);
                assertThat(history).as("history of %d", account).isEqualTo(expected);
                long running = 0;
                for (HistoryItem item : history) {
                    running += item.delta();
                    assertThat(item.balanceAfter()).isEqualTo(running);
                }
                assertThat(running).isEqualTo(reference.balanceOf(account));
            }
        }

        /** The reports against sums and last activities computed here from the events. */
        private void checkReports(ReadModelBank bank, Map<Long, List<StatementEntry>> statements) {
            java.util.TreeMap<java.time.LocalDate, Long> centsByDay = new java.util.TreeMap<>();
            long total = 0;
            for (Recorded recorded : eventsBySeq.values()) {
                long amount = switch (recorded.event()) {
                    case Event.MoneyTransferred e -> e.amount();
                    case Event.MoneyWithdrawn e -> e.amount();
                    case Event.AccountClosed e -> e.forfeited();
                    default -> 0;
                };
                if (amount > 0) {
                    centsByDay.merge(dayOf(recorded.timeMicros()), amount, Long::sum);
                    total += amount;
                }
            }
            assertThat(bank.reports.sumAllTime()).isEqualTo(total);
            for (Map.Entry<java.time.LocalDate, Long> day : centsByDay.entrySet()) {
                assertThat(bank.reports.sum(day.getKey(), day.getKey().plusDays(1))).as("sum of %s", day.getKey())
                        .isEqualTo(day.getValue());
            }
            if (!centsByDay.isEmpty()) {
                assertThat(bank.reports.sum(centsByDay.firstKey(), centsByDay.lastKey().plusDays(1))).isEqualTo(total);
            }
            for (int probe = 0; probe < 20; probe++) {
                long cutoff = ReadModelBank.START_MICROS + random.nextLong(clock.get() - ReadModelBank.START_MICROS + 2);
                long expected = statements.values().stream()
                        .filter(entries -> entries.isEmpty() || entries.getLast().timeMicros() < cutoff).count();
                assertThat(bank.reports.inactiveCount(cutoff)).as("inactive before %d", cutoff).isEqualTo(expected);
            }
        }

        private static java.time.LocalDate dayOf(long timeMicros) {
            return java.time.LocalDate.ofEpochDay(Math.floorDiv(timeMicros, 86_400_000_000L));
        }

        private void checkAccountsAndStatements(ReadModelBank bank, Map<Long, List<StatementEntry>> statements) {
            long last = reference.lastSeq();
            assertThat(bank.accounts.totals()).isEqualTo(new AccountsReadModel.Totals(last, reference.accountCount(),
                    reference.balanceTotal(), reference.openedTotal(), reference.withdrawnTotal(),
                    reference.forfeitedTotal()));
            assertThat(reference.checkInvariant()).isNull();
            for (Map.Entry<Long, List<StatementEntry>> statement : statements.entrySet()) {
                long account = statement.getKey();
                List<StatementEntry> expected = statement.getValue();
                assertThat(bank.wholeStatement(account, 1 + random.nextInt(100))).as("statement of %d", account)
                        .isEqualTo(expected.reversed());
                long openedSeq = reference.openedSeqOf(account);
                long openingBalance = ((Event.AccountOpened) eventsBySeq.get(openedSeq).event()).openingBalance();
                long sum = openingBalance
                        + expected.stream().mapToLong(entry -> entry.type().signed(entry.amount())).sum();
                long finalBalance = expected.isEmpty() ? openingBalance : expected.getLast().balanceAfter();
                assertThat(sum).isEqualTo(finalBalance).isEqualTo(reference.balanceOf(account));

                AccountView view = new AccountView(account, emails.get(account), PASSWORD_HASH,
                        reference.isVerified(account), reference.isClosed(account), reference.balanceOf(account),
                        openedSeq,
                        eventsBySeq.get(openedSeq).timeMicros(),
                        expected.isEmpty() ? AccountView.NO_ACTIVITY : expected.getLast().timeMicros());
                assertThat(bank.accounts.account(account)).contains(view);
                assertThat(bank.accounts.accountByEmail(emails.get(account).toUpperCase(Locale.ROOT))).contains(view);
            }
        }

        /** Live keys are found at the last event's time; the rest are kept for the margin, then forgotten. */
        private void checkOperations(ReadModelBank bank, Map<List<Object>, Operation> operations) {
            long now = reference.lastTimeMicros();
            List<Operation> kept = new ArrayList<>();
            int live = 0;
            for (Operation operation : operations.values()) {
                boolean isLive = operation.timeMicros() >= now - WINDOW;
                assertThat(bank.operations.find(operation.scope(), operation.idempotencyKey(), now))
                        .isEqualTo(isLive ? java.util.Optional.of(operation) : java.util.Optional.empty());
                live += isLive ? 1 : 0;
                if (operation.timeMicros() >= now - WINDOW - OperationsReadModel.RETAINED_BEYOND_WINDOW_MICROS) {
                    kept.add(operation);
                }
            }
            assertThat(bank.operations.operations()).isEqualTo(kept);
            assertThat(live).as("some keys are live").isPositive();
            assertThat(operations.size()).as("some keys have expired").isGreaterThan(kept.size());
        }

        /** What the model should hold for a keyed event: the balance is the one the engine answered. */
        private Operation expectedOperation(Recorded recorded, String key) {
            long seq = recorded.seq();
            long time = recorded.timeMicros();
            return switch (recorded.event()) {
                case Event.AccountOpened e -> new Operation.AccountOpening(seq, time, key, e.accountNumber(),
                        e.openingBalance());
                case Event.MoneyTransferred e -> new Operation.Transfer(seq, time, key, e.fromAccountNumber(),
                        e.toAccountNumber(), e.amount(), committedBalances.get(seq));
                case Event.MoneyWithdrawn e -> new Operation.Withdrawal(seq, time, key, e.accountNumber(), e.amount(),
                        committedBalances.get(seq));
                case Event.AccountVerified e -> throw new AssertionError("a verification has no key");
                case Event.AccountClosed e -> throw new AssertionError("a closing has no key");
                case Event.AccountForgotten e -> throw new AssertionError("a forgetting has no key");
            };
        }

        private Bank replayJournal() throws Exception {
            Bank bank = new Bank();
            try (JournalReader reader = new JournalReader(new FileStorage(), directory.resolve("journal"), true)) {
                reader.seek(0);
                for (JournalReader.Batch batch = reader.next(Long.MAX_VALUE); batch != null;
                     batch = reader.next(Long.MAX_VALUE)) {
                    batch.forEach(bank::evolve);
                }
                assertThat(reader.tornTail()).isNull();
            }
            return bank;
        }
    }

    private static Idempotency keyOf(Command command) {
        return switch (command) {
            case Command.OpenAccount c -> c.idempotency();
            case Command.VerifyAccount c -> null;
            case Command.TransferMoney c -> c.idempotency();
            case Command.TransferMoneyAtomically c -> c.idempotency();
            case Command.TransferMoneyOneByOne c -> null;
            case Command.Withdraw c -> c.idempotency();
            case Command.CloseAccount c -> null;
            case Command.ForgetAccount c -> null;
        };
    }

    private static long scopeOf(Command command) {
        return switch (command) {
            case Command.OpenAccount c -> OperationsReadModel.SCOPE_ACCOUNT_OPENING;
            case Command.VerifyAccount c -> c.accountNumber();
            case Command.TransferMoney c -> c.fromAccountNumber();
            case Command.TransferMoneyAtomically c -> c.fromAccountNumber();
            case Command.TransferMoneyOneByOne c -> c.fromAccountNumber();
            case Command.Withdraw c -> c.accountNumber();
            case Command.CloseAccount c -> c.accountNumber();
            case Command.ForgetAccount c -> c.accountNumber();
        };
    }
}
