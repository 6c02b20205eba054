package eventbank.engine;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Decider;
import eventbank.core.Decision;
import eventbank.core.Event;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.Recorded;
import eventbank.engine.write.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What the sequencer does to one command, done again in the test's thread with a plain
 * {@link Bank} and {@link Decider}: stamp an account number and the time, decide, evolve. Fed
 * the same commands in the same order, with the same clock and account numbers, it must answer
 * exactly what the engine answers.
 */
final class ReferenceSequencer {
    final Bank bank;
    private final Decider decider;
    private final LongSupplier clockMicros;
    private final LongSupplier accountNumbers;

    /** Whether the engine it is compared with seals openings: its bank marks them sealed too. */
    private boolean seals;

    ReferenceSequencer(byte[] serverKey, long idempotencyWindowMicros, LongSupplier clockMicros,
                       LongSupplier accountNumbers) {
        this.bank = new Bank(idempotencyWindowMicros);
        this.decider = new Decider(new HmacVerificationCodes(serverKey));
        this.clockMicros = clockMicros;
        this.accountNumbers = accountNumbers;
    }

    /** As an engine on real files does: openings sealed (in its bank's flags; the outcomes say them plain). */
    ReferenceSequencer sealing(boolean seal) {
        this.seals = seal;
        return this;
    }

    /** Personal fields in the clear, marked sealed as an engine's are. */
    private record MarkedSealed(String email, String passwordHash) implements eventbank.core.Personal {
        @Override
        public boolean sealed() {
            return true;
        }
    }

    /** The outcome the engine must give this command, applied to the reference bank. */
    Outcome step(Command given) {
        Command command = given;
        if (given instanceof Command.OpenAccount open && open.accountNumber() == 0) {
            long number;
            do {
                number = accountNumbers.getAsLong();
            } while (bank.exists(number));
            command = new Command.OpenAccount(number, open.email(), open.passwordHash(), open.openingBalance(),
                    open.idempotency());
        }
        long now = Math.max(clockMicros.getAsLong(), bank.lastTimeMicros());
        return outcomeOf(decider.decide(bank, command, now), subjectOf(command), now);
    }

    /** The decision's events applied to the reference bank, and the outcome the engine answers. */
    private Outcome outcomeOf(Decision decision, long subject, long now) {
        return switch (decision) {
            case Decision.Accepted accepted -> {
                List<Recorded> recorded = new ArrayList<>();
                for (Event event : accepted.events()) {
                    long seq = bank.lastSeq() + 1;
                    bank.evolve(seq, now, seals && event instanceof Event.AccountOpened opened
                            ? new Event.AccountOpened(opened.accountNumber(), new MarkedSealed(opened.email(),
                                    opened.passwordHash()), opened.openingBalance(), opened.idempotency())
                            : event);
                    recorded.add(new Recorded(seq, now, event));
                }
                yield new Outcome.Committed(bank.lastSeq(), recorded, bank.balanceOf(subject));
            }
            case Decision.Rejected rejected -> new Outcome.Rejected(rejected.reason(), rejected.index());
            case Decision.Replayed replayed -> new Outcome.Replayed(replayed.seq());
            case Decision.OneByOne oneByOne -> {
                List<Outcome> parts = new ArrayList<>();
                for (Decision part : oneByOne.parts()) {
                    parts.add(outcomeOf(part, subject, now));
                }
                yield new Outcome.CommittedOneByOne(bank.lastSeq(), parts, bank.balanceOf(subject));
            }
        };
    }

    static long subjectOf(Command command) {
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
