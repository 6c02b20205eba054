package eventbank.core;

import java.util.List;

/**
 * What someone asks the bank to do. Every value that is not a pure function of the bank's
 * state (account number, password hash, opening balance) is chosen before {@code decide} sees
 * the command and is recorded in the event, so replay never needs a clock, a random source or
 * a password hasher.
 */
public sealed interface Command
        permits Command.OpenAccount, Command.VerifyAccount, Command.TransferMoney,
        Command.TransferMoneyAtomically, Command.TransferMoneyOneByOne, Command.Withdraw, Command.CloseAccount,
        Command.ForgetAccount {

    /** Opens an account; the number and the password hash were chosen by the caller. */
    record OpenAccount(long accountNumber, String email, String passwordHash, long openingBalance,
                       Idempotency idempotency) implements Command {}

    /** Verifies an account's email address with the code from the link. */
    record VerifyAccount(long accountNumber, String code) implements Command {}

    /** Moves money from one verified account to another. */
    record TransferMoney(long fromAccountNumber, long toAccountNumber, long amount,
                         Idempotency idempotency) implements Command {}

    /**
     * Moves money from one verified account to several, all or none: the transfers are decided in
     * order, each against the bank as the earlier ones leave it; the first one refused refuses
     * the whole command (its index is in the rejection), else each becomes one
     * {@link Event.MoneyTransferred}, in order, recorded together. The idempotency key, if any,
     * is carried by the first event. From 1 to {@link Limits#BATCH_TRANSFERS_MAX} transfers.
     */
    record TransferMoneyAtomically(long fromAccountNumber, List<Transfer> transfers,
                                   Idempotency idempotency) implements Command {
        public TransferMoneyAtomically {
            transfers = transfers == null ? List.of() : List.copyOf(transfers);
        }
    }

    /**
     * Moves money from one verified account to several, each transfer decided on its own: in
     * order, each against the bank as the earlier accepted ones leave it, exactly as the same
     * transfers sent as {@link TransferMoney} commands one after the other with nothing between
     * them. Some may be refused and others recorded; the decision holds one part per transfer
     * ({@link Decision.OneByOne}). One command instead of one per transfer, so a batch costs the
     * writer one submission, one decision and one reply. No idempotency key: a client retrying a
     * batch that may have been partly recorded cannot tell which parts to send again. From 1 to
     * {@link Limits#BATCH_TRANSFERS_MAX} transfers.
     */
    record TransferMoneyOneByOne(long fromAccountNumber, List<Transfer> transfers) implements Command {
        public TransferMoneyOneByOne {
            transfers = transfers == null ? List.of() : List.copyOf(transfers);
        }
    }

    /** One transfer of a {@link TransferMoneyAtomically} or a {@link TransferMoneyOneByOne}. */
    record Transfer(long toAccountNumber, long amount) {}

    /** Takes money out of a verified account. */
    record Withdraw(long accountNumber, long amount, Idempotency idempotency) implements Command {}

    /**
     * The holder closes the account: a verified one must hold nothing (its money is moved or
     * withdrawn first); an unverified one forfeits its opening bonus.
     */
    record CloseAccount(long accountNumber) implements Command {}

    /** An operator forgets a closed account's holder: the key of its personal fields is erased. */
    record ForgetAccount(long accountNumber) implements Command {}
}
