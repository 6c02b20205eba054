package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.core.VerificationCodes;
import eventbank.engine.write.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Draws random commands for engine tests, looking at a reference {@link Bank} to make most of
 * them plausible: opens (with explicit, taken or engine-chosen numbers, taken or invalid
 * emails), verifications with the right or a wrong code, transfers and withdrawals of every
 * kind, and retries of keyed commands with the same request or another one.
 */
final class CommandMix {
    private static final int RETRIES_KEPT = 40;

    private final SplittableRandom random;
    private final VerificationCodes codes;
    private final List<Long> accounts = new ArrayList<>();
    private final List<String> emails = new ArrayList<>();
    private final List<Command> keyed = new ArrayList<>();
    private long made;

    CommandMix(long seed, VerificationCodes codes) {
        this.random = new SplittableRandom(seed);
        this.codes = codes;
    }

    /** A source of 16-digit account numbers, the n-th a pure function of the seed and n. */
    static LongSupplier accountNumbers(long seed) {
        AtomicLong calls = new AtomicLong();
        long span = Limits.ACCOUNT_NUMBER_MAX - Limits.ACCOUNT_NUMBER_MIN + 1;
        return () -> Limits.ACCOUNT_NUMBER_MIN
                + Math.floorMod(HistoryClock.mix(seed * 7919 + calls.getAndIncrement()), span);
    }

    List<Long> accounts() {
        return accounts;
    }

    /** Remembers what the command did: a new account, a key to retry later. */
    void observe(Command command, Outcome outcome) {
        if (outcome instanceof Outcome.Committed committed) {
            for (Recorded recorded : committed.events()) {
                if (recorded.event() instanceof Event.AccountOpened opened) {
                    accounts.add(opened.accountNumber());
                    emails.add(opened.email());
                }
            }
        }
        if (keyOf(command) != null) {
            keyed.add(command);
            if (keyed.size() > RETRIES_KEPT) {
                keyed.remove(random.nextInt(keyed.size()));
            }
        }
    }

    Command next(Bank bank) {
        made++;
        int roll = random.nextInt(100);
        if (roll < 12 || accounts.size() < 2) {
            return open(bank);
        }
        if (roll < 26) {
            return verify(bank);
        }
        if (roll < 34 && !keyed.isEmpty()) {
            return retry(keyed.get(random.nextInt(keyed.size())));
        }
        if (roll < 75) {
            return transfer(bank, pick(), pick(), key("t"));
        }
        return withdraw(bank, pick(), key("w"));
    }

    Command open(Bank bank) {
        int numberRoll = random.nextInt(100);
        long number;
        if (numberRoll < 20) {
            number = 0; // the engine chooses
        } else if (numberRoll < 24 && !accounts.isEmpty()) {
            number = pick(); // taken
        } else if (numberRoll < 26) {
            number = random.nextLong(1, Limits.ACCOUNT_NUMBER_MIN); // too short
        } else {
            number = random.nextLong(Limits.ACCOUNT_NUMBER_MIN, Limits.ACCOUNT_NUMBER_MAX + 1);
        }
        int emailRoll = random.nextInt(100);
        String email;
        if (emailRoll < 6 && !emails.isEmpty()) {
            email = emails.get(random.nextInt(emails.size())).toUpperCase(java.util.Locale.ROOT); // taken
        } else if (emailRoll < 9) {
            email = "not-an-email-" + made;
        } else {
            email = "user" + made + "." + random.nextInt(1000) + "@example.com";
        }
        String hash = random.nextInt(100) < 2 ? "" : "$2a$04$hash" + made;
        long balance = random.nextInt(100) < 80 ? Limits.OPENING_BALANCE_DEFAULT : random.nextLong(0, 500_000);
        String key = key("o");
        return new Command.OpenAccount(number, email, hash, balance,
                key == null ? null : new Idempotency(key, "open:" + email + ":" + balance));
    }

    Command verify(Bank bank) {
        List<Long> unverified = accounts.stream().filter(account -> !bank.isVerified(account)).toList();
        long account = random.nextInt(100) < 5 ? unknownAccount()
                : !unverified.isEmpty() && random.nextInt(100) < 75 ? unverified.get(random.nextInt(unverified.size()))
                : pick();
        if (bank.exists(account) && random.nextInt(100) < 75) {
            return new Command.VerifyAccount(account, codes.codeFor(account, bank.openedSeqOf(account)));
        }
        String code = switch (random.nextInt(4)) {
            case 0 -> null;
            case 1 -> "";
            case 2 -> "wrong-" + random.nextInt(1000);
            default -> codes.codeFor(account, 1 + random.nextInt(300));
        };
        return new Command.VerifyAccount(account, code);
    }

    Command transfer(Bank bank, long from, long to, String key) {
        int roll = random.nextInt(100);
        long target = roll < 4 ? from : roll < 7 ? unknownAccount() : to;
        long amount = amount(bank, random.nextInt(100) < 3 ? unknownAccount() : from);
        return new Command.TransferMoney(random.nextInt(100) < 3 ? unknownAccount() : from, target, amount,
                key == null ? null : new Idempotency(key, "transfer:" + target + ":" + amount));
    }

    /**
     * An all-or-none batch of {@code size} transfers from {@code from}, each small enough that
     * the whole batch usually fits the balance unless {@code failAt} (0-based, or -1) names one
     * made to fail (an amount of zero).
     */
    Command transferAll(Bank bank, long from, int size, int failAt, String key) {
        long balance = bank.exists(from) ? bank.balanceOf(from) : 0;
        long each = Math.max(1, balance / Math.max(1, size) / 2);
        List<Command.Transfer> transfers = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            long to;
            do {
                to = pick();
            } while (to == from && accounts.size() > 1);
            transfers.add(new Command.Transfer(to, i == failAt ? 0 : 1 + random.nextLong(each)));
        }
        return new Command.TransferMoneyAtomically(from, transfers,
                key == null ? null : new Idempotency(key, "batch:" + transfers.hashCode()));
    }

    /**
     * A batch of {@code size} transfers from {@code from} decided one by one: recipients of every
     * kind (sometimes the sender, an unknown account, an unverified or closed one) and amounts
     * drawn as for single transfers, so that some overdraw between others that fit.
     */
    Command transferEach(Bank bank, long from, int size) {
        List<Command.Transfer> transfers = new ArrayList<>(size);
        long balance = bank.exists(from) ? bank.balanceOf(from) : 100_000;
        for (int i = 0; i < size; i++) {
            int roll = random.nextInt(100);
            long to = roll < 3 ? from : roll < 6 ? unknownAccount() : pick();
            long amount = random.nextInt(100) < 10 ? balance + 1 : 1 + random.nextLong(Math.max(1, balance / 4));
            transfers.add(new Command.Transfer(to, roll < 8 ? -amount : amount));
        }
        return new Command.TransferMoneyOneByOne(from, transfers);
    }

    Command withdraw(Bank bank, long account, String key) {
        long amount = amount(bank, account);
        return new Command.Withdraw(account, amount, key == null ? null : new Idempotency(key, "withdraw:" + amount));
    }

    /** The same command again, or the same key with another request. */
    private Command retry(Command earlier) {
        boolean same = random.nextInt(100) < 70;
        return switch (earlier) {
            case Command.OpenAccount c -> same ? c : new Command.OpenAccount(c.accountNumber(), c.email() + ".org",
                    c.passwordHash(), c.openingBalance(), new Idempotency(c.idempotency().key(), "other"));
            case Command.TransferMoney c -> same ? c : new Command.TransferMoney(c.fromAccountNumber(),
                    c.toAccountNumber(), c.amount() + 1, new Idempotency(c.idempotency().key(), "other"));
            case Command.Withdraw c -> same ? c : new Command.Withdraw(c.accountNumber(), c.amount() + 1,
                    new Idempotency(c.idempotency().key(), "other"));
            case Command.TransferMoneyAtomically c -> same ? c : new Command.TransferMoneyAtomically(
                    c.fromAccountNumber(), c.transfers().subList(0, 1), new Idempotency(c.idempotency().key(), "other"));
            case Command.TransferMoneyOneByOne c -> c;
            case Command.CloseAccount c -> c;
            case Command.ForgetAccount c -> c;
            case Command.VerifyAccount c -> c;
        };
    }

    private long amount(Bank bank, long account) {
        long balance = bank.exists(account) ? bank.balanceOf(account) : 100_000;
        int roll = random.nextInt(100);
        if (roll < 3) {
            return -random.nextLong(0, 100); // zero or below
        }
        if (roll < 5) {
            return Limits.AMOUNT_MAX + 1;
        }
        if (roll < 12) {
            return balance + 1 + random.nextLong(0, 1_000); // one cent or more too many
        }
        if (roll < 16 && balance > 0) {
            return balance; // down to exactly zero
        }
        return 1 + random.nextLong(0, Math.max(1, balance / 3));
    }

    private long pick() {
        return accounts.isEmpty() ? unknownAccount() : accounts.get(random.nextInt(accounts.size()));
    }

    private long unknownAccount() {
        return random.nextLong(Limits.ACCOUNT_NUMBER_MIN, Limits.ACCOUNT_NUMBER_MAX + 1);
    }

    /** A fresh key, two times in five; keys are unique, and scoped by the command anyway. */
    private String key(String prefix) {
        return random.nextInt(100) < 40 ? prefix + "-" + made + "-" + random.nextInt(1_000_000) : null;
    }

    /**
     * The command's key as its event records it: an opening's without its fingerprint, since the
     * core records none for it and answers any earlier use of the key (issue 10, finding 5).
     */
    static Idempotency keyOf(Command command) {
        return switch (command) {
            case Command.OpenAccount c -> c.idempotency() == null ? null : c.idempotency().withoutFingerprint();
            case Command.VerifyAccount c -> null;
            case Command.TransferMoney c -> c.idempotency();
            case Command.TransferMoneyAtomically c -> c.idempotency();
            case Command.TransferMoneyOneByOne c -> null;
            case Command.Withdraw c -> c.idempotency();
            case Command.CloseAccount c -> null;
            case Command.ForgetAccount c -> null;
        };
    }
}
