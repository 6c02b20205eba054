package eventbank.core;

import static eventbank.core.Scenario.open;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transfer;
import static eventbank.core.Scenario.transferred;
import static eventbank.core.Scenario.verified;
import static eventbank.core.Scenario.verify;
import static eventbank.core.Scenario.withdraw;
import static eventbank.core.Scenario.withdrawn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import org.junit.jupiter.api.Test;

/** Closing an account and forgetting its holder (DESIGN.md, "Personal data"), by the bank's rules alone. */
class ClosingAndForgettingTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;
    private static final long CAROL = 6_333_4444_5555_6666L;
    private static final long NOBODY = 7_444_5555_6666_7777L;
    private static final long BONUS = Limits.OPENING_BALANCE_DEFAULT;

    private static Event.AccountOpened sealedOpening(long account, String email) {
        return Scenario.sealedOpened(account, email);
    }

    /** Alice and Bob verified (Alice sealed, Bob recorded before sealing), Carol unverified. */
    private static Scenario bank() {
        return new Scenario().given(sealedOpening(ALICE, "alice@example.com"), opened(BOB, "bob@example.com"),
                sealedOpening(CAROL, "carol@example.com"),
                verified(ALICE), verified(BOB));
    }

    @Test
    void aVerifiedAccountClosesOnlyAtZero() {
        Scenario scenario = bank();
        scenario.when(new Command.CloseAccount(ALICE)).thenRejected(Rejection.BALANCE_NOT_ZERO);
        scenario.when(transfer(ALICE, BOB, BONUS)).thenEvents(transferred(ALICE, BOB, BONUS));
        scenario.when(new Command.CloseAccount(ALICE)).thenEvents(new Event.AccountClosed(ALICE, 0));
        assertThat(scenario.bank().isClosed(ALICE)).isTrue();
        assertThat(scenario.bank().forfeitedTotal()).isZero();
        assertThat(scenario.bank().checkInvariant()).isNull();
    }

    @Test
    void anUnverifiedAccountClosesForfeitingItsBonusAndTheInvariantCountsIt() {
        Scenario scenario = bank();
        scenario.when(new Command.CloseAccount(CAROL)).thenEvents(new Event.AccountClosed(CAROL, BONUS));
        Bank bank = scenario.bank();
        assertThat(bank.balanceOf(CAROL)).isZero();
        assertThat(bank.forfeitedTotal()).isEqualTo(BONUS);
        assertThat(bank.balanceTotal()).isEqualTo(bank.openedTotal() - bank.withdrawnTotal() - bank.forfeitedTotal());
        assertThat(bank.checkInvariant()).isNull();
        // Its link no longer verifies it.
        scenario.when(verify(CAROL, scenario.codeOf(CAROL))).thenRejected(Rejection.ACCOUNT_CLOSED);
    }

    @Test
    void aClosedAccountSendsAndReceivesNothingAndClosesOnce() {
        Scenario scenario = bank();
        scenario.when(withdraw(ALICE, BONUS)).thenEvents(withdrawn(ALICE, BONUS));
        scenario.when(new Command.CloseAccount(ALICE)).thenEvents(new Event.AccountClosed(ALICE, 0));
        scenario.when(transfer(BOB, ALICE, 1)).thenRejected(Rejection.RECIPIENT_CLOSED);
        scenario.when(transfer(ALICE, BOB, 1)).thenRejected(Rejection.ACCOUNT_CLOSED);
        scenario.when(withdraw(ALICE, 1)).thenRejected(Rejection.ACCOUNT_CLOSED);
        scenario.when(new Command.TransferMoneyAtomically(BOB, java.util.List.of(new Command.Transfer(ALICE, 1)),
                null)).thenRejected(Rejection.RECIPIENT_CLOSED, 0);
        scenario.when(new Command.CloseAccount(ALICE)).thenRejected(Rejection.ACCOUNT_CLOSED);
        assertThat(Rejection.RECIPIENT_CLOSED.code()).isEqualTo("account_closed");
        scenario.when(new Command.CloseAccount(NOBODY)).thenRejected(Rejection.ACCOUNT_NOT_FOUND);
    }

    @Test
    void forgettingTakesAClosedSealedAccountAndFreesItsEmail() {
        Scenario scenario = bank();
        scenario.when(new Command.ForgetAccount(ALICE)).thenRejected(Rejection.ACCOUNT_NOT_CLOSED);
        scenario.when(withdraw(ALICE, BONUS)).thenEvents(withdrawn(ALICE, BONUS));
        scenario.when(new Command.CloseAccount(ALICE)).thenEvents(new Event.AccountClosed(ALICE, 0));
        scenario.when(open(NOBODY, "Alice@Example.com")).thenRejected(Rejection.EMAIL_TAKEN);
        scenario.when(new Command.ForgetAccount(ALICE)).thenEvents(new Event.AccountForgotten(ALICE));
        assertThat(scenario.bank().isForgotten(ALICE)).isTrue();
        // Once more records nothing; the email may open a new account.
        scenario.when(new Command.ForgetAccount(ALICE)).thenNothingRecorded();
        scenario.when(open(NOBODY, "alice@example.com")).thenEvents(opened(NOBODY, "alice@example.com"));
        scenario.when(new Command.ForgetAccount(12L)).thenRejected(Rejection.ACCOUNT_NOT_FOUND);
    }

    @Test
    void anAccountRecordedBeforeSealingCanBeClosedNotForgotten() {
        Scenario scenario = bank();
        scenario.when(new Command.ForgetAccount(BOB)).thenRejected(Rejection.ACCOUNT_NOT_FORGETTABLE);
        scenario.when(withdraw(BOB, BONUS)).thenEvents(withdrawn(BOB, BONUS));
        scenario.when(new Command.CloseAccount(BOB)).thenEvents(new Event.AccountClosed(BOB, 0));
        scenario.when(new Command.ForgetAccount(BOB)).thenRejected(Rejection.ACCOUNT_NOT_FORGETTABLE);
    }

    @Test
    void closingsAndForgettingsSurviveASnapshotAndImpossibleOnesAreRefusedAsFacts() {
        Scenario scenario = bank();
        scenario.when(new Command.CloseAccount(CAROL)).thenEvents(new Event.AccountClosed(CAROL, BONUS));
        scenario.when(new Command.ForgetAccount(CAROL)).thenEvents(new Event.AccountForgotten(CAROL));
        Bank copy = scenario.bank().copy();
        assertThat(copy.stateDigest()).isEqualTo(scenario.bank().stateDigest());
        assertThat(copy.isClosed(CAROL) && copy.isForgotten(CAROL) && copy.isSealed(CAROL)).isTrue();
        assertThat(copy.forfeitedTotal()).isEqualTo(BONUS);
        assertThat(copy.isEmailTaken("carol@example.com")).isFalse();
        assertThat(copy.isEmailTaken("alice@example.com")).isTrue();
        Bank bank = scenario.bank();
        long next = bank.lastSeq() + 1;
        assertThatIllegalStateException().isThrownBy(() -> bank.evolve(next, Scenario.START_MICROS,
                new Event.AccountClosed(ALICE, 0))); // holds its bonus
        assertThatIllegalStateException().isThrownBy(() -> bank.evolve(next, Scenario.START_MICROS,
                new Event.AccountForgotten(BOB))); // not closed, not sealed
    }
}
