package eventbank.server.readmodel;

import static eventbank.server.readmodel.ReadModelBank.PASSWORD_HASH;
import static eventbank.server.readmodel.ReadModelBank.SECOND_MICROS;
import static eventbank.server.readmodel.ReadModelBank.START_MICROS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.write.Outcome;
import eventbank.engine.subscription.Subscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccountsReadModelTest {
    @TempDir
    Path data;

    /** Open two, verify them, transfer, withdraw: seqs 1 to 6, one second apart. */
    @Test
    void theStoryGivesTheAccountViews() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.open("Alice@Example.com", null);
            long bob = bank.open("bob@example.com", null);
            bank.awaitReadModels();
            assertThat(bank.accounts.account(alice)).contains(new AccountView(alice, "Alice@Example.com",
                    PASSWORD_HASH, false, false, 100_000, 1, START_MICROS, AccountView.NO_ACTIVITY));
            assertThat(bank.accounts.account(alice).orElseThrow().everActive()).isFalse();

            bank.verify(alice);
            bank.verify(bob);
            bank.transfer(alice, bob, 100_00, null);
            bank.withdraw(bob, 50_00, null);
            bank.awaitReadModels();

            long transferTime = START_MICROS + 4 * SECOND_MICROS;
            long withdrawalTime = START_MICROS + 5 * SECOND_MICROS;
            AccountView aliceView = new AccountView(alice, "Alice@Example.com", PASSWORD_HASH, true, false, 900_00, 1,
                    START_MICROS, transferTime);
            AccountView bobView = new AccountView(bob, "bob@example.com", PASSWORD_HASH, true, false, 1_050_00, 2,
                    START_MICROS + SECOND_MICROS, withdrawalTime);
            assertThat(bank.accounts.appliedSeq()).isEqualTo(6);
            assertThat(bank.accounts.account(alice)).contains(aliceView);
            assertThat(bank.accounts.account(bob)).contains(bobView);
            assertThat(bank.accounts.accountByEmail("ALICE@example.COM")).contains(aliceView);
            assertThat(bank.accounts.accountByEmail("Bob@Example.Com")).contains(bobView);
            assertThat(bank.accounts.accountByEmail("carol@example.com")).isEmpty();
            assertThat(bank.accounts.account(Limits.ACCOUNT_NUMBER_MAX)).isEmpty();
            assertThat(bank.accounts.accountCount()).isEqualTo(2);
            assertThat(bank.accounts.totals())
                    .isEqualTo(new AccountsReadModel.Totals(6, 2, 195_000, 200_000, 5_000, 0));
            assertThat(bank.accounts.snapshot())
                    .isEqualTo(new AccountsReadModel.Snapshot(6, List.of(aliceView, bobView)));
        }
    }

    @Test
    void lastActivityCountsTransfersBothWaysAndWithdrawalsForTheInactiveReport() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.openVerified("alice@example.com");
            long bob = bank.openVerified("bob@example.com");
            long carol = bank.openVerified("carol@example.com"); // never moves money
            Outcome.Committed transfer = bank.transfer(alice, bob, 1, null);
            Outcome.Committed withdrawal = bank.withdraw(alice, 1, null);
            bank.awaitReadModels();

            long transferTime = transfer.events().get(0).timeMicros();
            long withdrawalTime = withdrawal.events().get(0).timeMicros();
            assertThat(bank.accounts.account(alice).orElseThrow().lastActivityMicros()).isEqualTo(withdrawalTime);
            assertThat(bank.accounts.account(bob).orElseThrow().lastActivityMicros()).isEqualTo(transferTime);
            assertThat(bank.accounts.account(carol).orElseThrow().everActive()).isFalse();
            // Active "since" a time means active at that time or later (the reports model counts).
            assertThat(bank.reports.inactiveCount(transferTime)).isEqualTo(1);
            assertThat(bank.reports.inactiveCount(transferTime + 1)).isEqualTo(2);
            assertThat(bank.reports.inactiveCount(withdrawalTime + 1)).isEqualTo(3);
            assertThat(bank.reports.inactiveCount(Long.MIN_VALUE + 1)).as("carol, never active").isEqualTo(1);
            assertThat(bank.reports.inactiveCount(Long.MIN_VALUE)).isZero();
        }
    }

    @Test
    void awaitSeqAnswersTrueOnceAppliedAndFalseAfterTheTimeout() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            for (ReadModel model : List.<ReadModel>of(bank.accounts, bank.statements, bank.operations)) {
                assertThat(model.awaitSeq(0, Duration.ZERO)).isTrue();
            }
            long seq = bank.committed(new Command.OpenAccount(0, "alice@example.com", PASSWORD_HASH,
                    Limits.OPENING_BALANCE_DEFAULT, null)).seq();
            for (ReadModel model : List.<ReadModel>of(bank.accounts, bank.statements, bank.operations)) {
                assertThat(model.awaitSeq(seq, ReadModelBank.CATCH_UP)).as(model.name()).isTrue();
                assertThat(model.appliedSeq()).isEqualTo(seq);

                long started = System.nanoTime();
                assertThat(model.awaitSeq(seq + 1_000, Duration.ofMillis(200))).as(model.name()).isFalse();
                assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
                assertThat(model.awaitSeq(seq + 1, Duration.ofMillis(-5))).isFalse();
            }
        }
    }

    /** A reader that waits for a seq not yet committed is woken by the commit, well before its timeout. */
    @Test
    void awaitSeqWakesUpWhenTheSeqIsApplied() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.openVerified("alice@example.com");
            long bob = bank.openVerified("bob@example.com");
            bank.awaitReadModels();
            long next = bank.engine.committedSeq() + 1;
            List<CompletableFuture<Boolean>> waiting = new ArrayList<>();
            for (ReadModel model : List.<ReadModel>of(bank.accounts, bank.statements, bank.operations)) {
                waiting.add(CompletableFuture.supplyAsync(() -> awaitQuietly(model, next, Duration.ofDays(365))));
                // FOREVER's nanoseconds overflow a long: the wait must still work.
                Duration forever = ChronoUnit.FOREVER.getDuration();
                waiting.add(CompletableFuture.supplyAsync(() -> awaitQuietly(model, next, forever)));
            }
            long started = System.nanoTime();
            bank.transfer(alice, bob, 1, null);
            for (CompletableFuture<Boolean> wait : waiting) {
                assertThat(wait.get(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
        }
    }

    private static boolean awaitQuietly(ReadModel model, long seq, Duration timeout) {
        try {
            return model.awaitSeq(seq, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * While transfers and withdrawals commit in large batches, a reader sums the balances over
     * and over: every sum it reads is taken between two events, at the seq it reports, so it is
     * exactly the opening balances minus the withdrawals up to that seq, never a transfer half
     * applied. The expected totals come from the engine's outcomes, not from the model.
     */
    @Test
    void readersNeverSeeMoneyCreatedOrLostMidTransfer() throws Exception {
        int accountCount = 50;
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            List<Long> accounts = new ArrayList<>();
            for (int i = 0; i < accountCount; i++) {
                accounts.add(bank.openVerified("user" + i + "@example.com"));
            }
            Set<Long> batchEnds = ConcurrentHashMap.newKeySet();
            bank.engine.subscribe(new BatchEnds(batchEnds));
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            List<AccountsReadModel.Totals> seen = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try {
                    while (writing.get()) {
                        AccountsReadModel.Totals totals = bank.accounts.totals();
                        assertThat(totals.balanced()).as("%s", totals).isTrue();
                        if (seen.isEmpty() || seen.get(seen.size() - 1).appliedSeq() != totals.appliedSeq()) {
                            seen.add(totals);
                        }
                    }
                } catch (Throwable t) {
                    readerFailure.set(t);
                }
            }, "test-reader");
            reader.start();

            SplittableRandom random = new SplittableRandom(42);
            List<Recorded> committed = new ArrayList<>();
            try {
                for (int round = 0; round < 40; round++) {
                    List<CompletableFuture<Outcome>> inFlight = new ArrayList<>();
                    for (int i = 0; i < 500; i++) {
                        long from = accounts.get(random.nextInt(accountCount));
                        long to = accounts.get(random.nextInt(accountCount));
                        Command command = random.nextInt(10) == 0
                                ? new Command.Withdraw(from, 1 + random.nextInt(50), null)
                                : new Command.TransferMoney(from, to, 1 + random.nextInt(5_000), null);
                        inFlight.add(bank.engine.submit(command));
                    }
                    for (CompletableFuture<Outcome> outcome : inFlight) {
                        if (outcome.join() instanceof Outcome.Committed c) {
                            committed.addAll(c.events());
                        }
                    }
                }
                bank.awaitReadModels();
            } finally {
                writing.set(false);
                reader.join();
            }
            assertThat(readerFailure.get()).isNull();

            // The total at every seq, from the events the engine answered with.
            long openingSeqs = bank.engine.committedSeq() - committed.size();
            long total = accountCount * Limits.OPENING_BALANCE_DEFAULT;
            Map<Long, Long> totalAt = new HashMap<>();
            totalAt.put(openingSeqs, total);
            committed.sort(java.util.Comparator.comparingLong(Recorded::seq));
            for (Recorded recorded : committed) {
                if (recorded.event() instanceof Event.MoneyWithdrawn w) {
                    total -= w.amount();
                }
                totalAt.put(recorded.seq(), total);
            }
            assertThat(committed.size()).as("most commands commit").isGreaterThan(10_000);
            long previousSeq = 0;
            int checked = 0;
            for (AccountsReadModel.Totals totals : seen) {
                assertThat(totals.appliedSeq()).as("seqs never go back").isGreaterThanOrEqualTo(previousSeq);
                previousSeq = totals.appliedSeq();
                if (totalAt.containsKey(totals.appliedSeq())) {
                    assertThat(totals.balanceTotal()).as("at seq %d", totals.appliedSeq())
                            .isEqualTo(totalAt.get(totals.appliedSeq()));
                    checked++;
                }
            }
            long insideBatches = seen.stream().filter(totals -> !batchEnds.contains(totals.appliedSeq())).count();
            System.out.printf("readersNeverSeeMoneyCreatedOrLostMidTransfer: %d sums at distinct seqs, %d during the"
                    + " transfers, %d inside a commit batch (of %d batches)%n", seen.size(), checked, insideBatches,
                    batchEnds.size());
            assertThat(checked).as("the reader read while transfers were applied").isGreaterThan(0);
            // How often the reader lands inside a commit batch depends on the scheduler: under load
            // it may never happen in a run, so it is printed above, not asserted (it failed CI once).
            assertThat(bank.accounts.totals().balanceTotal()).isEqualTo(total);
        }
    }

    /** Records the seqs that end commit batches. */
    private record BatchEnds(Set<Long> seqs) implements Subscriber {
        @Override
        public String name() {
            return "batch-ends";
        }

        @Override
        public long start() {
            return 0;
        }

        @Override
        public void onEvent(Recorded recorded) {}

        @Override
        public void onBatchEnd(long lastSeq, byte[] chainHash) {
            seqs.add(lastSeq);
        }
    }

    @Test
    void anInstanceServesOneSubscription() {
        AccountsReadModel model = new AccountsReadModel();
        assertThat(model.start()).isZero();
        assertThatThrownBy(model::start).isInstanceOf(IllegalStateException.class);
        StatementsReadModel statements = new StatementsReadModel();
        assertThat(statements.start()).isZero();
        assertThatThrownBy(statements::start).isInstanceOf(IllegalStateException.class);
        OperationsReadModel operations = new OperationsReadModel();
        assertThat(operations.start()).isZero();
        assertThatThrownBy(operations::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void eventsOutOfOrderStopTheModel() {
        AccountsReadModel model = new AccountsReadModel();
        model.start();
        Event opened = new Event.AccountOpened(Limits.ACCOUNT_NUMBER_MIN, "a@example.com", "h", 5, null);
        assertThatThrownBy(() -> model.onEvent(new Recorded(2, START_MICROS, opened)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("expected seq 1, got 2");
    }

    @Test
    void aViewNeverPrintsThePasswordHash() {
        AccountView view = new AccountView(Limits.ACCOUNT_NUMBER_MIN, "a@example.com", PASSWORD_HASH, true, false, 1, 1, 2,
                AccountView.NO_ACTIVITY);
        assertThat(view.toString()).doesNotContain(PASSWORD_HASH).contains("a@example.com");
    }
}
