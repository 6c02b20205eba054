package eventbank.core;

import java.util.List;

/**
 * The bank's rules: {@code decide(bank, command, now)} answers the events to record or a
 * rejection, and never changes the bank. It reads no clock and no random source: the time is
 * a parameter, stamped by the sequencer, and only used to let idempotency keys expire.
 */
public final class Decider {
    private final VerificationCodes codes;

    public Decider(VerificationCodes codes) {
        this.codes = codes;
    }

    public Decision decide(Bank bank, Command command, long nowMicros) {
        return switch (command) {
            case Command.OpenAccount c -> open(bank, c, nowMicros);
            case Command.VerifyAccount c -> verify(bank, c);
            case Command.TransferMoney c -> transfer(bank, c, nowMicros);
            case Command.TransferMoneyAtomically c -> transferAtomically(bank, c, nowMicros);
            case Command.TransferMoneyOneByOne c -> transferOneByOne(bank, c);
            case Command.Withdraw c -> withdraw(bank, c, nowMicros);
            case Command.CloseAccount c -> close(bank, c);
            case Command.ForgetAccount c -> forget(bank, c);
        };
    }

    private Decision open(Bank bank, Command.OpenAccount c, long now) {
        // Any live earlier use of an opening's key is answered with its seq, whatever the
        // fingerprint: the server compares the retry's email and, by bcrypt, its password with the
        // opening recorded there (see Idempotency), which the core cannot do without a hasher.
        IdempotencyLog.Entry earlier = c.idempotency() == null ? null
                : bank.findIdempotency(IdempotencyLog.SCOPE_OPENING, c.idempotency().key(), now);
        if (earlier != null) {
            return new Decision.Replayed(earlier.seq());
        }
        if (!isEmail(c.email())) {
            return rejected(Rejection.EMAIL_INVALID);
        }
        if (c.passwordHash() == null || c.passwordHash().isEmpty()
                || c.passwordHash().length() > Limits.PASSWORD_HASH_LENGTH_MAX) {
            return rejected(Rejection.PASSWORD_HASH_INVALID);
        }
        if (c.openingBalance() < 0 || c.openingBalance() > Limits.AMOUNT_MAX) {
            return rejected(Rejection.OPENING_BALANCE_INVALID);
        }
        if (!Limits.isAccountNumber(c.accountNumber()) || bank.exists(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_NUMBER_TAKEN);
        }
        if (bank.isEmailTaken(c.email())) {
            return rejected(Rejection.EMAIL_TAKEN);
        }
        // Recorded without a fingerprint, whatever the caller computed: nothing kept for good may
        // let a password be checked faster than bcrypt.
        return accepted(new Event.AccountOpened(c.accountNumber(), c.email(), c.passwordHash(),
                c.openingBalance(), c.idempotency() == null ? null : c.idempotency().withoutFingerprint()));
    }

    private Decision verify(Bank bank, Command.VerifyAccount c) {
        if (!bank.exists(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (!codes.matches(c.accountNumber(), bank.openedSeqOf(c.accountNumber()), c.code())) {
            return rejected(Rejection.WRONG_CODE);
        }
        if (bank.isClosed(c.accountNumber()) && !bank.isVerified(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_CLOSED);
        }
        if (bank.isVerified(c.accountNumber())) {
            // Mail scanners follow links: a second visit is fine and records nothing.
            return new Decision.Accepted(List.of());
        }
        return accepted(new Event.AccountVerified(c.accountNumber()));
    }

    private Decision transfer(Bank bank, Command.TransferMoney c, long now) {
        Decision earlier = earlierUse(bank, c.fromAccountNumber(), c.idempotency(), now);
        if (earlier != null) {
            return earlier;
        }
        Rejection problem = checkTransfer(bank, c.fromAccountNumber(), c.toAccountNumber(), c.amount(),
                bank.exists(c.fromAccountNumber()) ? bank.balanceOf(c.fromAccountNumber()) : 0);
        if (problem != null) {
            return rejected(problem);
        }
        return accepted(new Event.MoneyTransferred(c.fromAccountNumber(), c.toAccountNumber(), c.amount(),
                c.idempotency()));
    }

    /**
     * All or none: each transfer is checked as a single one would be, against the sender's
     * balance as the earlier transfers leave it (they only lower the sender's balance, since a
     * transfer to oneself is refused); the first refused names its index.
     */
    private Decision transferAtomically(Bank bank, Command.TransferMoneyAtomically c, long now) {
        Decision earlier = earlierUse(bank, c.fromAccountNumber(), c.idempotency(), now);
        if (earlier != null) {
            return earlier;
        }
        List<Command.Transfer> transfers = c.transfers();
        if (transfers.isEmpty() || transfers.size() > Limits.BATCH_TRANSFERS_MAX) {
            return rejected(Rejection.BATCH_SIZE_INVALID);
        }
        long from = c.fromAccountNumber();
        long balance = bank.exists(from) ? bank.balanceOf(from) : 0;
        List<Event> events = new java.util.ArrayList<>(transfers.size());
        for (int index = 0; index < transfers.size(); index++) {
            Command.Transfer transfer = transfers.get(index);
            Rejection problem = checkTransfer(bank, from, transfer.toAccountNumber(), transfer.amount(), balance);
            if (problem != null) {
                return new Decision.Rejected(problem, index);
            }
            balance -= transfer.amount();
            events.add(new Event.MoneyTransferred(from, transfer.toAccountNumber(), transfer.amount(),
                    index == 0 ? c.idempotency() : null));
        }
        return new Decision.Accepted(events);
    }

    /**
     * Each transfer on its own, as if sent alone at its turn: checked as a single one is, against
     * the sender's balance as the accepted transfers before it leave it. Nothing else a transfer
     * changes matters to the next: it only raises the recipient's balance (a transfer to oneself
     * is refused), and no transfer opens, verifies or closes an account.
     */
    private static Decision transferOneByOne(Bank bank, Command.TransferMoneyOneByOne c) {
        List<Command.Transfer> transfers = c.transfers();
        if (transfers.isEmpty() || transfers.size() > Limits.BATCH_TRANSFERS_MAX) {
            return rejected(Rejection.BATCH_SIZE_INVALID);
        }
        long from = c.fromAccountNumber();
        long balance = bank.exists(from) ? bank.balanceOf(from) : 0;
        List<Decision> parts = new java.util.ArrayList<>(transfers.size());
        for (Command.Transfer transfer : transfers) {
            Rejection problem = checkTransfer(bank, from, transfer.toAccountNumber(), transfer.amount(), balance);
            if (problem != null) {
                parts.add(rejected(problem));
            } else {
                balance -= transfer.amount();
                parts.add(accepted(new Event.MoneyTransferred(from, transfer.toAccountNumber(), transfer.amount(),
                        null)));
            }
        }
        return new Decision.OneByOne(parts);
    }

    /** The reason to refuse one transfer when the sender holds {@code balance}, or null. */
    private static Rejection checkTransfer(Bank bank, long from, long to, long amount, long balance) {
        Rejection amountProblem = checkAmount(amount);
        if (amountProblem != null) {
            return amountProblem;
        }
        if (!bank.exists(from)) {
            return Rejection.ACCOUNT_NOT_FOUND;
        }
        if (!bank.exists(to)) {
            return Rejection.RECIPIENT_NOT_FOUND;
        }
        if (from == to) {
            return Rejection.SAME_ACCOUNT;
        }
        if (bank.isClosed(from)) {
            return Rejection.ACCOUNT_CLOSED;
        }
        if (bank.isClosed(to)) {
            return Rejection.RECIPIENT_CLOSED;
        }
        if (!bank.isVerified(from)) {
            return Rejection.ACCOUNT_NOT_VERIFIED;
        }
        if (!bank.isVerified(to)) {
            return Rejection.RECIPIENT_NOT_VERIFIED;
        }
        if (balance < amount) {
            return Rejection.INSUFFICIENT_FUNDS;
        }
        return null;
    }

    private Decision withdraw(Bank bank, Command.Withdraw c, long now) {
        Decision earlier = earlierUse(bank, c.accountNumber(), c.idempotency(), now);
        if (earlier != null) {
            return earlier;
        }
        Rejection amountProblem = checkAmount(c.amount());
        if (amountProblem != null) {
            return rejected(amountProblem);
        }
        if (!bank.exists(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (bank.isClosed(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_CLOSED);
        }
        if (!bank.isVerified(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_NOT_VERIFIED);
        }
        if (bank.balanceOf(c.accountNumber()) < c.amount()) {
            return rejected(Rejection.INSUFFICIENT_FUNDS);
        }
        return accepted(new Event.MoneyWithdrawn(c.accountNumber(), c.amount(), c.idempotency()));
    }

    /**
     * A verified account closes at a balance of zero. An unverified one closes whatever it holds,
     * which can only be its opening bonus (it could neither send nor receive), and forfeits it.
     */
    private static Decision close(Bank bank, Command.CloseAccount c) {
        long account = c.accountNumber();
        if (!bank.exists(account)) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (bank.isClosed(account)) {
            return rejected(Rejection.ACCOUNT_CLOSED);
        }
        long balance = bank.balanceOf(account);
        if (bank.isVerified(account)) {
            return balance == 0 ? accepted(new Event.AccountClosed(account, 0)) : rejected(Rejection.BALANCE_NOT_ZERO);
        }
        return accepted(new Event.AccountClosed(account, balance));
    }

    /**
     * A closed account whose personal fields were sealed is forgotten; a second time records
     * nothing. One opened before sealing cannot be, closed or not: its fields are in the log.
     */
    private static Decision forget(Bank bank, Command.ForgetAccount c) {
        long account = c.accountNumber();
        if (!bank.exists(account)) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (!bank.isSealed(account)) {
            return rejected(Rejection.ACCOUNT_NOT_FORGETTABLE);
        }
        if (!bank.isClosed(account)) {
            return rejected(Rejection.ACCOUNT_NOT_CLOSED);
        }
        if (bank.isForgotten(account)) {
            return new Decision.Accepted(List.of());
        }
        return accepted(new Event.AccountForgotten(account));
    }

    /**
     * Answers the first outcome when this key was accepted before with the same request, a
     * rejection when it was accepted with another request, and null when the key is fresh.
     * Only accepted commands consume a key, so a rejected request may be retried.
     */
    private static Decision earlierUse(Bank bank, long scope, Idempotency idempotency, long now) {
        if (idempotency == null) {
            return null;
        }
        IdempotencyLog.Entry entry = bank.findIdempotency(scope, idempotency.key(), now);
        if (entry == null) {
            return null;
        }
        return entry.fingerprint().equals(idempotency.fingerprint())
                ? new Decision.Replayed(entry.seq())
                : rejected(Rejection.IDEMPOTENCY_KEY_REUSED);
    }

    private static Rejection checkAmount(long amount) {
        if (amount < Limits.AMOUNT_MIN) {
            return Rejection.AMOUNT_NOT_POSITIVE;
        }
        return amount > Limits.AMOUNT_MAX ? Rejection.AMOUNT_TOO_LARGE : null;
    }

    /**
     * A deliberately plain check: one {@code @}, something on each side, a dot in the domain, no
     * white space or control characters, at most 254 characters. The verification mail is the
     * real test of an address.
     */
    static boolean isEmail(String email) {
        if (email == null || email.length() < 5 || email.length() > Limits.EMAIL_LENGTH_MAX) {
            return false;
        }
        int at = email.indexOf('@');
        if (at <= 0 || at != email.lastIndexOf('@')) {
            return false;
        }
        String domain = email.substring(at + 1);
        int dot = domain.lastIndexOf('.');
        if (dot <= 0 || dot == domain.length() - 1 || domain.startsWith(".") || domain.contains("..")) {
            return false;
        }
        return email.codePoints().noneMatch(c -> c <= 0x20 || c == 0x7f || Character.isWhitespace(c)
                || Character.isISOControl(c));
    }

    private static Decision rejected(Rejection reason) {
        return new Decision.Rejected(reason);
    }

    private static Decision accepted(Event event) {
        return new Decision.Accepted(List.of(event));
    }
}
