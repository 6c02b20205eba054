package eventbank.server.http;

import eventbank.core.Command;
import eventbank.engine.Engine;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.Sequencer;
import eventbank.server.json.JsonBody;
import io.javalin.http.Context;

/**
 * Operator routes under {@code /api/admin}, each behind {@link Authenticator#operator(Context)}.
 * {@code GET /api/admin/audit/head}: {@code {seq, hash}}, the last durable seq and the
 * journal's chain hash after it, the same pair {@code ./eventbank verify} prints; recorded
 * elsewhere, it lets anyone later prove that the history up to it was not rewritten.
 */
final class AdminController {
    private final Authenticator authenticator;
    private final Engine engine;
    private final Submitter submitter;
    private final Outcomes outcomes;

    AdminController(Authenticator authenticator, Engine engine, Submitter submitter, Outcomes outcomes) {
        this.authenticator = authenticator;
        this.engine = engine;
        this.submitter = submitter;
        this.outcomes = outcomes;
    }

    record AuditHead(long seq, String hash) {}

    /** How long a forget waits for the subscribers to erase their copies before answering 503. */
    private static final long ERASURE_WAIT_NANOS = 10_000_000_000L;

    /** {@code POST /api/admin/accounts/{number}/forget}: 200. */
    record Forgotten(String accountNumber, boolean forgotten, long seq) {}

    /**
     * {@code POST /api/admin/accounts/{number}/forget} → the closed account's holder is
     * forgotten (DESIGN.md, "Personal data"): 409 account_not_closed for an open account, 409
     * account_not_forgettable for one whose opening was recorded before personal fields were
     * sealed; a second forget records nothing and answers the same.
     */
    void forget(Context ctx) {
        authenticator.operator(ctx);
        long number = JsonBody.parseAccountNumber(ctx.pathParam("number"));
        if (number < 0) {
            throw ApiException.invalidQuery("The account number must be 16 digits, the first from 1 to 9.");
        }
        Outcome.Committed committed = outcomes.committedOnly(submitter.submit(new Command.ForgetAccount(number)));
        // The key is erased once the event is durable; the read models, the outbox and the
        // snapshots rewrite what they keep at the end of the batch that holds it. The reply waits
        // for them, so that it says the erasure is done (a server stopped before that finishes it
        // at its next start).
        long deadline = System.nanoTime() + ERASURE_WAIT_NANOS;
        for (Subscription subscription : engine.subscriptions()) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            try {
                if (!subscription.awaitDelivered(committed.seq(), left)) {
                    throw Errors.readModelLagging();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Errors.readModelLagging();
            }
        }
        Replies.seq(ctx, committed.seq());
        ctx.json(new Forgotten(Long.toString(number), true, committed.seq()));
    }

    void auditHead(Context ctx) {
        authenticator.operator(ctx);
        Sequencer.Head head = engine.committedHead();
        ctx.json(new AuditHead(head.seq(), head.hashHex()));
    }
}
