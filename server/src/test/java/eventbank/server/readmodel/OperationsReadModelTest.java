package eventbank.server.readmodel;

import static eventbank.server.readmodel.ReadModelBank.PASSWORD_HASH;
import static eventbank.server.readmodel.ReadModelBank.SECOND_MICROS;
import static eventbank.server.readmodel.ReadModelBank.START_MICROS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OperationsReadModelTest {
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final long SCOPE_OPENING = OperationsReadModel.SCOPE_ACCOUNT_OPENING;

    @TempDir
    Path data;

    /** The story with keys: each keyed command leaves what its first reply needs. */
    @Test
    void theStoryLeavesTheOperationsOfItsKeys() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.open("alice@example.com", new Idempotency("open-alice", "f-open"));
            long bob = bank.open("bob@example.com", null);
            bank.verify(alice);
            bank.verify(bob);
            Outcome.Committed transfer = bank.transfer(alice, bob, 100_00, new Idempotency("t-1", "f-t-1"));
            Outcome.Committed withdrawal = bank.withdraw(bob, 50_00, new Idempotency("w-1", "f-w-1"));
            bank.transfer(bob, alice, 1, null);
            bank.awaitReadModels();

            long now = bank.clock.get();
            Operation opening = new Operation.AccountOpening(1, START_MICROS, "open-alice", alice, 100_000);
            Operation transferred = new Operation.Transfer(5, START_MICROS + 4 * SECOND_MICROS, "t-1", alice, bob,
                    100_00, 900_00);
            Operation withdrawn = new Operation.Withdrawal(6, START_MICROS + 5 * SECOND_MICROS, "w-1", bob, 50_00,
                    1_050_00);
            assertThat(((Operation.Transfer) transferred).fromBalanceAfter()).isEqualTo(transfer.balance());
            assertThat(((Operation.Withdrawal) withdrawn).balanceAfter()).isEqualTo(withdrawal.balance());
            assertThat(bank.operations.find(SCOPE_OPENING, "open-alice", now)).contains(opening);
            assertThat(bank.operations.find(alice, "t-1", now)).contains(transferred);
            assertThat(bank.operations.find(bob, "w-1", now)).contains(withdrawn);
            assertThat(bank.operations.operations()).containsExactly(opening, transferred, withdrawn);
            assertThat(opening.scope()).isEqualTo(SCOPE_OPENING);
            assertThat(transferred.scope()).isEqualTo(alice);
            assertThat(withdrawn.scope()).isEqualTo(bob);

            // Keys are scoped: another account's key, or another scope, finds nothing.
            assertThat(bank.operations.find(bob, "t-1", now)).isEmpty();
            assertThat(bank.operations.find(SCOPE_OPENING, "t-1", now)).isEmpty();
            assertThat(bank.operations.find(alice, "open-alice", now)).isEmpty();
            assertThat(bank.operations.find(alice, "never-used", now)).isEmpty();
            assertThat(bank.operations.size()).isEqualTo(3);
        }
    }

    /**
     * A retry with the same key and body is answered Replayed(seq) by the engine; the model
     * gives the first outcome, with the balance right after it, not the balance now.
     */
    @Test
    void aReplayFindsTheFirstOutcome() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.openVerified("alice@example.com");
            long bob = bank.openVerified("bob@example.com");
            Command transfer = new Command.TransferMoney(alice, bob, 300, new Idempotency("pay-bob", "f-300"));
            Outcome.Committed first = bank.committed(transfer);
            bank.transfer(alice, bob, 5_000, null);
            Command open = new Command.OpenAccount(0, "carol@example.com", PASSWORD_HASH, 100_000,
                    new Idempotency("open-carol", "f-carol"));
            Outcome.Committed opened = bank.committed(open);

            Outcome again = bank.engine.submit(transfer).join();
            assertThat(again).isEqualTo(new Outcome.Replayed(first.seq()));
            Outcome openAgain = bank.engine.submit(open).join();
            assertThat(openAgain).isEqualTo(new Outcome.Replayed(opened.seq()));
            long seq = ((Outcome.Replayed) again).seq();
            // Up to the opening, the last event read below (waiting for the transfer's seq alone
            // let the opening's lookup race the model).
            assertThat(bank.operations.awaitSeq(opened.seq(), ReadModelBank.CATCH_UP)).isTrue();

            Operation.Transfer replayed =
                    (Operation.Transfer) bank.operations.replayed(alice, "pay-bob", seq).orElseThrow();
            assertThat(replayed.seq()).isEqualTo(first.seq());
            assertThat(replayed.fromBalanceAfter()).isEqualTo(first.balance()).isEqualTo(100_000 - 300);
            assertThat(replayed.amount()).isEqualTo(300);
            assertThat(bank.operations.replayed(SCOPE_OPENING, "open-carol", opened.seq()))
                    .contains(new Operation.AccountOpening(opened.seq(), opened.events().get(0).timeMicros(),
                            "open-carol", opened.events().get(0).event() instanceof eventbank.core.Event.AccountOpened o
                                    ? o.accountNumber() : 0, 100_000));
            // Another seq under the same key is not this key's operation.
            assertThat(bank.operations.replayed(alice, "pay-bob", seq + 1)).isEmpty();
        }
    }

    /**
     * A key is live while its time is at least now minus the window (24 hours), as in the write
     * model; once the engine has forgotten it, the same key is a new operation, and the model
     * then answers that one.
     */
    @Test
    void keysExpireLikeTheWriteModels() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            long alice = bank.openVerified("alice@example.com");
            long bob = bank.openVerified("bob@example.com");
            Command withdraw = new Command.Withdraw(alice, 10, new Idempotency("w", "f-10"));
            Outcome.Committed first = bank.committed(withdraw);
            long used = first.events().get(0).timeMicros();
            bank.awaitReadModels();
            assertThat(bank.operations.find(alice, "w", used + WINDOW)).isPresent();
            assertThat(bank.operations.find(alice, "w", used + WINDOW + 1)).isEmpty();

            // A day and a second later the engine takes the key as new.
            bank.clock.set(used + WINDOW + SECOND_MICROS);
            Outcome.Committed second = bank.committed(withdraw);
            assertThat(second.seq()).isGreaterThan(first.seq());
            bank.awaitReadModels();
            long now = second.events().get(0).timeMicros();
            assertThat(bank.operations.find(alice, "w", now))
                    .contains(new Operation.Withdrawal(second.seq(), now, "w", alice, 10, 100_000 - 20));
            assertThat(bank.operations.replayed(alice, "w", first.seq())).isEmpty();
            assertThat(bank.operations.size()).isEqualTo(1);

            // Kept for the window and the margin, then forgotten for good.
            bank.clock.set(now + WINDOW + OperationsReadModel.RETAINED_BEYOND_WINDOW_MICROS);
            bank.transfer(alice, bob, 1, null);
            bank.awaitReadModels();
            assertThat(bank.operations.replayed(alice, "w", second.seq())).isPresent();
            assertThat(bank.operations.find(alice, "w", bank.clock.get())).isEmpty();
            bank.clock.addAndGet(SECOND_MICROS);
            bank.transfer(alice, bob, 1, null);
            bank.awaitReadModels();
            assertThat(bank.operations.replayed(alice, "w", second.seq())).isEmpty();
            assertThat(bank.operations.operations()).isEqualTo(List.of());
        }
    }

    @Test
    void theWindowMustBePositive() {
        assertThatThrownBy(() -> new OperationsReadModel(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new OperationsReadModel().windowMicros()).isEqualTo(WINDOW);
    }
}
