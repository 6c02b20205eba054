package eventbank.server.readmodel;

import static eventbank.server.readmodel.ReadModelBank.SECOND_MICROS;
import static eventbank.server.readmodel.ReadModelBank.START_MICROS;
import static eventbank.server.readmodel.StatementEntry.Type.TRANSFER_IN;
import static eventbank.server.readmodel.StatementEntry.Type.TRANSFER_OUT;
import static eventbank.server.readmodel.StatementEntry.Type.WITHDRAWAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatementsReadModelTest {
    @TempDir
    Path data;

    /** Open two, verify them, transfer, withdraw: seqs 1 to 6, one second apart. */
    @Test
    void theStoryGivesTheStatements() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.open("alice@example.com", null);
            long bob = bank.open("bob@example.com", null);
            bank.verify(alice);
            bank.verify(bob);
            bank.awaitReadModels();
            assertThat(bank.statements.page(alice, 20, null)).isEqualTo(new StatementPage(List.of(), null));

            bank.transfer(alice, bob, 100_00, null);
            bank.withdraw(bob, 50_00, null);
            bank.awaitReadModels();

            long transferTime = START_MICROS + 4 * SECOND_MICROS;
            long withdrawalTime = START_MICROS + 5 * SECOND_MICROS;
            assertThat(bank.statements.page(alice, 20, null)).isEqualTo(new StatementPage(List.of(
                    new StatementEntry(5, transferTime, TRANSFER_OUT, 100_00, bob, 900_00)), null));
            assertThat(bank.statements.page(bob, 20, null)).isEqualTo(new StatementPage(List.of(
                    new StatementEntry(6, withdrawalTime, WITHDRAWAL, 50_00, null, 1_050_00),
                    new StatementEntry(5, transferTime, TRANSFER_IN, 100_00, alice, 1_100_00)), null));
            assertThat(bank.statements.page(bob, 1, null)).isEqualTo(new StatementPage(List.of(
                    new StatementEntry(6, withdrawalTime, WITHDRAWAL, 50_00, null, 1_050_00)), 6L));
            assertThat(bank.statements.page(bob, 1, 6L)).isEqualTo(new StatementPage(List.of(
                    new StatementEntry(5, transferTime, TRANSFER_IN, 100_00, alice, 1_100_00)), null));
            assertThat(bank.statements.entryCount(bob)).isEqualTo(2);
            assertThat(StatementEntry.Type.TRANSFER_IN.code()).isEqualTo("transfer_in");
            assertThat(StatementEntry.Type.TRANSFER_OUT.code()).isEqualTo("transfer_out");
            assertThat(StatementEntry.Type.WITHDRAWAL.code()).isEqualTo("withdrawal");
        }
    }

    /**
     * Hundreds of entries (the arrays grow many times) read back in pages of every size, from
     * the newest, from any before_seq (an entry's seq or one in between), to the oldest.
     */
    @Test
    void pagesWalkTheStatementNewestFirst() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.openVerified("alice@example.com");
            long bob = bank.openVerified("bob@example.com");
            long carol = bank.openVerified("carol@example.com");
            List<StatementEntry> expected = new ArrayList<>(); // alice's, oldest first
            long balance = Limits.OPENING_BALANCE_DEFAULT;
            // 600 entries: three chunks of the statement's storage (256 entries each).
            for (int i = 0; i < 600; i++) {
                Outcome.Committed outcome;
                StatementEntry.Type type;
                long amount = 1 + i % 17;
                Long counterparty;
                switch (i % 3) {
                    case 0 -> {
                        outcome = bank.transfer(alice, bob, amount, null);
                        type = TRANSFER_OUT;
                        counterparty = bob;
                    }
                    case 1 -> {
                        outcome = bank.transfer(carol, alice, amount, null);
                        type = TRANSFER_IN;
                        counterparty = carol;
                    }
                    default -> {
                        outcome = bank.withdraw(alice, amount, null);
                        type = WITHDRAWAL;
                        counterparty = null;
                    }
                }
                balance += type.signed(amount);
                if (i % 5 == 0) {
                    bank.transfer(bob, carol, 1, null); // an event alice's statement skips
                }
                expected.add(new StatementEntry(outcome.seq(), outcome.events().get(0).timeMicros(), type, amount,
                        counterparty, balance));
            }
            bank.awaitReadModels();
            List<StatementEntry> newestFirst = expected.reversed();

            assertThat(bank.statements.entryCount(alice)).isEqualTo(600);
            for (int limit : new int[] {1, 7, 20, 99, 100}) {
                assertThat(bank.wholeStatement(alice, limit)).as("limit %d", limit).isEqualTo(newestFirst);
            }
            StatementPage first = bank.statements.page(alice, 7, null);
            assertThat(first.entries()).isEqualTo(newestFirst.subList(0, 7));
            assertThat(first.nextBeforeSeq()).isEqualTo(newestFirst.get(6).seq());

            // Any before_seq: every entry's seq, and the seqs between entries.
            long lastSeq = bank.engine.committedSeq();
            for (long before = 1; before <= lastSeq + 2; before++) {
                long bound = before;
                List<StatementEntry> older = newestFirst.stream().filter(entry -> entry.seq() < bound).toList();
                StatementPage page = bank.statements.page(alice, 10, before);
                assertThat(page.entries()).as("before %d", before)
                        .isEqualTo(older.subList(0, Math.min(10, older.size())));
                assertThat(page.nextBeforeSeq()).as("before %d", before)
                        .isEqualTo(older.size() > 10 ? older.get(9).seq() : null);
            }
            // A page that ends exactly at the oldest entry says there is no more.
            StatementPage last = bank.statements.page(alice, 100, newestFirst.get(499).seq());
            assertThat(last.entries()).isEqualTo(newestFirst.subList(500, 600));
            assertThat(last.nextBeforeSeq()).isNull();

            // The amounts add up to the balance, entry by entry.
            long running = Limits.OPENING_BALANCE_DEFAULT;
            for (StatementEntry entry : expected) {
                running += entry.type().signed(entry.amount());
                assertThat(entry.balanceAfter()).isEqualTo(running);
            }
            assertThat(running).isEqualTo(bank.accounts.account(alice).orElseThrow().balance());
        }
    }

    @Test
    void pageLimitsAndBeforeSeqAreChecked() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.openVerified("alice@example.com");
            bank.withdraw(alice, 1, null);
            bank.awaitReadModels();
            StatementsReadModel statements = bank.statements;
            for (int limit : new int[] {0, -1, 101, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                assertThatThrownBy(() -> statements.page(alice, limit, null)).as("limit %d", limit)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
            }
            for (long before : new long[] {0, -1, Long.MIN_VALUE}) {
                assertThatThrownBy(() -> statements.page(alice, 20, before)).as("before_seq %d", before)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("before_seq");
            }
            assertThat(statements.page(alice, StatementsReadModel.PAGE_LIMIT_MIN, null).entries()).hasSize(1);
            assertThat(statements.page(alice, StatementsReadModel.PAGE_LIMIT_MAX, null).entries()).hasSize(1);
            assertThat(statements.page(alice, 20, 1L)).isEqualTo(new StatementPage(List.of(), null));
            assertThat(statements.page(alice, 20, Long.MAX_VALUE).entries()).hasSize(1);
            // Unknown (or not yet applied) accounts have an empty statement.
            assertThat(statements.page(Limits.ACCOUNT_NUMBER_MAX, 20, null))
                    .isEqualTo(new StatementPage(List.of(), null));
            assertThat(statements.entryCount(Limits.ACCOUNT_NUMBER_MAX)).isZero();
        }
    }

    /**
     * An account with thousands of entries, among another account's, fed straight to a model in
     * batches of random sizes: a page from any before_seq is the reference list's, and finding
     * where it falls takes O(log n) record reads (Myers' jump pointers), not a walk back one by one.
     */
    @Test
    void deepPagesFindTheirPlaceInLogarithmicReads() {
        deepPages(5_000, 2_000);
    }

    /**
     * As above with 40,000 entries: the spine of 32,753 entries has 15 records, more than a row
     * of {@link StatementRows} holds, so the deepest part of the spine is in the account's array.
     */
    @Test
    void deepPagesOfAnAccountWhoseSpineOutgrowsItsRow() {
        deepPages(40_000, 300);
    }

    private static void deepPages(int entries, int randomBefores) {
        StatementsReadModel statements = new StatementsReadModel();
        assertThat(statements.start()).isZero();
        long alice = Limits.ACCOUNT_NUMBER_MIN;
        long bob = alice + 1;
        long carol = alice + 2;
        SplittableRandom random = new SplittableRandom(7);
        List<StatementEntry> expected = new ArrayList<>(); // alice's, oldest first
        long[] balances = {1_000_000_000, 1_000_000_000, 1_000_000_000};
        List<Event> events = new ArrayList<>();
        for (long account : new long[] {alice, bob, carol}) {
            events.add(new Event.AccountOpened(account, account + "@example.com", "h", balances[0], null));
            events.add(new Event.AccountVerified(account));
        }
        long seq = events.size();
        while (expected.size() < entries) {
            seq++;
            long amount = 1 + random.nextInt(1_000);
            long time = START_MICROS + seq * SECOND_MICROS;
            switch (random.nextInt(4)) {
                case 0 -> {
                    events.add(new Event.MoneyTransferred(alice, bob, amount, null));
                    balances[0] -= amount;
                    expected.add(new StatementEntry(seq, time, TRANSFER_OUT, amount, bob, balances[0]));
                }
                case 1 -> {
                    events.add(new Event.MoneyTransferred(carol, alice, amount, null));
                    balances[0] += amount;
                    expected.add(new StatementEntry(seq, time, TRANSFER_IN, amount, carol, balances[0]));
                }
                case 2 -> {
                    events.add(new Event.MoneyWithdrawn(alice, amount, null));
                    balances[0] -= amount;
                    expected.add(new StatementEntry(seq, time, WITHDRAWAL, amount, null, balances[0]));
                }
                default -> events.add(new Event.MoneyTransferred(bob, carol, amount, null)); // not alice's
            }
        }
        feedInBatches(statements, events, random);
        List<StatementEntry> newestFirst = expected.reversed();
        long lastSeq = events.size();
        assertThat(statements.entryCount(alice)).isEqualTo(expected.size());
        assertThat(statements.appliedSeq()).isEqualTo(lastSeq);

        int readsToFindMax = 0;
        List<Long> befores = new ArrayList<>(List.of(1L, 2L, 7L, 8L, lastSeq, lastSeq + 1, Long.MAX_VALUE));
        for (int i = 0; i < randomBefores; i++) {
            befores.add(1 + random.nextLong(lastSeq + 1));
        }
        for (long before : befores) {
            int limit = 1 + random.nextInt(StatementsReadModel.PAGE_LIMIT_MAX);
            List<StatementEntry> older = newestFirst.stream().filter(entry -> entry.seq() < before).toList();
            long readsBefore = statements.recordsRead();
            StatementPage page = statements.page(alice, limit, before);
            long reads = statements.recordsRead() - readsBefore;
            assertThat(page.entries()).as("before %d, limit %d", before, limit)
                    .isEqualTo(older.subList(0, Math.min(limit, older.size())));
            assertThat(page.nextBeforeSeq()).as("before %d, limit %d", before, limit)
                    .isEqualTo(older.size() > limit ? older.get(limit - 1).seq() : null);
            readsToFindMax = Math.max(readsToFindMax, (int) reads - page.entries().size());
        }
        // log2(5,000) is about 12; walking back would read up to 5,000 records.
        int log2 = 64 - Long.numberOfLeadingZeros(entries);
        assertThat(readsToFindMax).as("reads to find where before_seq falls").isBetween(1, 4 * log2);
        List<StatementEntry> whole = new ArrayList<>();
        for (Long before = null; whole.isEmpty() || before != null; ) {
            StatementPage page = statements.page(alice, 100, before);
            whole.addAll(page.entries());
            before = page.nextBeforeSeq();
        }
        assertThat(whole).isEqualTo(newestFirst);
        List<HistoryItem> history = statements.history(alice);
        assertThat(history).hasSize(expected.size() + 2);
        assertThat(history.getLast().balanceAfter()).isEqualTo(balances[0]);

        // An entry is seen at its batch's end, with the applied seq, not before.
        statements.onEvent(new Recorded(lastSeq + 1, START_MICROS, new Event.MoneyWithdrawn(alice, 1, null)));
        assertThat(statements.appliedSeq()).isEqualTo(lastSeq);
        assertThat(statements.entryCount(alice)).isEqualTo(expected.size());
        assertThat(statements.page(alice, 1, null).entries().getFirst().seq()).isEqualTo(newestFirst.getFirst().seq());
        try {
            statements.onBatchEnd(lastSeq + 1, new byte[32]);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(statements.appliedSeq()).isEqualTo(lastSeq + 1);
        assertThat(statements.entryCount(alice)).isEqualTo(expected.size() + 1);
        assertThat(statements.page(alice, 1, null).entries().getFirst().seq()).isEqualTo(lastSeq + 1);
    }

    /** Applies the events in commit batches of 1 to 300, each ended as a subscription ends it. */
    private static void feedInBatches(ReadModel model, List<Event> events, SplittableRandom random) {
        int seq = 0;
        while (seq < events.size()) {
            int end = Math.min(events.size(), seq + 1 + random.nextInt(300));
            for (; seq < end; seq++) {
                model.onEvent(new Recorded(seq + 1, START_MICROS + (seq + 1) * SECOND_MICROS, events.get(seq)));
            }
            try {
                model.onBatchEnd(end, new byte[32]);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }
}
