package eventbank.server.readmodel;

/**
 * What a command accepted under an Idempotency-Key recorded: enough to answer
 * {@code GET /api/operations/{key}} and to repeat the first reply to a retry, without reading
 * the journal. The scope of a key is the account that sent the command, or
 * {@link OperationsReadModel#SCOPE_ACCOUNT_OPENING} for opening an account.
 */
public sealed interface Operation permits Operation.AccountOpening, Operation.Transfer, Operation.Withdrawal {

    long seq();

    /** The event's time, microseconds since the epoch (UTC); the key expires a window after it. */
    long timeMicros();

    String idempotencyKey();

    /** The scope the key was used in. */
    long scope();

    /** An account opened: the reply was {@code 201 {account_number, seq}}. */
    record AccountOpening(long seq, long timeMicros, String idempotencyKey, long accountNumber,
                          long openingBalance) implements Operation {
        @Override
        public long scope() {
            return OperationsReadModel.SCOPE_ACCOUNT_OPENING;
        }
    }

    /**
     * Money transferred: the reply was {@code {seq, from_account_number, to_account_number,
     * amount, balance}}, the balance being the sender's right after this transfer.
     */
    record Transfer(long seq, long timeMicros, String idempotencyKey, long fromAccountNumber, long toAccountNumber,
                    long amount, long fromBalanceAfter) implements Operation {
        @Override
        public long scope() {
            return fromAccountNumber;
        }
    }

    /** Money withdrawn: the reply was {@code {seq, amount, balance}}, the balance right after it. */
    record Withdrawal(long seq, long timeMicros, String idempotencyKey, long accountNumber, long amount,
                      long balanceAfter) implements Operation {
        @Override
        public long scope() {
            return accountNumber;
        }
    }
}
