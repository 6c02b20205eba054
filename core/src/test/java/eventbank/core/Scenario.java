package eventbank.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A bank under test, told as a story: given these events, when this command, then these
 * events (or this rejection). Given events are applied with seq 1, 2, 3, ... and stamped with
 * the scenario's clock, which only moves when a test moves it, so a test about time says
 * exactly how much time passes.
 *
 * <p>Accepted events are recorded as the sequencer would record them, so the story can go on
 * and the next step sees them. Every {@code when} also checks that deciding did not change the
 * bank: decide is a pure function and only evolve may change state.
 */
final class Scenario {
    /** A fixed 32-byte server key, so verification codes are the same on every run. */
    static final byte[] SERVER_KEY = "eventbank-tests-server-key-0001!".getBytes(StandardCharsets.US_ASCII);
    static final VerificationCodes CODES = new HmacVerificationCodes(SERVER_KEY);
    /** 2026-11-26T00:00:00Z in microseconds since the epoch. */
    static final long START_MICROS = 1_795_651_200_000_000L;
    static final String PASSWORD_HASH = "$2a$04$examplehashexamplehashexamplehashexamplehashexampl";

    private final Bank bank;
    private final Decider decider = new Decider(CODES);
    private final Map<Long, Long> openedSeqs = new HashMap<>();
    private long nowMicros = START_MICROS;

    Scenario() {
        this(new Bank());
    }

    private Scenario(Bank bank) {
        this.bank = bank;
    }

    /** A scenario whose bank forgets idempotency keys after this many microseconds. */
    static Scenario withIdempotencyWindow(long windowMicros) {
        return new Scenario(new Bank(windowMicros));
    }

    Scenario given(Event... events) {
        for (Event event : events) {
            record(event);
        }
        return this;
    }

    Then when(Command command) {
        String before = bank.stateDigest();
        Decision decision = decider.decide(bank, command, nowMicros);
        assertThat(bank.stateDigest()).as("deciding %s must not change the bank", command).isEqualTo(before);
        return new Then(decision);
    }

    Scenario advanceClock(long micros) {
        nowMicros += micros;
        return this;
    }

    Bank bank() {
        return bank;
    }

    long lastSeq() {
        return bank.lastSeq();
    }

    long balanceOf(long accountNumber) {
        return bank.balanceOf(accountNumber);
    }

    /**
     * The code in the account's verification link: derived from the seq at which this
     * scenario recorded the account's AccountOpened, not from what the bank says it is.
     */
    String codeOf(long accountNumber) {
        Long openedSeq = openedSeqs.get(accountNumber);
        assertThat(openedSeq).as("account %d was opened in this scenario", accountNumber).isNotNull();
        return CODES.codeFor(accountNumber, openedSeq);
    }

    private void record(Event event) {
        long seq = bank.lastSeq() + 1;
        bank.evolve(seq, nowMicros, event);
        if (event instanceof Event.AccountOpened opened) {
            openedSeqs.put(opened.accountNumber(), seq);
        }
    }

    /** What the bank decided, with the assertions a test ends with. */
    final class Then {
        private final Decision decision;

        private Then(Decision decision) {
            this.decision = decision;
        }

        /** The decision itself, for a test that compares it whole (a batch's parts). */
        Decision decision() {
            return decision;
        }

        /** Asserts the command was accepted with exactly these events, then records them. */
        Scenario thenEvents(Event... expected) {
            assertThat(decision).isEqualTo(new Decision.Accepted(List.of(expected)));
            return given(expected);
        }

        /** Asserts the command was accepted with nothing to record. */
        Scenario thenNothingRecorded() {
            assertThat(decision).isEqualTo(new Decision.Accepted(List.of()));
            return Scenario.this;
        }

        Scenario thenRejected(Rejection reason) {
            assertThat(decision).isEqualTo(new Decision.Rejected(reason));
            return Scenario.this;
        }

        /** Asserts a batch command was refused for the part at {@code index} (-1: the whole batch). */
        Scenario thenRejected(Rejection reason, int index) {
            assertThat(decision).isEqualTo(new Decision.Rejected(reason, index));
            return Scenario.this;
        }

        /** Asserts the command is a retry answered with the outcome recorded at {@code seq}. */
        Scenario thenReplayed(long seq) {
            assertThat(decision).isEqualTo(new Decision.Replayed(seq));
            return Scenario.this;
        }
    }

    // ---- Looking inside a bank ----

    /** How many idempotency keys the bank would write into a snapshot. */
    static int keysIn(Bank bank) {
        int[] announced = new int[1];
        int[] listed = new int[1];
        bank.exportTo(new Bank.Exporter() {
            @Override
            public void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                                 long forfeitedTotal, int accountCount, int idempotencyCount) {
                announced[0] = idempotencyCount;
            }

            @Override
            public void account(long number, long balance, int verified, long openedSeq,
                                long high, long low) {
                // Only the keys are counted here.
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {
                listed[0]++;
            }
        });
        assertThat(listed[0]).as("keys listed against keys announced").isEqualTo(announced[0]);
        return listed[0];
    }

    // ---- Commands and events with the example app's defaults, to keep stories short ----

    static Command.OpenAccount open(long accountNumber, String email) {
        return open(accountNumber, email, null);
    }

    static Command.OpenAccount open(long accountNumber, String email, Idempotency idempotency) {
        return new Command.OpenAccount(accountNumber, email, PASSWORD_HASH, Limits.OPENING_BALANCE_DEFAULT,
                idempotency);
    }

    static Command.VerifyAccount verify(long accountNumber, String code) {
        return new Command.VerifyAccount(accountNumber, code);
    }

    static Command.TransferMoney transfer(long from, long to, long amount) {
        return new Command.TransferMoney(from, to, amount, null);
    }

    static Command.TransferMoney transfer(long from, long to, long amount, Idempotency idempotency) {
        return new Command.TransferMoney(from, to, amount, idempotency);
    }

    /** An all-or-none batch: {@code toAndAmount} holds pairs of recipient and amount. */
    static Command.TransferMoneyAtomically transferAll(long from, Idempotency idempotency, long... toAndAmount) {
        List<Command.Transfer> transfers = new java.util.ArrayList<>();
        for (int i = 0; i < toAndAmount.length; i += 2) {
            transfers.add(new Command.Transfer(toAndAmount[i], toAndAmount[i + 1]));
        }
        return new Command.TransferMoneyAtomically(from, transfers, idempotency);
    }

    static Command.Withdraw withdraw(long accountNumber, long amount) {
        return new Command.Withdraw(accountNumber, amount, null);
    }

    static Command.Withdraw withdraw(long accountNumber, long amount, Idempotency idempotency) {
        return new Command.Withdraw(accountNumber, amount, idempotency);
    }

    static Event.AccountOpened opened(long accountNumber, String email) {
        return opened(accountNumber, email, null);
    }

    static Event.AccountOpened opened(long accountNumber, String email, Idempotency idempotency) {
        return new Event.AccountOpened(accountNumber, email, PASSWORD_HASH, Limits.OPENING_BALANCE_DEFAULT,
                idempotency);
    }

    /** Personal fields as the log holds them once sealed: the core sees only that they are. */
    record Sealed(String email, String passwordHash) implements Personal {
        @Override
        public boolean sealed() {
            return true;
        }
    }

    /** An opening whose personal fields were recorded sealed, so that it can be forgotten. */
    static Event.AccountOpened sealedOpened(long accountNumber, String email) {
        return new Event.AccountOpened(accountNumber, new Sealed(email, PASSWORD_HASH),
                Limits.OPENING_BALANCE_DEFAULT, null);
    }

    static Event.AccountVerified verified(long accountNumber) {
        return new Event.AccountVerified(accountNumber);
    }

    static Event.MoneyTransferred transferred(long from, long to, long amount) {
        return new Event.MoneyTransferred(from, to, amount, null);
    }

    static Event.MoneyTransferred transferred(long from, long to, long amount, Idempotency idempotency) {
        return new Event.MoneyTransferred(from, to, amount, idempotency);
    }

    static Event.MoneyWithdrawn withdrawn(long accountNumber, long amount) {
        return new Event.MoneyWithdrawn(accountNumber, amount, null);
    }

    static Event.MoneyWithdrawn withdrawn(long accountNumber, long amount, Idempotency idempotency) {
        return new Event.MoneyWithdrawn(accountNumber, amount, idempotency);
    }

    static Idempotency key(String key, String fingerprint) {
        return new Idempotency(key, fingerprint);
    }
}
