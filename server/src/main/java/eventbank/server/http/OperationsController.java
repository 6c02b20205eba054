package eventbank.server.http;

import eventbank.core.Idempotency;
import eventbank.server.readmodel.Operation;
import eventbank.server.readmodel.OperationsReadModel;
import io.javalin.http.Context;
import java.util.Optional;

/**
 * {@code GET /api/operations/{idempotency_key}}: what the holder's command under that key
 * recorded, as {@code {idempotency_key, route, status, seq, time, response}} where response is
 * the first reply's body; 404 not_found when the key is unknown or expired.
 */
final class OperationsController {
    private final Api api;

    OperationsController(Api api) {
        this.api = api;
    }

    void show(Context ctx) {
        long holder = api.holder(ctx);
        String key = ctx.pathParam("idempotency_key");
        if (!Idempotency.isValidKey(key)) {
            throw ApiException.invalidField("An idempotency key is 1 to 255 printable ASCII characters.");
        }
        OperationsReadModel operations = api.readModels.operations();
        api.awaitMinSeq(ctx, operations);
        long now = Api.nowMicros();
        Optional<Operation> found = operations.find(holder, key, now);
        if (found.isEmpty()) {
            // The key the holder opened the account with lives in the opening scope.
            found = operations.find(OperationsReadModel.SCOPE_ACCOUNT_OPENING, key, now)
                    .filter(o -> o instanceof Operation.AccountOpening opening && opening.accountNumber() == holder);
        }
        Operation operation = found.orElseThrow(() -> new ApiException(404, "not_found",
                "No operation with this Idempotency-Key is known for this account (keys are kept 24 hours)."));
        Replies.Reply reply = Replies.of(operation);
        ctx.json(Replies.map("idempotency_key", key, "route", Replies.route(operation), "status", reply.status(),
                "seq", operation.seq(), "time", Api.time(operation.timeMicros()), "response", reply.body()));
    }
}
