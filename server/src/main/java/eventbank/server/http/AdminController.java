package eventbank.server.http;

import eventbank.engine.Sequencer;
import io.javalin.http.Context;

/**
 * Operator routes under {@code /api/admin}, each behind {@link Api#operator(Context)}.
 * {@code GET /api/admin/audit/head}: {@code {seq, hash}}, the last durable seq and the
 * journal's chain hash after it, the same pair {@code ./eventbank verify} prints; recorded
 * elsewhere, it lets anyone later prove that the history up to it was not rewritten.
 */
final class AdminController {
    private final Api api;

    AdminController(Api api) {
        this.api = api;
    }

    void auditHead(Context ctx) {
        api.operator(ctx);
        Sequencer.Head head = api.engine.committedHead();
        ctx.json(Replies.map("seq", head.seq(), "hash", head.hashHex()));
    }
}
