package eventbank.server.http;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.core.Rejection;
import eventbank.engine.write.Outcome;
import eventbank.server.http.Replies.BatchResult;
import eventbank.server.http.Replies.CommandReply;
import eventbank.server.http.Replies.Reply;
import eventbank.server.readmodel.Operation;
import eventbank.server.readmodel.OperationsReadModel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The one place where a command's outcome becomes its reply: the reply built from the committed
 * outcome, the first reply again for a replay (from the operations read model), or the error of
 * a refusal or a failure, by {@link Errors}' table.
 */
final class Outcomes {
    private final OperationsReadModel operations;
    private final ReadWaits waits;

    Outcomes(OperationsReadModel operations, ReadWaits waits) {
        this.operations = operations;
        this.waits = waits;
    }

    /**
     * The reply to a state-changing command's outcome: {@code committedReply} of a committed
     * one, the first reply again for a replay, else the error.
     */
    Reply reply(Outcome outcome, long scope, Idempotency idempotency,
                Function<Outcome.Committed, CommandReply> committedReply) {
        return switch (outcome) {
            case Outcome.Committed committed -> Reply.fresh(committedReply.apply(committed));
            case Outcome.Replayed replayed ->
                    Reply.replayed(Replies.of(recorded(scope, idempotency.key(), replayed.seq())));
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason());
            case Outcome.Unavailable unavailable -> throw Errors.of(unavailable);
            case Outcome.CommittedOneByOne batch -> throw new IllegalStateException("only a batch sent one by one");
        };
    }

    /**
     * The operation a replayed command's key names, once the operations read model holds its seq;
     * 503 read_model_lagging when it does not in time.
     */
    Operation recorded(long scope, String key, long seq) {
        waits.await(operations, seq);
        return operations.replayed(scope, key, seq).orElseThrow(Errors::readModelLagging);
    }

    /**
     * The reply to an all-or-none batch: one {@code {seq}} per transfer and the balance after
     * them; a refusal is that transfer's error, its message naming {@code transfers[index]}.
     */
    Reply atomicBatch(Outcome outcome, long holder, Idempotency idempotency, List<Command.Transfer> transfers) {
        return switch (outcome) {
            case Outcome.Committed committed -> {
                List<Replies.Recorded> results = new ArrayList<>(committed.events().size());
                for (Recorded recorded : committed.events()) {
                    results.add(new Replies.Recorded(recorded.seq()));
                }
                yield Reply.fresh(new Replies.Batch(results, committed.balance()));
            }
            case Outcome.Rejected rejected when rejected.index() >= 0 -> {
                ApiException error = Errors.of(rejected.reason());
                throw new ApiException(error.status(), error.code(), "transfers[" + rejected.index() + "]: "
                        + error.getMessage());
            }
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason());
            case Outcome.Unavailable unavailable -> throw Errors.of(unavailable);
            case Outcome.Replayed replayed -> replayedBatch(holder, idempotency, replayed.seq(), transfers);
            case Outcome.CommittedOneByOne batch -> throw new IllegalStateException("only a batch sent one by one");
        };
    }

    /**
     * The first reply to an all-or-none batch again. Its events are contiguous from the first
     * one's seq, which carries the key, and only the sender's balance went down between them
     * (a transfer to oneself is refused): so the reply follows from the first transfer's
     * operation and the amounts of the others, the same request by its fingerprint.
     */
    private Reply replayedBatch(long holder, Idempotency idempotency, long firstSeq,
                                List<Command.Transfer> transfers) {
        waits.await(operations, firstSeq);
        if (!(operations.replayed(holder, idempotency.key(), firstSeq).orElse(null)
                instanceof Operation.Transfer first)) {
            throw Errors.readModelLagging();
        }
        List<Replies.Recorded> results = new ArrayList<>(transfers.size());
        long balance = first.fromBalanceAfter();
        for (int index = 0; index < transfers.size(); index++) {
            results.add(new Replies.Recorded(firstSeq + index));
            if (index > 0) {
                balance -= transfers.get(index).amount();
            }
        }
        return Reply.replayed(new Replies.Batch(results, balance));
    }

    /**
     * The reply to a batch decided one by one: each transfer's {@code {seq}} or {@code {error,
     * message}}, in the order sent, and the sender's balance after the batch. When the engine could
     * not take or finish the batch, that error is each transfer's result and the balance is the
     * one the accounts read model holds ({@code balanceNow}), as when the transfers were commands
     * of their own and each met the same failure.
     */
    Reply oneByOne(Outcome outcome, int transfers, LongSupplier balanceNow) {
        return switch (outcome) {
            case Outcome.CommittedOneByOne batch -> {
                List<BatchResult> results = new ArrayList<>(batch.parts().size());
                for (Outcome part : batch.parts()) {
                    results.add(switch (part) {
                        case Outcome.Committed committed -> new Replies.Recorded(committed.seq());
                        case Outcome.Rejected rejected -> REFUSED[rejected.reason().ordinal()];
                        default -> throw new IllegalStateException("a part is recorded or refused: " + part);
                    });
                }
                yield Reply.fresh(new Replies.Batch(results, batch.balance()));
            }
            case Outcome.Unavailable unavailable -> {
                ApiException error = Errors.of(unavailable);
                Replies.Refused refused = new Replies.Refused(error.code(), error.getMessage());
                yield Reply.fresh(new Replies.Batch(java.util.Collections.nCopies(transfers, refused),
                        balanceNow.getAsLong()));
            }
            // The route checks the batch's size; a refusal of the whole batch is a bug's, or a
            // writer set up with less room than a thousand transfers take.
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason());
            case Outcome.Committed committed -> throw new IllegalStateException("a batch is answered as one");
            case Outcome.Replayed replayed -> throw new IllegalStateException("a batch without a key was replayed");
        };
    }

    /** Every refusal's result in a batch reply, made once: a refused transfer's result is one of these. */
    private static final Replies.Refused[] REFUSED = refusals();

    private static Replies.Refused[] refusals() {
        Rejection[] reasons = Rejection.values();
        Replies.Refused[] refused = new Replies.Refused[reasons.length];
        for (Rejection reason : reasons) {
            refused[reason.ordinal()] = new Replies.Refused(reason.code(), reason.message());
        }
        return refused;
    }

    /**
     * The seq of a verification's outcome ({@code GET /api/verify}). An unknown account is
     * answered as a wrong code: the link's reply must not tell a stranger which account numbers
     * exist. The bank's rules still tell the two apart (a what-if that leaves out an opening
     * reports its verification as account_not_found).
     */
    /** The outcome of a command that takes no idempotency key, committed; else its error. */
    Outcome.Committed committedOnly(Outcome outcome) {
        return switch (outcome) {
            case Outcome.Committed committed -> committed;
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason());
            case Outcome.Unavailable unavailable -> throw Errors.of(unavailable);
            case Outcome.Replayed replayed -> throw new IllegalStateException("the command has no key");
            case Outcome.CommittedOneByOne batch -> throw new IllegalStateException("only a batch sent one by one");
        };
    }

    Outcome.Committed verified(Outcome outcome) {
        return switch (outcome) {
            case Outcome.Committed committed -> committed;
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason() == Rejection.ACCOUNT_NOT_FOUND
                    ? Rejection.WRONG_CODE : rejected.reason());
            case Outcome.Unavailable unavailable -> throw Errors.of(unavailable);
            case Outcome.Replayed replayed -> throw new IllegalStateException("a verification has no key");
            case Outcome.CommittedOneByOne batch -> throw new IllegalStateException("only a batch sent one by one");
        };
    }
}
