package eventbank.core;

import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * The bank's {@link CommandPolicy}: an opening without an account number gets a random one that
 * is not in use; a batch of transfers (all or none, or one by one) needs room for all of its
 * transfers; the reply reports the balance of the account that opened, was verified, sent or
 * withdrew.
 *
 * <p>The sizes of the log's records are the log's own, so the writer gives them: this class knows
 * which records a command may write, not how many bytes the log spends on each.
 */
public final class BankCommandPolicy implements CommandPolicy {
    private final LongSupplier accountNumbers;
    private final int recordBytesMax;
    private final int keylessTransferRecordBytes;

    /**
     * @param accountNumbers             a source of random 16-digit account numbers
     * @param recordBytesMax             the bytes of the log's largest record, any event with an
     *                                   idempotency key
     * @param keylessTransferRecordBytes the bytes of a {@link Event.MoneyTransferred} record
     *                                   without an idempotency key, as every transfer of a batch
     *                                   after the first is written
     */
    public BankCommandPolicy(LongSupplier accountNumbers, int recordBytesMax, int keylessTransferRecordBytes) {
        if (keylessTransferRecordBytes < 1 || recordBytesMax < keylessTransferRecordBytes) {
            throw new IllegalArgumentException("record sizes must be positive, the largest no smaller than the"
                    + " keyless one");
        }
        this.accountNumbers = accountNumbers;
        this.recordBytesMax = recordBytesMax;
        this.keylessTransferRecordBytes = keylessTransferRecordBytes;
    }

    /** A uniformly random 16-digit number whose first digit is 1 to 9. */
    public static long randomAccountNumber(RandomGenerator random) {
        return random.nextLong(Limits.ACCOUNT_NUMBER_MIN, Limits.ACCOUNT_NUMBER_MAX + 1);
    }

    /** An OpenAccount without a number gets a random one that is not in use; others are as given. */
    @Override
    public Command stamp(Command command, Bank bank) {
        if (command instanceof Command.OpenAccount open && open.accountNumber() == 0) {
            long number;
            do {
                number = accountNumbers.getAsLong();
            } while (bank.exists(number));
            return new Command.OpenAccount(number, open.email(), open.passwordHash(), open.openingBalance(),
                    open.idempotency());
        }
        return command;
    }

    /**
     * An all-or-none batch of n transfers takes one record of the largest size (the first, which
     * carries the key) and n - 1 records without a key; a one-by-one batch of n at most n records
     * without a key (it takes none); every other command one record. Batches above {@link
     * Limits#BATCH_TRANSFERS_MAX} are refused by decide and record nothing, so they are counted at
     * that size.
     */
    @Override
    public int recordBytesMax(Command command) {
        if (command instanceof Command.TransferMoneyAtomically batch && batch.transfers().size() > 1) {
            int transfers = Math.min(batch.transfers().size(), Limits.BATCH_TRANSFERS_MAX);
            return recordBytesMax + (transfers - 1) * keylessTransferRecordBytes;
        }
        if (command instanceof Command.TransferMoneyOneByOne batch) {
            int transfers = Math.min(Math.max(1, batch.transfers().size()), Limits.BATCH_TRANSFERS_MAX);
            return transfers * keylessTransferRecordBytes;
        }
        return recordBytesMax;
    }

    /**
     * The most transfers of an all-or-none batch that {@code bytes} of room hold; a writer with
     * that much room for one command refuses a larger batch with {@link #tooLarge}. At most
     * {@link Limits#BATCH_TRANSFERS_MAX}, which decide allows.
     */
    public int batchTransfersMax(int bytes) {
        int more = (bytes - recordBytesMax) / keylessTransferRecordBytes;
        return (int) Math.min(Limits.BATCH_TRANSFERS_MAX, 1L + more);
    }

    @Override
    public Rejection tooLarge(Command command) {
        return Rejection.BATCH_SIZE_INVALID;
    }

    @Override
    public long subjectOf(Command command) {
        return switch (command) {
            case Command.OpenAccount c -> c.accountNumber();
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
