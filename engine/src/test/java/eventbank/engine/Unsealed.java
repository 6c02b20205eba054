package eventbank.engine;

import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.write.Outcome;
import java.util.List;

/** Outcomes with their openings' personal fields as plain values, to compare with a reference's. */
final class Unsealed {
    private Unsealed() {}

    static Outcome of(Outcome outcome) {
        if (!(outcome instanceof Outcome.Committed committed)) {
            return outcome;
        }
        List<Recorded> events = committed.events().stream().map(Unsealed::of).toList();
        return new Outcome.Committed(committed.seq(), events, committed.balance());
    }

    static Recorded of(Recorded recorded) {
        if (recorded.event() instanceof Event.AccountOpened opened && opened.personal().sealed()) {
            return new Recorded(recorded.seq(), recorded.timeMicros(), new Event.AccountOpened(opened.accountNumber(),
                    opened.email(), opened.passwordHash(), opened.openingBalance(), opened.idempotency()));
        }
        return recorded;
    }
}
