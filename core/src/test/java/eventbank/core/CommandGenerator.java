package eventbank.core;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws the auditor's random commands: mostly plausible ones, with a steady share of every
 * mistake a client can make (taken emails in another case, taken or malformed numbers, wrong
 * codes, unknown accounts, amounts of zero, below zero, too large or one cent too many) and
 * retries with the same idempotency key, for the same request or for another.
 */
final class CommandGenerator {
    private static final long MAXIMUM_AMOUNT = 1_000_000_000_000L;
    private static final List<String> INVALID_EMAILS = List.of("", "plainaddress", "@example.com",
            "user@", "user@@example.com", "user@example", "user@.example.com", "user@example..com",
            "user@example.com.", "us er@example.com", "user@exa\tmple.com", "x".repeat(250) + "@example.com");
    private static final int RETRIES_KEPT = 20;

    private final SplittableRandom random;
    private final ReferenceBank model;
    /** Recent commands sent with a key, whatever their outcome, to be sent again. */
    private final List<Command> keyed = new ArrayList<>();
    private int emailsMade;

    CommandGenerator(SplittableRandom random, ReferenceBank model) {
        this.random = random;
        this.model = model;
    }

    Command next() {
        int roll = random.nextInt(100);
        Command command;
        if (roll < 15 || model.accountNumbers().isEmpty()) {
            command = open();
        } else if (roll < 30) {
            command = verify();
        } else if (roll < 40 && !keyed.isEmpty()) {
            command = retry(keyed.get(random.nextInt(keyed.size())));
        } else if (roll < 52) {
            command = transferAll(pickAccount(), null);
        } else if (roll < 62) {
            command = transferEach(pickAccount());
        } else if (roll < 70) {
            command = transfer(pickAccount(), pickAccount(), null);
        } else if (roll < 72) {
            // Rarely, so that most accounts stay open: closed ones refuse everything after.
            command = new Command.CloseAccount(pickAccount());
        } else if (roll < 73) {
            command = new Command.ForgetAccount(pickAccount());
        } else {
            command = withdraw(pickAccount(), null);
        }
        return command;
    }

    // ---- Commands ----

    private Command open() {
        String email = email();
        return new Command.OpenAccount(accountNumberToOpen(), email, passwordHash(), openingBalance(),
                maybeKey("open:" + email));
    }

    private Command verify() {
        long account = random.nextInt(100) < 70 ? pickUnverifiedAccount() : pickAccount();
        ReferenceBank.Account known = model.account(account);
        if (known != null && random.nextInt(100) < 65) {
            return new Command.VerifyAccount(account, model.codeFor(account, known.openedSeq));
        }
        String code = switch (random.nextInt(4)) {
            case 0 -> null;
            case 1 -> "";
            case 2 -> "not-a-code-" + random.nextInt(1000);
            default -> model.codeFor(account, 1 + random.nextInt(300));
        };
        return new Command.VerifyAccount(account, code);
    }

    private Command transfer(long from, long to, String key) {
        long amount = amount(balanceOrGuess(from));
        String body = "transfer:" + to + ":" + amount;
        return new Command.TransferMoney(from, to, amount, key == null ? maybeKey(body) : withKey(key, body));
    }

    /**
     * An all-or-none batch: mostly a few transfers, each drawn as a single one would be (so the
     * later ones often overdraw), sometimes none or one too many.
     */
    private Command transferAll(long from, String key) {
        int roll = random.nextInt(100);
        int size = roll < 3 ? 0 : roll < 5 ? 1_001 : 1 + random.nextInt(5);
        List<Command.Transfer> transfers = new ArrayList<>(size);
        StringBuilder body = new StringBuilder("batch");
        long guess = balanceOrGuess(from);
        for (int i = 0; i < size; i++) {
            long to = size > 5 ? pickKnownOrAny() : pickAccount();
            long amount = size > 5 ? 1 : amount(Math.max(1, guess / 2));
            transfers.add(new Command.Transfer(to, amount));
            body.append(':').append(to).append(':').append(amount);
        }
        String text = body.toString();
        return new Command.TransferMoneyAtomically(from, transfers, key == null ? maybeKey(text) : withKey(key, text));
    }

    /**
     * A batch decided one by one: as an all-or-none one is drawn, so that later transfers often
     * overdraw and are refused between accepted ones; no key.
     */
    private Command transferEach(long from) {
        int roll = random.nextInt(100);
        int size = roll < 3 ? 0 : roll < 5 ? 1_001 : 1 + random.nextInt(6);
        List<Command.Transfer> transfers = new ArrayList<>(size);
        long guess = balanceOrGuess(from);
        for (int i = 0; i < size; i++) {
            long to = size > 6 ? pickKnownOrAny() : pickAccount();
            long amount = size > 6 ? 1 : amount(Math.max(1, guess / 2));
            transfers.add(new Command.Transfer(to, amount));
        }
        return new Command.TransferMoneyOneByOne(from, transfers);
    }

    private long pickKnownOrAny() {
        return model.accountNumbers().isEmpty() ? randomAccountNumber() : pickKnownAccount();
    }

    private Command withdraw(long account, String key) {
        long amount = amount(balanceOrGuess(account));
        String body = "withdraw:" + amount;
        return new Command.Withdraw(account, amount, key == null ? maybeKey(body) : withKey(key, body));
    }

    /**
     * A client sending a keyed command again: mostly the very same request (a retry after a
     * lost reply), sometimes another request under the same key (a client bug). A retried
     * opening gets a new account number, because the server chooses one for every request.
     */
    private Command retry(Command earlier) {
        boolean same = random.nextInt(100) < 70;
        return switch (earlier) {
            case Command.OpenAccount c -> same
                    ? new Command.OpenAccount(accountNumberToOpen(), c.email(), c.passwordHash(),
                            c.openingBalance(), c.idempotency())
                    : new Command.OpenAccount(accountNumberToOpen(), email(), passwordHash(), openingBalance(),
                            withKey(c.idempotency().key(), "open:other-" + random.nextInt(1000)));
            case Command.TransferMoney c -> same ? c
                    : transfer(c.fromAccountNumber(), pickAccount(), c.idempotency().key());
            case Command.TransferMoneyAtomically c -> same ? c : transferAll(c.fromAccountNumber(),
                    c.idempotency().key());
            case Command.TransferMoneyOneByOne c -> c;
            case Command.Withdraw c -> same ? c : withdraw(c.accountNumber(), c.idempotency().key());
            case Command.VerifyAccount c -> c;
            case Command.CloseAccount c -> c;
            case Command.ForgetAccount c -> c;
        };
    }

    // ---- Fields ----

    private long accountNumberToOpen() {
        int roll = random.nextInt(100);
        if (roll < 10 && !model.accountNumbers().isEmpty()) {
            return pickKnownAccount();
        }
        if (roll < 13) {
            return 100_000_000_000_000L + random.nextLong(900_000_000_000_000L);
        }
        if (roll < 15) {
            return random.nextBoolean() ? -randomAccountNumber() : randomAccountNumber() * 10;
        }
        return randomAccountNumber();
    }

    private String email() {
        int roll = random.nextInt(100);
        if (roll < 15 && !model.emails().isEmpty()) {
            List<String> taken = model.emails();
            return shuffleCase(taken.get(random.nextInt(taken.size())));
        }
        if (roll < 20) {
            return INVALID_EMAILS.get(random.nextInt(INVALID_EMAILS.size()));
        }
        if (roll < 21) {
            return null;
        }
        String email = "user" + emailsMade++ + "@example.com";
        return random.nextInt(4) == 0 ? shuffleCase(email) : email;
    }

    private String shuffleCase(String email) {
        StringBuilder shuffled = new StringBuilder(email.length());
        for (char c : email.toCharArray()) {
            shuffled.append(random.nextBoolean() ? Character.toUpperCase(c) : Character.toLowerCase(c));
        }
        return shuffled.toString();
    }

    private String passwordHash() {
        int roll = random.nextInt(100);
        return roll == 0 ? null : roll == 1 ? "" : "hash-" + random.nextInt(1_000_000);
    }

    private long openingBalance() {
        int roll = random.nextInt(100);
        if (roll < 85) {
            return 100_000;
        }
        return switch (roll) {
            case 85, 86 -> 0;
            case 87 -> -1;
            case 88 -> MAXIMUM_AMOUNT + 1;
            case 89 -> Long.MIN_VALUE;
            case 90 -> MAXIMUM_AMOUNT;
            default -> random.nextLong(2_000_000);
        };
    }

    /** An amount around this balance, or one of the amounts that must be refused. */
    private long amount(long balance) {
        int roll = random.nextInt(100);
        if (roll < 4) {
            return 0;
        } else if (roll < 7) {
            return -1 - random.nextInt(1_000_000);
        } else if (roll < 8) {
            return Long.MIN_VALUE;
        } else if (roll < 10) {
            return MAXIMUM_AMOUNT + 1;
        } else if (roll < 11) {
            return Long.MAX_VALUE;
        } else if (roll < 13) {
            return MAXIMUM_AMOUNT;
        } else if (roll < 25) {
            return balance;
        } else if (roll < 31) {
            return balance + 1;
        } else if (roll < 70 && balance > 0) {
            return 1 + random.nextLong(balance);
        }
        return 1 + random.nextInt(50_000);
    }

    private long balanceOrGuess(long account) {
        ReferenceBank.Account known = model.account(account);
        return known != null ? known.balance : random.nextLong(200_000);
    }

    /** A known account most of the time, else one that was never opened. */
    private long pickAccount() {
        if (random.nextInt(100) < 93) {
            return pickKnownAccount();
        }
        return random.nextBoolean() ? randomAccountNumber() : -1 - random.nextInt(1000);
    }

    /** Most of the money moves between verified accounts, so most accounts get verified. */
    private long pickUnverifiedAccount() {
        List<Long> unverified = model.accountNumbers().stream()
                .filter(number -> !model.account(number).verified).toList();
        return unverified.isEmpty() ? pickAccount() : unverified.get(random.nextInt(unverified.size()));
    }

    private long pickKnownAccount() {
        List<Long> numbers = model.accountNumbers();
        return numbers.get(random.nextInt(numbers.size()));
    }

    private long randomAccountNumber() {
        return 1_000_000_000_000_000L + random.nextLong(9_000_000_000_000_000L);
    }

    // ---- Idempotency keys ----

    /** A key for about a third of the requests, drawn from a small pool so keys collide. */
    private Idempotency maybeKey(String body) {
        return random.nextInt(3) == 0 ? withKey("key-" + random.nextInt(6), body) : null;
    }

    /** The key with a fingerprint of the request body, as the server computes one. */
    private Idempotency withKey(String key, String body) {
        return new Idempotency(key, "fp-" + Integer.toHexString(body.hashCode()));
    }

    /** Keeps keyed commands for later retries; called with every command sent. */
    void sent(Command command) {
        Idempotency idempotency = switch (command) {
            case Command.OpenAccount c -> c.idempotency();
            case Command.TransferMoney c -> c.idempotency();
            case Command.TransferMoneyAtomically c -> c.idempotency();
            case Command.Withdraw c -> c.idempotency();
            case Command.TransferMoneyOneByOne c -> null;
            case Command.VerifyAccount c -> null;
            case Command.CloseAccount c -> null;
            case Command.ForgetAccount c -> null;
        };
        if (idempotency != null) {
            if (keyed.size() == RETRIES_KEPT) {
                keyed.remove(0);
            }
            keyed.add(command);
        }
    }
}
