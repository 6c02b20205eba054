package eventbank.core;

/**
 * What happened, in the past tense. An event holds every field needed to replay it without
 * outside help; its sequence number and time live in the {@link Recorded} envelope.
 */
public sealed interface Event
        permits Event.AccountOpened, Event.AccountVerified, Event.MoneyTransferred, Event.MoneyWithdrawn {

    record AccountOpened(long accountNumber, String email, String passwordHash, long openingBalance,
                         Idempotency idempotency) implements Event {}

    record AccountVerified(long accountNumber) implements Event {}

    record MoneyTransferred(long fromAccountNumber, long toAccountNumber, long amount,
                            Idempotency idempotency) implements Event {}

    record MoneyWithdrawn(long accountNumber, long amount, Idempotency idempotency) implements Event {}

    /** The idempotency record an event carries, or null when the request had no key. */
    static Idempotency idempotencyOf(Event event) {
        return switch (event) {
            case AccountOpened e -> e.idempotency();
            case AccountVerified e -> null;
            case MoneyTransferred e -> e.idempotency();
            case MoneyWithdrawn e -> e.idempotency();
        };
    }
}
