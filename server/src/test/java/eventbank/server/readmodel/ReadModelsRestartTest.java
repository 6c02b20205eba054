package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Idempotency;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart rebuilds the read models from the journal, or starts them from their checkpoints
 * (statements, reports), to the same views.
 */
class ReadModelsRestartTest {
    @TempDir
    Path data;

    /** Everything the three models answer, at one seq. */
    record Views(AccountsReadModel.Snapshot accounts, Map<Long, List<StatementEntry>> statements,
                 List<Operation> operations) {

        static Views of(ReadModelBank bank) {
            AccountsReadModel.Snapshot accounts = bank.accounts.snapshot();
            Map<Long, List<StatementEntry>> statements = new LinkedHashMap<>();
            for (AccountView account : accounts.accounts()) {
                statements.put(account.accountNumber(), bank.wholeStatement(account.accountNumber(), 100));
            }
            return new Views(accounts, statements, bank.operations.operations());
        }
    }

    @Test
    void aRestartRebuildsTheSameViews() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        Views before;
        List<Long> accounts = new ArrayList<>();
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            for (int i = 0; i < 6; i++) {
                Idempotency key = i % 2 == 0 ? new Idempotency("open-" + i, "f") : null;
                accounts.add(bank.open("User" + i + "@Example.com", key));
            }
            for (int i = 0; i < 5; i++) {
                bank.verify(accounts.get(i)); // the last one stays unverified
            }
            // More than a segment of 64 KiB and several snapshots: a few thousand events.
            for (int i = 0; i < 1_500; i++) {
                long from = accounts.get(i % 5);
                long to = accounts.get((i % 5 + 1 + (i / 5) % 4) % 5); // never the same account
                Idempotency key = i % 3 == 0 ? new Idempotency("t-" + i, "f") : null;
                bank.transfer(from, to, 1 + i % 40, key);
                if (i % 7 == 0) {
                    bank.withdraw(from, 1 + i % 11, i % 2 == 0 ? new Idempotency("w-" + i, "f") : null);
                }
            }
            bank.awaitReadModels();
            before = Views.of(bank);
            assertThat(before.accounts().appliedSeq()).isEqualTo(bank.engine.committedSeq());
            assertThat(bank.engine.startSnapshotSeq()).isZero();
        }
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            assertThat(bank.engine.startSnapshotSeq()).as("the engine starts from a snapshot").isPositive();
            bank.awaitReadModels();
            Views after = Views.of(bank);
            assertThat(after).isEqualTo(before);
            assertThat(after.operations()).isNotEmpty();
            assertThat(bank.accounts.totals().balanced()).isTrue();

            // And the models go on from there.
            long alice = accounts.get(0);
            long balance = bank.accounts.account(alice).orElseThrow().balance();
            long seq = bank.withdraw(alice, 1, new Idempotency("after-restart", "f")).seq();
            bank.awaitReadModels();
            assertThat(bank.accounts.account(alice).orElseThrow().balance()).isEqualTo(balance - 1);
            StatementEntry newest = bank.statements.page(alice, 1, null).entries().get(0);
            assertThat(newest).isEqualTo(new StatementEntry(seq, newest.timeMicros(), StatementEntry.Type.WITHDRAWAL,
                    1, null, balance - 1));
            assertThat(bank.operations.replayed(alice, "after-restart", seq)).isPresent();
        }
    }
}
