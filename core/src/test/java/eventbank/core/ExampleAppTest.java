package eventbank.core;

import static eventbank.core.Rejection.ACCOUNT_NOT_FOUND;
import static eventbank.core.Rejection.ACCOUNT_NOT_VERIFIED;
import static eventbank.core.Rejection.ACCOUNT_NUMBER_TAKEN;
import static eventbank.core.Rejection.EMAIL_TAKEN;
import static eventbank.core.Rejection.INSUFFICIENT_FUNDS;
import static eventbank.core.Rejection.RECIPIENT_NOT_FOUND;
import static eventbank.core.Rejection.WRONG_CODE;
import static eventbank.core.Scenario.open;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transfer;
import static eventbank.core.Scenario.transferred;
import static eventbank.core.Scenario.verified;
import static eventbank.core.Scenario.verify;
import static eventbank.core.Scenario.withdraw;
import static eventbank.core.Scenario.withdrawn;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The example app's own test suite (macabeus/event-sourcing-example), ported to the rules
 * without HTTP: open three accounts, verify, withdraw, transfer, and each way they can fail.
 * Every account starts with $1,000.00 (100_000 cents).
 */
class ExampleAppTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;
    private static final long CAROL = 6_333_4444_5555_6666L;
    private static final long NOBODY = 7_444_5555_6666_7777L;

    /** The three accounts of the example, opened at seq 1, 2 and 3, none verified yet. */
    private static Scenario threeAccountsOpened() {
        return new Scenario().given(
                opened(ALICE, "alice@example.com"),
                opened(BOB, "bob@example.com"),
                opened(CAROL, "carol@example.com"));
    }

    private static Scenario threeAccountsVerified() {
        return threeAccountsOpened().given(verified(ALICE), verified(BOB), verified(CAROL));
    }

    // ---- Opening accounts ----

    @Test
    void opensThreeAccountsOfOneThousandDollarsEach() {
        Scenario scenario = new Scenario()
                .when(open(ALICE, "alice@example.com")).thenEvents(opened(ALICE, "alice@example.com"))
                .when(open(BOB, "bob@example.com")).thenEvents(opened(BOB, "bob@example.com"))
                .when(open(CAROL, "carol@example.com")).thenEvents(opened(CAROL, "carol@example.com"));

        Bank bank = scenario.bank();
        assertThat(bank.accountCount()).isEqualTo(3);
        for (long account : new long[] {ALICE, BOB, CAROL}) {
            assertThat(bank.balanceOf(account)).isEqualTo(1_000_00);
            assertThat(bank.isVerified(account)).isFalse();
        }
        assertThat(bank.openedSeqOf(CAROL)).isEqualTo(3);
        assertThat(bank.openedTotal()).isEqualTo(3_000_00);
    }

    @Test
    void refusesAnEmailThatIsTaken() {
        threeAccountsOpened().when(open(NOBODY, "alice@example.com")).thenRejected(EMAIL_TAKEN);
    }

    @Test
    void refusesAnEmailThatIsTakenInAnotherCase() {
        threeAccountsOpened().when(open(NOBODY, "Alice@EXAMPLE.com")).thenRejected(EMAIL_TAKEN);
    }

    @Test
    void refusesAnAccountNumberInUse() {
        threeAccountsOpened().when(open(ALICE, "dave@example.com")).thenRejected(ACCOUNT_NUMBER_TAKEN);
    }

    // ---- Verifying ----

    @Test
    void verifiesAnAccountWithTheCodeOfItsLink() {
        Scenario scenario = threeAccountsOpened();
        scenario.when(verify(ALICE, scenario.codeOf(ALICE))).thenEvents(verified(ALICE));

        assertThat(scenario.bank().isVerified(ALICE)).isTrue();
        assertThat(scenario.bank().isVerified(BOB)).isFalse();
    }

    @Test
    void refusesToVerifyAnUnknownAccount() {
        Scenario scenario = threeAccountsOpened();
        scenario.when(verify(NOBODY, scenario.codeOf(ALICE))).thenRejected(ACCOUNT_NOT_FOUND);
    }

    @Test
    void refusesAWrongCode() {
        Scenario scenario = threeAccountsOpened();
        scenario.when(verify(ALICE, "not-the-code")).thenRejected(WRONG_CODE);
        // The code of another account is just as wrong.
        scenario.when(verify(ALICE, scenario.codeOf(BOB))).thenRejected(WRONG_CODE);

        assertThat(scenario.bank().isVerified(ALICE)).isFalse();
    }

    @Test
    void verifyingAVerifiedAccountAgainIsAcceptedAndRecordsNothing() {
        Scenario scenario = threeAccountsVerified();
        long lastSeq = scenario.lastSeq();

        scenario.when(verify(ALICE, scenario.codeOf(ALICE))).thenNothingRecorded();

        assertThat(scenario.lastSeq()).isEqualTo(lastSeq);
        assertThat(scenario.bank().isVerified(ALICE)).isTrue();
    }

    // ---- Withdrawing ----

    @Test
    void withdrawingOneHundredDollarsLeavesNineHundred() {
        Scenario scenario = threeAccountsVerified()
                .when(withdraw(ALICE, 100_00)).thenEvents(withdrawn(ALICE, 100_00));

        assertThat(scenario.balanceOf(ALICE)).isEqualTo(900_00);
        assertThat(scenario.bank().withdrawnTotal()).isEqualTo(100_00);
    }

    @Test
    void refusesToWithdrawMoreThanTheBalance() {
        threeAccountsVerified().when(withdraw(ALICE, 1_000_01)).thenRejected(INSUFFICIENT_FUNDS);
    }

    @Test
    void refusesToWithdrawFromAnUnverifiedAccount() {
        threeAccountsOpened().when(withdraw(ALICE, 100_00)).thenRejected(ACCOUNT_NOT_VERIFIED);
    }

    @Test
    void refusesToWithdrawFromAnUnknownAccount() {
        threeAccountsVerified().when(withdraw(NOBODY, 100_00)).thenRejected(ACCOUNT_NOT_FOUND);
    }

    // ---- Transferring ----

    @Test
    void transferringOneHundredDollarsLeavesEightHundredAndElevenHundred() {
        // The example's sender had withdrawn $100.00 before the transfer: 1,000 - 100 - 100 = 800
        // for her, 1,000 + 100 = 1,100 for the receiver.
        Scenario scenario = threeAccountsVerified().given(withdrawn(ALICE, 100_00));
        assertThat(scenario.balanceOf(ALICE)).isEqualTo(900_00);

        scenario.when(transfer(ALICE, BOB, 100_00)).thenEvents(transferred(ALICE, BOB, 100_00));

        assertThat(scenario.balanceOf(ALICE)).isEqualTo(800_00);
        assertThat(scenario.balanceOf(BOB)).isEqualTo(1_100_00);
        assertThat(scenario.balanceOf(CAROL)).isEqualTo(1_000_00);
        assertThat(scenario.bank().checkInvariant()).isNull();
    }

    @Test
    void refusesToTransferMoreThanTheBalance() {
        threeAccountsVerified().when(transfer(ALICE, BOB, 1_000_01)).thenRejected(INSUFFICIENT_FUNDS);
    }

    @Test
    void refusesATransferFromAnUnknownAccount() {
        threeAccountsVerified().when(transfer(NOBODY, BOB, 100_00)).thenRejected(ACCOUNT_NOT_FOUND);
    }

    @Test
    void refusesATransferToAnUnknownAccount() {
        threeAccountsVerified().when(transfer(ALICE, NOBODY, 100_00)).thenRejected(RECIPIENT_NOT_FOUND);
    }
}
