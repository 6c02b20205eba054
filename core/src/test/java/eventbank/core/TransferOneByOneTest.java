package eventbank.core;

import static eventbank.core.Rejection.ACCOUNT_CLOSED;
import static eventbank.core.Rejection.ACCOUNT_NOT_FOUND;
import static eventbank.core.Rejection.ACCOUNT_NOT_VERIFIED;
import static eventbank.core.Rejection.AMOUNT_NOT_POSITIVE;
import static eventbank.core.Rejection.AMOUNT_TOO_LARGE;
import static eventbank.core.Rejection.BATCH_SIZE_INVALID;
import static eventbank.core.Rejection.INSUFFICIENT_FUNDS;
import static eventbank.core.Rejection.RECIPIENT_CLOSED;
import static eventbank.core.Rejection.RECIPIENT_NOT_FOUND;
import static eventbank.core.Rejection.RECIPIENT_NOT_VERIFIED;
import static eventbank.core.Rejection.SAME_ACCOUNT;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transferred;
import static eventbank.core.Scenario.verified;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Command.TransferMoneyOneByOne}: a batch whose transfers are each decided on its own, in
 * one step. Its promise is that it decides exactly what the same transfers sent one after the
 * other as {@link Command.TransferMoney} would: every test here holds it to the real decider
 * deciding the single commands on a bank of its own, besides saying the parts outright.
 */
class TransferOneByOneTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;
    /** Not verified. */
    private static final long CAROL = 6_333_4444_5555_6666L;
    /** Verified, then closed at a balance of zero. */
    private static final long DAVE = 8_555_6666_7777_8888L;
    private static final long NOBODY = 7_444_5555_6666_7777L;

    private static final Decider DECIDER = new Decider(Scenario.CODES);

    /** Alice and Bob verified with $1,000.00 each, Carol not verified, Dave closed; seq 1 to 9. */
    private static List<Event> history() {
        return List.of(
                opened(ALICE, "alice@example.com"),
                opened(BOB, "bob@example.com"),
                opened(CAROL, "carol@example.com"),
                opened(DAVE, "dave@example.com"),
                verified(ALICE),
                verified(BOB),
                verified(DAVE),
                transferred(DAVE, BOB, Limits.OPENING_BALANCE_DEFAULT),
                new Event.AccountClosed(DAVE, 0));
    }

    private static Command.TransferMoneyOneByOne batch(long from, long... toAndAmount) {
        List<Command.Transfer> transfers = new ArrayList<>();
        for (int i = 0; i < toAndAmount.length; i += 2) {
            transfers.add(new Command.Transfer(toAndAmount[i], toAndAmount[i + 1]));
        }
        return new Command.TransferMoneyOneByOne(from, transfers);
    }

    private static Decision recorded(long from, long to, long amount) {
        return new Decision.Accepted(List.of(transferred(from, to, amount)));
    }

    private static Decision refused(Rejection reason) {
        return new Decision.Rejected(reason);
    }

    @Test
    void refusalsBetweenRecordedTransfersLeaveTheOthersAsTheyWouldBeAlone() {
        Scenario scenario = new Scenario().given(history().toArray(Event[]::new));
        Command.TransferMoneyOneByOne batch = batch(ALICE,
                BOB, 30_000,
                BOB, 80_000,              // more than the 70,000 left
                CAROL, 1,                 // not verified
                NOBODY, 1,
                ALICE, 1,
                DAVE, 1,                  // closed
                BOB, 0,
                BOB, Limits.AMOUNT_MAX + 1,
                BOB, 70_000,              // exactly what is left: the balance reaches zero
                BOB, 1);                  // nothing left

        Decision decision = scenario.when(batch).decision();

        assertThat(decision).isEqualTo(new Decision.OneByOne(List.of(
                recorded(ALICE, BOB, 30_000),
                refused(INSUFFICIENT_FUNDS),
                refused(RECIPIENT_NOT_VERIFIED),
                refused(RECIPIENT_NOT_FOUND),
                refused(SAME_ACCOUNT),
                refused(RECIPIENT_CLOSED),
                refused(AMOUNT_NOT_POSITIVE),
                refused(AMOUNT_TOO_LARGE),
                recorded(ALICE, BOB, 70_000),
                refused(INSUFFICIENT_FUNDS))));
        assertThat(decision).isEqualTo(decidedAlone(history(), batch));
    }

    @Test
    void aClosedUnverifiedOrUnknownSenderHasEveryTransferRefused() {
        Scenario scenario = new Scenario().given(history().toArray(Event[]::new));
        for (long sender : new long[] {DAVE, CAROL, NOBODY}) {
            Command.TransferMoneyOneByOne batch = batch(sender, BOB, 1, ALICE, 5, BOB, 0);
            Rejection reason = sender == DAVE ? ACCOUNT_CLOSED : sender == CAROL ? ACCOUNT_NOT_VERIFIED
                    : ACCOUNT_NOT_FOUND;
            Decision decision = scenario.when(batch).decision();
            // The amount is checked first, as for a single transfer.
            assertThat(decision).isEqualTo(new Decision.OneByOne(List.of(refused(reason), refused(reason),
                    refused(AMOUNT_NOT_POSITIVE))));
            assertThat(decision).isEqualTo(decidedAlone(history(), batch));
        }
    }

    @Test
    void anAccountClosedEarlierInTheLogRefusesWhatWouldHaveGoneToIt() {
        List<Event> history = new ArrayList<>(history());
        // Bob empties his account to Alice and closes it; a batch then sends to both.
        history.add(transferred(BOB, ALICE, 2 * Limits.OPENING_BALANCE_DEFAULT));
        history.add(new Event.AccountClosed(BOB, 0));
        Scenario scenario = new Scenario().given(history.toArray(Event[]::new));
        Command.TransferMoneyOneByOne batch = batch(ALICE, BOB, 10, CAROL, 10, BOB, 10);

        Decision decision = scenario.when(batch).decision();

        assertThat(decision).isEqualTo(new Decision.OneByOne(List.of(refused(RECIPIENT_CLOSED),
                refused(RECIPIENT_NOT_VERIFIED), refused(RECIPIENT_CLOSED))));
        assertThat(decision).isEqualTo(decidedAlone(history, batch));
    }

    @Test
    void recordingTheAcceptedPartsGivesTheBalancesOfTheTransfersSentAlone() {
        Scenario scenario = new Scenario().given(history().toArray(Event[]::new));
        Command.TransferMoneyOneByOne batch = batch(ALICE, BOB, 60_000, BOB, 60_000, BOB, 40_000);

        Decision decision = scenario.when(batch).decision();
        scenario.given(BankAuditorTest.eventsOf(decision).toArray(Event[]::new));

        assertThat(scenario.balanceOf(ALICE)).isZero();
        assertThat(scenario.balanceOf(BOB)).isEqualTo(3 * Limits.OPENING_BALANCE_DEFAULT);
        assertThat(scenario.lastSeq()).isEqualTo(history().size() + 2);
    }

    @Test
    void aBatchHoldsFromOneToAThousandTransfers() {
        Scenario scenario = new Scenario().given(history().toArray(Event[]::new));
        scenario.when(new Command.TransferMoneyOneByOne(ALICE, List.of())).thenRejected(BATCH_SIZE_INVALID);
        List<Command.Transfer> thousand = new ArrayList<>();
        for (int i = 0; i < Limits.BATCH_TRANSFERS_MAX; i++) {
            thousand.add(new Command.Transfer(BOB, 1));
        }
        Decision full = scenario.when(new Command.TransferMoneyOneByOne(ALICE, thousand)).decision();
        assertThat(full).isInstanceOf(Decision.OneByOne.class);
        assertThat(((Decision.OneByOne) full).parts()).hasSize(Limits.BATCH_TRANSFERS_MAX)
                .allMatch(Decision.Accepted.class::isInstance);
        thousand.add(new Command.Transfer(BOB, 1));
        scenario.when(new Command.TransferMoneyOneByOne(ALICE, thousand)).thenRejected(BATCH_SIZE_INVALID);
    }

    @Test
    void aPartIsOneAcceptedEventOrARefusal() {
        assertThatThrownBy(() -> new Decision.OneByOne(List.of(new Decision.Accepted(List.of()))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Decision.OneByOne(List.of(new Decision.Replayed(3))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Random banks and random batches (recipients of every kind, amounts that overdraw): the
     * batch decides what the single transfers decide one after the other.
     */
    @Test
    void randomBatchesDecideWhatTheSingleTransfersDecide() {
        long[] people = {ALICE, BOB, CAROL, DAVE, NOBODY};
        int mixed = 0;
        for (long seed = 1; seed <= 2_000; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            List<Event> history = new ArrayList<>(history());
            // Some money moves first, so that balances differ from run to run.
            for (int i = random.nextInt(4); i > 0; i--) {
                boolean fromAlice = random.nextBoolean();
                history.add(transferred(fromAlice ? ALICE : BOB, fromAlice ? BOB : ALICE, 1 + random.nextInt(30_000)));
            }
            long sender = random.nextInt(10) == 0 ? people[random.nextInt(people.length)] : ALICE;
            long[] toAndAmount = new long[2 * (1 + random.nextInt(12))];
            for (int i = 0; i < toAndAmount.length; i += 2) {
                toAndAmount[i] = people[random.nextInt(people.length)];
                toAndAmount[i + 1] = random.nextInt(20) == 0 ? random.nextLong(-5, 1) : 1 + random.nextInt(60_000);
            }
            Command.TransferMoneyOneByOne batch = batch(sender, toAndAmount);
            Bank bank = bankOf(history);
            Decision decision = DECIDER.decide(bank, batch, Scenario.START_MICROS);
            assertThat(decision).as("seed %d", seed).isEqualTo(decidedAlone(history, batch));
            List<Decision> parts = ((Decision.OneByOne) decision).parts();
            if (parts.stream().anyMatch(Decision.Accepted.class::isInstance)
                    && parts.stream().anyMatch(Decision.Rejected.class::isInstance)) {
                mixed++;
            }
        }
        assertThat(mixed).as("batches with recorded and refused transfers").isGreaterThan(500);
    }

    /**
     * The batch's transfers sent alone as {@link Command.TransferMoney}, one after the other on a
     * bank of their own built from {@code history}, each accepted one recorded before the next.
     */
    private static Decision decidedAlone(List<Event> history, Command.TransferMoneyOneByOne batch) {
        Bank bank = bankOf(history);
        List<Decision> parts = new ArrayList<>();
        for (Command.Transfer transfer : batch.transfers()) {
            Decision part = DECIDER.decide(bank, new Command.TransferMoney(batch.fromAccountNumber(),
                    transfer.toAccountNumber(), transfer.amount(), null), Scenario.START_MICROS);
            if (part instanceof Decision.Accepted accepted) {
                for (Event event : accepted.events()) {
                    bank.evolve(bank.lastSeq() + 1, Scenario.START_MICROS, event);
                }
            }
            parts.add(part);
        }
        return new Decision.OneByOne(parts);
    }

    private static Bank bankOf(List<Event> history) {
        Bank bank = new Bank();
        for (Event event : history) {
            bank.evolve(bank.lastSeq() + 1, Scenario.START_MICROS, event);
        }
        return bank;
    }
}
