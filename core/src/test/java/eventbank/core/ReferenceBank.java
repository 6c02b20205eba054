package eventbank.core;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The bank's rules written again, as plainly as possible, for the auditor to check the real
 * bank against: hash maps, no arrays, no digests, and no code shared with {@link Bank},
 * {@link Decider}, {@link Limits} or {@link HmacVerificationCodes}. Only the command, event
 * and decision records are shared, because they are the interface both sides speak.
 *
 * <p>When a command breaks several rules, the answer is the first broken rule in the order
 * each method below checks them; that order is part of the contract the auditor pins down.
 */
final class ReferenceBank {
    private static final long MAXIMUM_AMOUNT = 1_000_000_000_000L;
    private static final Pattern ACCOUNT_NUMBER = Pattern.compile("[1-9][0-9]{15}");
    /** Something, one @, then dot-separated non-empty labels; no spaces or control characters. */
    private static final Pattern EMAIL =
            Pattern.compile("[^@\\s\\p{Cntrl}]+@[^@\\s\\p{Cntrl}.]+(\\.[^@\\s\\p{Cntrl}.]+)+");

    static final class Account {
        final long openedSeq;
        long balance;
        boolean verified;
        boolean closed;
        boolean sealed;
        boolean forgotten;
        String lowerCaseEmail;

        Account(long openedSeq, long balance) {
            this.openedSeq = openedSeq;
            this.balance = balance;
        }
    }

    /** An accepted command's key: what it was sent with, and when it was recorded. */
    record KeyUse(String fingerprint, long seq, long timeMicros) {}

    private final byte[] serverKey;
    private final long keyWindowMicros;
    private final Map<Long, Account> accounts = new HashMap<>();
    private final List<Long> accountNumbers = new ArrayList<>();
    private final Set<String> lowerCaseEmails = new HashSet<>();
    private final List<String> emails = new ArrayList<>();
    private final Map<String, KeyUse> openingKeys = new HashMap<>();
    private final Map<Long, Map<String, KeyUse>> accountKeys = new HashMap<>();
    private final List<Recorded> log = new ArrayList<>();
    private long openedTotal;
    private long withdrawnTotal;
    private long forfeitedTotal;

    ReferenceBank(byte[] serverKey, long keyWindowMicros) {
        this.serverKey = serverKey.clone();
        this.keyWindowMicros = keyWindowMicros;
    }

    // ---- The rules ----

    Decision decide(Command command, long nowMicros) {
        return switch (command) {
            case Command.OpenAccount c -> open(c, nowMicros);
            case Command.VerifyAccount c -> verify(c);
            case Command.TransferMoney c -> transfer(c, nowMicros);
            case Command.TransferMoneyAtomically c -> transferAll(c, nowMicros);
            case Command.TransferMoneyOneByOne c -> transferEach(c);
            case Command.Withdraw c -> withdraw(c, nowMicros);
            case Command.CloseAccount c -> close(c);
            case Command.ForgetAccount c -> forget(c);
        };
    }

    private Decision open(Command.OpenAccount c, long now) {
        // An opening's key names its first use whatever the body: the server compares the values.
        Decision earlier = c.idempotency() == null ? null
                : earlierUse(openingKeys, c.idempotency().withoutFingerprint(), now);
        if (earlier != null) {
            return earlier;
        }
        if (c.email() == null || c.email().length() > 254 || !EMAIL.matcher(c.email()).matches()) {
            return rejected(Rejection.EMAIL_INVALID);
        }
        if (c.passwordHash() == null || c.passwordHash().isEmpty() || c.passwordHash().length() > 512) {
            return rejected(Rejection.PASSWORD_HASH_INVALID);
        }
        if (c.openingBalance() < 0 || c.openingBalance() > MAXIMUM_AMOUNT) {
            return rejected(Rejection.OPENING_BALANCE_INVALID);
        }
        boolean wellFormed = ACCOUNT_NUMBER.matcher(Long.toString(c.accountNumber())).matches();
        if (!wellFormed || accounts.containsKey(c.accountNumber())) {
            return rejected(Rejection.ACCOUNT_NUMBER_TAKEN);
        }
        if (lowerCaseEmails.contains(c.email().toLowerCase(Locale.ROOT))) {
            return rejected(Rejection.EMAIL_TAKEN);
        }
        return accepted(new Event.AccountOpened(c.accountNumber(), c.email(), c.passwordHash(),
                c.openingBalance(), c.idempotency() == null ? null : c.idempotency().withoutFingerprint()));
    }

    private Decision verify(Command.VerifyAccount c) {
        Account account = accounts.get(c.accountNumber());
        if (account == null) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (!codeFor(c.accountNumber(), account.openedSeq).equals(c.code())) {
            return rejected(Rejection.WRONG_CODE);
        }
        if (account.closed && !account.verified) {
            return rejected(Rejection.ACCOUNT_CLOSED);
        }
        if (account.verified) {
            return new Decision.Accepted(List.of());
        }
        return accepted(new Event.AccountVerified(c.accountNumber()));
    }

    private Decision transfer(Command.TransferMoney c, long now) {
        Decision earlier = earlierUse(keysOf(c.fromAccountNumber()), c.idempotency(), now);
        if (earlier != null) {
            return earlier;
        }
        Rejection problem = transferProblem(c.fromAccountNumber(), c.toAccountNumber(), c.amount(), 0);
        if (problem != null) {
            return rejected(problem);
        }
        return accepted(new Event.MoneyTransferred(c.fromAccountNumber(), c.toAccountNumber(), c.amount(),
                c.idempotency()));
    }

    /** All or none: as if each were sent alone, in order, and the first refused undid the others. */
    private Decision transferAll(Command.TransferMoneyAtomically c, long now) {
        Decision earlier = earlierUse(keysOf(c.fromAccountNumber()), c.idempotency(), now);
        if (earlier != null) {
            return earlier;
        }
        if (c.transfers().isEmpty() || c.transfers().size() > 1000) {
            return rejected(Rejection.BATCH_SIZE_INVALID);
        }
        List<Event> events = new ArrayList<>();
        long spent = 0;
        for (int i = 0; i < c.transfers().size(); i++) {
            Command.Transfer t = c.transfers().get(i);
            Rejection problem = transferProblem(c.fromAccountNumber(), t.toAccountNumber(), t.amount(), spent);
            if (problem != null) {
                return new Decision.Rejected(problem, i);
            }
            spent += t.amount();
            events.add(new Event.MoneyTransferred(c.fromAccountNumber(), t.toAccountNumber(), t.amount(),
                    i == 0 ? c.idempotency() : null));
        }
        return new Decision.Accepted(events);
    }

    /** One by one: each as if sent alone, in order, right after the ones before it. */
    private Decision transferEach(Command.TransferMoneyOneByOne c) {
        if (c.transfers().isEmpty() || c.transfers().size() > 1000) {
            return rejected(Rejection.BATCH_SIZE_INVALID);
        }
        List<Decision> parts = new ArrayList<>();
        long spent = 0;
        for (Command.Transfer t : c.transfers()) {
            Rejection problem = transferProblem(c.fromAccountNumber(), t.toAccountNumber(), t.amount(), spent);
            if (problem != null) {
                parts.add(new Decision.Rejected(problem));
            } else {
                spent += t.amount();
                parts.add(accepted(new Event.MoneyTransferred(c.fromAccountNumber(), t.toAccountNumber(), t.amount(),
                        null)));
            }
        }
        return new Decision.OneByOne(parts);
    }

    /** Why one transfer is refused when {@code spent} has already left the sender in this command. */
    private Rejection transferProblem(long fromNumber, long toNumber, long amount, long spent) {
        Rejection amountProblem = amountProblem(amount);
        if (amountProblem != null) {
            return amountProblem;
        }
        Account from = accounts.get(fromNumber);
        Account to = accounts.get(toNumber);
        if (from == null) {
            return Rejection.ACCOUNT_NOT_FOUND;
        }
        if (to == null) {
            return Rejection.RECIPIENT_NOT_FOUND;
        }
        if (from == to) {
            return Rejection.SAME_ACCOUNT;
        }
        if (from.closed) {
            return Rejection.ACCOUNT_CLOSED;
        }
        if (to.closed) {
            return Rejection.RECIPIENT_CLOSED;
        }
        if (!from.verified) {
            return Rejection.ACCOUNT_NOT_VERIFIED;
        }
        if (!to.verified) {
            return Rejection.RECIPIENT_NOT_VERIFIED;
        }
        if (from.balance - spent < amount) {
            return Rejection.INSUFFICIENT_FUNDS;
        }
        return null;
    }

    private Decision withdraw(Command.Withdraw c, long now) {
        Decision earlier = earlierUse(keysOf(c.accountNumber()), c.idempotency(), now);
        if (earlier != null) {
            return earlier;
        }
        Rejection amountProblem = amountProblem(c.amount());
        if (amountProblem != null) {
            return rejected(amountProblem);
        }
        Account account = accounts.get(c.accountNumber());
        if (account == null) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (account.closed) {
            return rejected(Rejection.ACCOUNT_CLOSED);
        }
        if (!account.verified) {
            return rejected(Rejection.ACCOUNT_NOT_VERIFIED);
        }
        if (account.balance < c.amount()) {
            return rejected(Rejection.INSUFFICIENT_FUNDS);
        }
        return accepted(new Event.MoneyWithdrawn(c.accountNumber(), c.amount(), c.idempotency()));
    }

    private Decision close(Command.CloseAccount c) {
        Account account = accounts.get(c.accountNumber());
        if (account == null) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (account.closed) {
            return rejected(Rejection.ACCOUNT_CLOSED);
        }
        if (account.verified && account.balance != 0) {
            return rejected(Rejection.BALANCE_NOT_ZERO);
        }
        return accepted(new Event.AccountClosed(c.accountNumber(), account.verified ? 0 : account.balance));
    }

    private Decision forget(Command.ForgetAccount c) {
        Account account = accounts.get(c.accountNumber());
        if (account == null) {
            return rejected(Rejection.ACCOUNT_NOT_FOUND);
        }
        if (!account.sealed) {
            return rejected(Rejection.ACCOUNT_NOT_FORGETTABLE);
        }
        if (!account.closed) {
            return rejected(Rejection.ACCOUNT_NOT_CLOSED);
        }
        return account.forgotten ? new Decision.Accepted(List.of())
                : accepted(new Event.AccountForgotten(c.accountNumber()));
    }

    private Decision earlierUse(Map<String, KeyUse> keys, Idempotency idempotency, long now) {
        if (idempotency == null) {
            return null;
        }
        KeyUse use = keys.get(idempotency.key());
        if (use == null || now - use.timeMicros() > keyWindowMicros) {
            return null;
        }
        return use.fingerprint().equals(idempotency.fingerprint())
                ? new Decision.Replayed(use.seq())
                : rejected(Rejection.IDEMPOTENCY_KEY_REUSED);
    }

    private static Rejection amountProblem(long amount) {
        if (amount <= 0) {
            return Rejection.AMOUNT_NOT_POSITIVE;
        }
        return amount > MAXIMUM_AMOUNT ? Rejection.AMOUNT_TOO_LARGE : null;
    }

    // ---- Applying what was accepted ----

    void apply(long seq, long timeMicros, Event event) {
        switch (event) {
            case Event.AccountOpened e -> {
                Account account = new Account(seq, e.openingBalance());
                account.sealed = e.personal().sealed();
                account.lowerCaseEmail = e.email().toLowerCase(Locale.ROOT);
                accounts.put(e.accountNumber(), account);
                accountNumbers.add(e.accountNumber());
                lowerCaseEmails.add(account.lowerCaseEmail);
                emails.add(e.email());
                openedTotal += e.openingBalance();
                remember(openingKeys, e.idempotency(), seq, timeMicros);
            }
            case Event.AccountVerified e -> accounts.get(e.accountNumber()).verified = true;
            case Event.MoneyTransferred e -> {
                accounts.get(e.fromAccountNumber()).balance -= e.amount();
                accounts.get(e.toAccountNumber()).balance += e.amount();
                remember(keysOf(e.fromAccountNumber()), e.idempotency(), seq, timeMicros);
            }
            case Event.MoneyWithdrawn e -> {
                accounts.get(e.accountNumber()).balance -= e.amount();
                withdrawnTotal += e.amount();
                remember(keysOf(e.accountNumber()), e.idempotency(), seq, timeMicros);
            }
            case Event.AccountClosed e -> {
                Account account = accounts.get(e.accountNumber());
                account.balance -= e.forfeited();
                forfeitedTotal += e.forfeited();
                account.closed = true;
            }
            case Event.AccountForgotten e -> {
                Account account = accounts.get(e.accountNumber());
                account.forgotten = true;
                lowerCaseEmails.remove(account.lowerCaseEmail);
                emails.removeIf(email -> email.toLowerCase(Locale.ROOT).equals(account.lowerCaseEmail));
            }
        }
        log.add(new Recorded(seq, timeMicros, event));
    }

    private static void remember(Map<String, KeyUse> keys, Idempotency idempotency, long seq, long time) {
        if (idempotency != null) {
            keys.put(idempotency.key(), new KeyUse(idempotency.fingerprint(), seq, time));
        }
    }

    private Map<String, KeyUse> keysOf(long accountNumber) {
        return accountKeys.computeIfAbsent(accountNumber, number -> new HashMap<>());
    }

    private static Decision rejected(Rejection reason) {
        return new Decision.Rejected(reason);
    }

    private static Decision accepted(Event event) {
        return new Decision.Accepted(List.of(event));
    }

    // ---- What the auditor compares and the generator draws from ----

    /** HMAC-SHA256 of the account number and the seq of its opening, base64url without padding. */
    String codeFor(long accountNumber, long openedSeq) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(serverKey, "HmacSHA256"));
            byte[] message = ByteBuffer.allocate(16).putLong(accountNumber).putLong(openedSeq).array();
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(message));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    Account account(long accountNumber) {
        return accounts.get(accountNumber);
    }

    /** Account numbers in the order they were opened. */
    List<Long> accountNumbers() {
        return accountNumbers;
    }

    /** Emails as they were first written, in the order accounts were opened. */
    List<String> emails() {
        return emails;
    }

    List<Recorded> log() {
        return log;
    }

    /** How many keys are still remembered at this time, over every scope. */
    int keysRememberedAt(long nowMicros) {
        int count = 0;
        List<Map<String, KeyUse>> scopes = new ArrayList<>(accountKeys.values());
        scopes.add(openingKeys);
        for (Map<String, KeyUse> keys : scopes) {
            for (KeyUse use : keys.values()) {
                if (nowMicros - use.timeMicros() <= keyWindowMicros) {
                    count++;
                }
            }
        }
        return count;
    }

    long openedTotal() {
        return openedTotal;
    }

    long forfeitedTotal() {
        return forfeitedTotal;
    }

    long withdrawnTotal() {
        return withdrawnTotal;
    }

    long balanceTotal() {
        long total = 0;
        for (Account account : accounts.values()) {
            total += account.balance;
        }
        return total;
    }
}
