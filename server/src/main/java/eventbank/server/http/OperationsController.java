package eventbank.server.http;

import eventbank.core.EpochMicros;
import eventbank.core.Idempotency;
import eventbank.server.readmodel.Operation;
import eventbank.server.readmodel.OperationsReadModel;
import io.javalin.http.Context;
import java.time.Clock;
import java.util.Optional;

/**
 * {@code GET /api/operations/{idempotency_key}}: what the holder's command under that key
 * recorded, as {@code {idempotency_key, route, status, seq, time, response}} where response is
 * the first reply's body; 404 not_found when the key is unknown or expired by the server's clock.
 */
final class OperationsController {
    private final Authenticator authenticator;
    private final OperationsReadModel operations;
    private final ReadWaits waits;
    private final Clock clock;

    OperationsController(Authenticator authenticator, OperationsReadModel operations, ReadWaits waits,
                         Clock clock) {
        this.authenticator = authenticator;
        this.operations = operations;
        this.waits = waits;
        this.clock = clock;
    }

    /** The operation, {@code response} being its first reply's body. */
    record Found(String idempotencyKey, String route, int status, long seq, String time,
                 Replies.CommandReply response) {}

    void show(Context ctx) {
        long holder = authenticator.holder(ctx);
        String key = ctx.pathParam("idempotency_key");
        if (!Idempotency.isValidKey(key)) {
            throw ApiException.invalidField("An idempotency key is 1 to 255 printable ASCII characters.");
        }
        waits.awaitMinSeq(ctx, operations);
        long now = EpochMicros.of(clock.instant());
        Optional<Operation> found = operations.find(holder, key, now);
        if (found.isEmpty()) {
            // The key the holder opened the account with lives in the opening scope.
            found = operations.find(OperationsReadModel.SCOPE_ACCOUNT_OPENING, key, now)
                    .filter(o -> o instanceof Operation.AccountOpening opening && opening.accountNumber() == holder);
        }
        Operation operation = found.orElseThrow(() -> new ApiException(404, "not_found",
                "No operation with this Idempotency-Key is known for this account (keys are kept 24 hours)."));
        Replies.CommandReply reply = Replies.of(operation);
        ctx.json(new Found(key, Replies.route(operation).toString(), Replies.statusOf(reply), operation.seq(),
                Replies.time(operation.timeMicros()), reply));
    }
}
