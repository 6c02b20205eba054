package eventbank.core;

import static eventbank.core.Scenario.opened;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.ArrayList;
import java.util.List;
import java.util.PrimitiveIterator;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** What the bank tells its single writer: the number an opening gets, the room a command needs, whose balance. */
class BankCommandPolicyTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;
    private static final int LARGEST = 4096;
    private static final int KEYLESS = 37;

    private static BankCommandPolicy policy(long... numbers) {
        PrimitiveIterator.OfLong next = LongStream.of(numbers).iterator();
        return new BankCommandPolicy(next::nextLong, LARGEST, KEYLESS);
    }

    private static Command.TransferMoneyAtomically batchOf(int transfers) {
        List<Command.Transfer> list = new ArrayList<>();
        for (int i = 0; i < transfers; i++) {
            list.add(new Command.Transfer(BOB, 1));
        }
        return new Command.TransferMoneyAtomically(ALICE, list, null);
    }

    @Test
    void anOpeningWithoutANumberGetsTheNextRandomOneNotInUse() {
        Bank bank = new Bank();
        bank.evolve(1, Scenario.START_MICROS, opened(ALICE, "alice@example.com"));
        Idempotency key = new Idempotency("open-1", "fp");
        Command given = new Command.OpenAccount(0, "bob@example.com", "hash", 100, key);

        Command stamped = policy(ALICE, BOB).stamp(given, bank);

        assertThat(stamped).isEqualTo(new Command.OpenAccount(BOB, "bob@example.com", "hash", 100, key));
    }

    @Test
    void everyOtherCommandIsDecidedAsGiven() {
        BankCommandPolicy policy = policy();
        List<Command> commands = List.of(new Command.OpenAccount(ALICE, "a@example.com", "hash", 0, null),
                new Command.VerifyAccount(ALICE, "code"), new Command.TransferMoney(ALICE, BOB, 1, null),
                batchOf(2), new Command.Withdraw(ALICE, 1, null));
        for (Command command : commands) {
            assertThat(policy.stamp(command, new Bank())).isSameAs(command);
        }
    }

    @Test
    void aBatchNeedsOneLargestRecordAndAKeylessOneForEveryFurtherTransfer() {
        BankCommandPolicy policy = policy();
        assertThat(policy.recordBytesMax(new Command.Withdraw(ALICE, 1, null))).isEqualTo(LARGEST);
        assertThat(policy.recordBytesMax(batchOf(1))).isEqualTo(LARGEST);
        assertThat(policy.recordBytesMax(batchOf(3))).isEqualTo(LARGEST + 2 * KEYLESS);
        // Decide refuses a larger batch, which then records nothing: it is counted at the largest size.
        assertThat(policy.recordBytesMax(batchOf(Limits.BATCH_TRANSFERS_MAX + 5)))
                .isEqualTo(policy.recordBytesMax(batchOf(Limits.BATCH_TRANSFERS_MAX)))
                .isEqualTo(LARGEST + (Limits.BATCH_TRANSFERS_MAX - 1) * KEYLESS);
        assertThat(policy.tooLarge(batchOf(3))).isEqualTo(Rejection.BATCH_SIZE_INVALID);
    }

    @Test
    void aOneByOneBatchNeedsAKeylessRecordForEveryTransfer() {
        BankCommandPolicy policy = policy();
        List<Command.Transfer> transfers = new ArrayList<>();
        for (int i = 0; i < Limits.BATCH_TRANSFERS_MAX + 5; i++) {
            transfers.add(new Command.Transfer(BOB, 1));
        }
        assertThat(policy.recordBytesMax(new Command.TransferMoneyOneByOne(ALICE, transfers.subList(0, 1))))
                .isEqualTo(KEYLESS);
        assertThat(policy.recordBytesMax(new Command.TransferMoneyOneByOne(ALICE, transfers.subList(0, 100))))
                .isEqualTo(100 * KEYLESS);
        // Decide refuses an empty or a larger batch, which then records nothing.
        assertThat(policy.recordBytesMax(new Command.TransferMoneyOneByOne(ALICE, List.of()))).isEqualTo(KEYLESS);
        assertThat(policy.recordBytesMax(new Command.TransferMoneyOneByOne(ALICE, transfers)))
                .isEqualTo(Limits.BATCH_TRANSFERS_MAX * KEYLESS);
        assertThat(policy.subjectOf(new Command.TransferMoneyOneByOne(ALICE, transfers))).isEqualTo(ALICE);
    }

    @Test
    void theBatchesThatFitAreTheOnesWhoseRecordsFit() {
        BankCommandPolicy policy = policy();
        int[] rooms = {LARGEST, LARGEST + KEYLESS - 1, LARGEST + KEYLESS, 48 * 1024, 128 * 1024};
        for (int bytes : rooms) {
            int fits = policy.batchTransfersMax(bytes);
            assertThat(policy.recordBytesMax(batchOf(fits))).as("%d bytes", bytes).isLessThanOrEqualTo(bytes);
            if (fits < Limits.BATCH_TRANSFERS_MAX) {
                assertThat(policy.recordBytesMax(batchOf(fits + 1))).as("%d bytes", bytes)
                        .isGreaterThan(bytes);
            }
        }
        assertThat(policy.batchTransfersMax(LARGEST)).isEqualTo(1);
        assertThat(policy.batchTransfersMax(Integer.MAX_VALUE)).isEqualTo(Limits.BATCH_TRANSFERS_MAX);
    }

    @Test
    void theReplyReportsTheAccountThatActed() {
        BankCommandPolicy policy = policy();
        Command opening = new Command.OpenAccount(ALICE, "a@example.com", "hash", 0, null);
        assertThat(policy.subjectOf(opening)).isEqualTo(ALICE);
        assertThat(policy.subjectOf(new Command.VerifyAccount(ALICE, "code"))).isEqualTo(ALICE);
        assertThat(policy.subjectOf(new Command.TransferMoney(ALICE, BOB, 1, null))).isEqualTo(ALICE);
        assertThat(policy.subjectOf(batchOf(2))).isEqualTo(ALICE);
        assertThat(policy.subjectOf(new Command.Withdraw(BOB, 1, null))).isEqualTo(BOB);
    }

    @Test
    void randomNumbersHaveSixteenDigitsAndRecordSizesMustMakeSense() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1_000; i++) {
            assertThat(Limits.isAccountNumber(BankCommandPolicy.randomAccountNumber(random))).isTrue();
        }
        assertThatIllegalArgumentException().isThrownBy(() -> new BankCommandPolicy(() -> ALICE, 10, 0));
        assertThatIllegalArgumentException().isThrownBy(() -> new BankCommandPolicy(() -> ALICE, 10, 11));
    }
}
