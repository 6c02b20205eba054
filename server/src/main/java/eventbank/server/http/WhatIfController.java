package eventbank.server.http;

import eventbank.engine.Engine;
import eventbank.engine.history.TimeTravel;
import eventbank.engine.history.WhatIf;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.server.json.WhatIfJson;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;

/**
 * {@code POST /api/admin/what-if} ({@link WhatIfJson} has the shapes): an alternative history
 * run by {@link WhatIf} on private copies of the state, up to the committed head. Nothing is
 * written and nothing is mailed. One at a time: a what-if holds two copies of the write model
 * and a core for up to {@code whatif.replay_events_max} events, so a second one while the first
 * runs is refused with 429 {@code too_many_attempts} and {@code Retry-After}, rather than
 * queued behind it.
 */
final class WhatIfController {
    static final int RETRY_AFTER_SECONDS = 1;

    private final Authenticator authenticator;
    private final Engine engine;
    private final WhatIf whatIf;
    private final Semaphore running = new Semaphore(1);

    WhatIfController(Authenticator authenticator, Engine engine, long replayEventsMax) {
        this.authenticator = authenticator;
        this.engine = engine;
        this.whatIf = new WhatIf(engine.journalSource(), engine.snapshots(),
                engine.config().idempotencyWindowMicros(), replayEventsMax, engine.personalKeys());
    }

    void whatIf(Context ctx) throws IOException {
        authenticator.operator(ctx);
        WhatIf.Request request = WhatIfJson.parse(Requests.jsonBytes(ctx));
        if (!running.tryAcquire()) {
            throw new ApiException(429, "too_many_attempts", "Another what-if is running; one runs at a time. "
                    + "Retry in a moment.", RETRY_AFTER_SECONDS);
        }
        WhatIf.Result result;
        try {
            result = whatIf.run(request, engine.committedSeq());
        } catch (WhatIf.InvalidRequestException | TimeTravel.BeyondTheEndException e) {
            throw ApiException.invalidField(e.getMessage() + ".");
        } finally {
            running.release();
        }
        ctx.contentType("application/json");
        try (Writer writer = new OutputStreamWriter(ctx.outputStream(), StandardCharsets.UTF_8)) {
            WhatIfJson.write(writer, result);
        }
    }
}
