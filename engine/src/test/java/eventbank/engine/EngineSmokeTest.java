package eventbank.engine;

import eventbank.core.Command;
import eventbank.core.Limits;
import eventbank.core.Rejection;
import eventbank.engine.write.Outcome;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;


/** The whole story through the engine on real files, then a restart that finds it all again. */
class EngineSmokeTest {
    @TempDir
    Path data;

    @Test
    void openVerifyTransferWithdrawSurvivesRestart() throws Exception {
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig config = EngineConfig.builder(data).accountNumbers(numbers::incrementAndGet)
                .snapshots(3, 2, 10).build();
        long alice;
        long bob;
        try (Engine engine = Engine.start(config)) {
            alice = opened(engine, "alice@example.com");
            bob = opened(engine, "bob@example.com");
            verify(engine, alice);
            verify(engine, bob);
            Outcome transfer = engine.submit(new Command.TransferMoney(alice, bob, 100_00, null)).join();
            assertThat(transfer).isInstanceOf(Outcome.Committed.class);
            assertThat(((Outcome.Committed) transfer).balance()).isEqualTo(900_00);
            Outcome tooMuch = engine.submit(new Command.Withdraw(alice, 1_000_00, null)).join();
            assertThat(tooMuch).isEqualTo(new Outcome.Rejected(Rejection.INSUFFICIENT_FUNDS));
            Outcome withdraw = engine.submit(new Command.Withdraw(bob, 50_00, null)).join();
            assertThat(((Outcome.Committed) withdraw).balance()).isEqualTo(1_050_00);
            assertThat(engine.committedSeq()).isEqualTo(6);
            assertThat(engine.subscriptions().get(0).awaitDelivered(6, 10_000)).isTrue();
        }
        try (Engine engine = Engine.start(config)) {
            assertThat(engine.committedSeq()).isEqualTo(6);
            assertThat(engine.startSnapshotSeq()).isEqualTo(6);
            Outcome withdraw = engine.submit(new Command.Withdraw(alice, 900_00, null)).join();
            assertThat(((Outcome.Committed) withdraw).balance()).isZero();
        }
    }

    private static long opened(Engine engine, String email) {
        Outcome outcome = engine.submit(new Command.OpenAccount(0, email, "hash", Limits.OPENING_BALANCE_DEFAULT, null)).join();
        return ((Outcome.Committed) outcome).balance() == Limits.OPENING_BALANCE_DEFAULT
                ? ((eventbank.core.Event.AccountOpened) ((Outcome.Committed) outcome).events().get(0).event()).accountNumber()
                : -1;
    }

    private static void verify(Engine engine, long account) {
        String code = engine.verificationCodes().codeFor(account, openedSeq(engine, account));
        assertThat(engine.submit(new Command.VerifyAccount(account, code)).join()).isInstanceOf(Outcome.Committed.class);
    }

    private static long openedSeq(Engine engine, long account) {
        // Accounts here are opened one by one, first at seq 1.
        return account - Limits.ACCOUNT_NUMBER_MIN;
    }
}
