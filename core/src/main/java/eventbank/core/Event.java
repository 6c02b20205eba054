package eventbank.core;

/**
 * What happened, in the past tense. An event holds every field needed to replay it without
 * outside help; its sequence number and time live in the {@link Recorded} envelope.
 */
public sealed interface Event
        permits Event.AccountOpened, Event.AccountVerified, Event.MoneyTransferred, Event.MoneyWithdrawn,
        Event.AccountClosed, Event.AccountForgotten {

    /**
     * An account came into being, holding its opening bonus. Its {@link Personal} fields read
     * as null once the account was forgotten.
     */
    record AccountOpened(long accountNumber, Personal personal, long openingBalance, Idempotency idempotency)
            implements Event {
        public AccountOpened(long accountNumber, String email, String passwordHash, long openingBalance,
                             Idempotency idempotency) {
            this(accountNumber, new Personal.Plain(email, passwordHash), openingBalance, idempotency);
        }

        /** The email address, or null once forgotten. */
        public String email() {
            return personal.email();
        }

        /** The password's hash, or null once forgotten. */
        public String passwordHash() {
            return personal.passwordHash();
        }
    }

    record AccountVerified(long accountNumber) implements Event {}

    record MoneyTransferred(long fromAccountNumber, long toAccountNumber, long amount,
                            Idempotency idempotency) implements Event {}

    record MoneyWithdrawn(long accountNumber, long amount, Idempotency idempotency) implements Event {}

    /**
     * The holder closed the account: from now on it sends and receives nothing. A verified
     * account closes at a balance of zero; an unverified one may close holding its opening bonus,
     * which it {@code forfeited} (leaves the bank, like a withdrawal); else 0.
     */
    record AccountClosed(long accountNumber, long forfeited) implements Event {}

    /**
     * An operator forgot a closed account's holder: the key its personal fields were sealed
     * under is erased, so its {@link AccountOpened}'s email and password hash read as null from
     * now on, everywhere. Amounts, account numbers and the hash chain stay.
     */
    record AccountForgotten(long accountNumber) implements Event {}

    /** The idempotency record an event carries, or null when the request had no key. */
    static Idempotency idempotencyOf(Event event) {
        return switch (event) {
            case AccountOpened e -> e.idempotency();
            case AccountVerified e -> null;
            case MoneyTransferred e -> e.idempotency();
            case MoneyWithdrawn e -> e.idempotency();
            case AccountClosed e -> null;
            case AccountForgotten e -> null;
        };
    }
}
