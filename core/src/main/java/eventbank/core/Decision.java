package eventbank.core;

import java.util.List;

/** What {@code decide} answers: events to record, a reason to refuse, or an earlier outcome. */
public sealed interface Decision permits Decision.Accepted, Decision.Rejected, Decision.Replayed,
        Decision.OneByOne {

    /**
     * The command is accepted; these events are to be recorded in this order. An empty list
     * means there was nothing to change (verifying an account that is already verified).
     */
    record Accepted(List<Event> events) implements Decision {
        public Accepted {
            events = List.copyOf(events);
        }
    }

    /**
     * The command is refused; nothing is recorded. {@code index} is the position of the
     * refused part of a batch command ({@link Command.TransferMoneyAtomically}), and -1 when
     * the refusal is not about one part.
     */
    record Rejected(Rejection reason, int index) implements Decision {
        public Rejected(Rejection reason) {
            this(reason, -1);
        }
    }

    /**
     * The same idempotency key and request were accepted before, as the event at {@code seq}:
     * nothing new is recorded and the caller is answered with that first outcome.
     */
    record Replayed(long seq) implements Decision {}

    /**
     * A batch decided one transfer at a time ({@link Command.TransferMoneyOneByOne}): one part per
     * transfer, in order, each {@link Accepted} with its one event or {@link Rejected} (index -1),
     * just as each transfer alone would have been decided at its turn. The events of the accepted
     * parts are to be recorded in this order; none accepted records nothing.
     */
    record OneByOne(List<Decision> parts) implements Decision {
        public OneByOne {
            parts = List.copyOf(parts);
            for (Decision part : parts) {
                if (!(part instanceof Accepted accepted && accepted.events().size() == 1
                        || part instanceof Rejected)) {
                    throw new IllegalArgumentException("a part is one accepted event or a refusal: " + part);
                }
            }
        }
    }
}
