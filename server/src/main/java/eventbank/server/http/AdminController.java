package eventbank.server.http;

import eventbank.engine.Engine;
import eventbank.engine.write.Sequencer;
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

    AdminController(Authenticator authenticator, Engine engine) {
        this.authenticator = authenticator;
        this.engine = engine;
    }

    record AuditHead(long seq, String hash) {}

    void auditHead(Context ctx) {
        authenticator.operator(ctx);
        Sequencer.Head head = engine.committedHead();
        ctx.json(new AuditHead(head.seq(), head.hashHex()));
    }
}
