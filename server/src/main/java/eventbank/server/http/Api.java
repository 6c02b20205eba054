package eventbank.server.http;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.engine.Engine;
import eventbank.server.metrics.BankMetrics;
import eventbank.engine.Outcome;
import eventbank.server.readmodel.ReadModel;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/**
 * What every controller needs to turn HTTP into a command and an outcome into HTTP: the body,
 * the holder behind the token, the Idempotency-Key, min_seq waits and submitting.
 */
final class Api {
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final String REPLAYED_HEADER = "Idempotent-Replayed";
    static final String SEQ_ATTRIBUTE = "eventbank.seq";
    static final String OPERATOR_KEY_HEADER = "X-Operator-Key";

    final Engine engine;
    final ReadModels readModels;
    final Tokens tokens;
    private final BankMetrics metrics;
    private final byte[] fingerprintKey;
    private final Duration readWait;
    /** The operator key's UTF-8 bytes, or null when none is configured. */
    private final byte[] operatorKey;

    Api(Engine engine, ReadModels readModels, Tokens tokens, BankMetrics metrics, byte[] fingerprintKey,
        Duration readWait, java.util.Optional<String> operatorKey) {
        this.operatorKey = operatorKey.map(k -> k.getBytes(java.nio.charset.StandardCharsets.UTF_8)).orElse(null);
        this.engine = engine;
        this.metrics = metrics;
        this.readModels = readModels;
        this.tokens = tokens;
        this.fingerprintKey = fingerprintKey;
        this.readWait = readWait;
    }

    /** The JSON object of a POST, checked for media type and fields. */
    JsonBody body(Context ctx, Set<String> known) {
        return JsonBody.parse(jsonBytes(ctx), known);
    }

    /** The bytes of a POST's body, checked for media type only. */
    byte[] jsonBytes(Context ctx) {
        String contentType = ctx.contentType();
        String mime = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mime.equals("application/json")) {
            throw new ApiException(415, "unsupported_media_type",
                    "The body must be sent with Content-Type: application/json.");
        }
        return ctx.bodyAsBytes();
    }

    /** The account number of the holder whose bearer token came with the request. */
    long holder(Context ctx) {
        String authorization = ctx.header("Authorization");
        if (authorization == null || authorization.isBlank()) {
            throw new ApiException(401, "missing_token", "This route needs an Authorization: Bearer token; "
                    + "get one from POST /api/login.");
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "invalid_token", "The Authorization header must be 'Bearer <token>'.");
        }
        return tokens.verify(authorization.substring(7).strip());
    }

    /**
     * Lets an operator through: {@code X-Operator-Key} must equal {@code operator.key}
     * (compared in constant time). None configured → 403 operator_key_not_configured; missing or
     * wrong → 401 operator_key_invalid. A holder's bearer token opens no operator route.
     */
    void operator(Context ctx) {
        if (operatorKey == null) {
            throw new ApiException(403, "operator_key_not_configured", "Operator routes are off: set operator.key "
                    + "(or EVENTBANK_OPERATOR_KEY), at least 16 characters, and restart the server.");
        }
        String sent = ctx.header(OPERATOR_KEY_HEADER);
        if (sent == null || !java.security.MessageDigest.isEqual(
                sent.getBytes(java.nio.charset.StandardCharsets.UTF_8), operatorKey)) {
            throw new ApiException(401, "operator_key_invalid", "This route needs the operator key in the "
                    + OPERATOR_KEY_HEADER + " header.");
        }
    }

    /** The Idempotency-Key with the fingerprint of this route and body, or null without the header. */
    Idempotency idempotency(Context ctx, String route, String canonicalBody) {
        String key = idempotencyKey(ctx);
        return key == null ? null : new Idempotency(key, Keys.fingerprint(fingerprintKey, route, canonicalBody));
    }

    /**
     * An account opening's Idempotency-Key, without a fingerprint (or null without the header).
     * A fingerprint over the email and the password, kept in the journal for good, would let
     * anyone holding the server key test password guesses at HMAC speed rather than bcrypt's; a
     * retry is compared with the recorded opening's values instead ({@code AccountsController}).
     */
    Idempotency openingIdempotency(Context ctx) {
        String key = idempotencyKey(ctx);
        return key == null ? null : new Idempotency(key, Idempotency.NO_FINGERPRINT);
    }

    private static String idempotencyKey(Context ctx) {
        String key = ctx.header(IDEMPOTENCY_KEY);
        if (key != null && !Idempotency.isValidKey(key)) {
            throw ApiException.invalidField("The Idempotency-Key header must be 1 to 255 printable ASCII characters.");
        }
        return key;
    }

    /** Submits and waits for the outcome; the engine answers every command. */
    Outcome submit(Command command) {
        try {
            Outcome outcome = engine.submit(command).get();
            metrics.record(outcome);
            return outcome;
        } catch (InterruptedException e) {
            throw interruptedAfterSubmitting();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the engine failed a command", e.getCause());
        }
    }

    /**
     * The answer when the wait for a submitted command is interrupted (the HTTP server stopping
     * under a request). The command is in the engine and may still commit, so the outcome is
     * unknown: not {@code busy}, which tells a client that nothing was recorded. The interrupt is
     * not set again, on purpose: this thread's last work is to write that reply, and with the
     * flag set Jetty's blocking write fails, which turned the reply into Jetty's own 500 page
     * (finding 3 of docs/RELIABILITY.md). The thread ends with the request anyway.
     */
    private static ApiException interruptedAfterSubmitting() {
        return new ApiException(503, "commit_outcome_unknown", "The server is stopping, and the change may or may"
                + " not have been recorded; retry with the same Idempotency-Key in a moment.", 1);
    }

    /**
     * Submits every command before waiting for any, so that they share chunks and commit
     * batches, then waits for each; the outcomes are in the order of the commands.
     */
    java.util.List<Outcome> submitAll(java.util.List<? extends Command> commands) {
        java.util.List<java.util.concurrent.CompletableFuture<Outcome>> futures = new java.util.ArrayList<>(commands.size());
        for (Command command : commands) {
            futures.add(engine.submit(command));
        }
        java.util.List<Outcome> outcomes = new java.util.ArrayList<>(commands.size());
        try {
            for (java.util.concurrent.CompletableFuture<Outcome> future : futures) {
                Outcome outcome = future.get();
                metrics.record(outcome);
                outcomes.add(outcome);
            }
        } catch (InterruptedException e) {
            throw interruptedAfterSubmitting();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the engine failed a command", e.getCause());
        }
        return outcomes;
    }

    /** Waits until the model holds {@code seq}, or answers 503 read_model_lagging. */
    void await(ReadModel model, long seq) {
        if (seq <= 0 || model.appliedSeq() >= seq) {
            return;
        }
        try {
            if (!model.awaitSeq(seq, readWait)) {
                throw Errors.readModelLagging();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Errors.readModelLagging();
        }
    }

    /** Waits until the model has caught up with everything committed now. */
    void awaitCommitted(ReadModel model) {
        await(model, engine.committedSeq());
    }

    /** The {@code min_seq} query parameter waited for, if given. */
    void awaitMinSeq(Context ctx, ReadModel model) {
        String text = ctx.queryParam("min_seq");
        if (text == null) {
            return;
        }
        long minSeq = queryLong(text, "min_seq", 0, Long.MAX_VALUE);
        if (minSeq > engine.committedSeq()) {
            throw ApiException.invalidQuery("min_seq " + minSeq + " is beyond the last recorded event.");
        }
        await(model, minSeq);
    }

    static long queryLong(String text, String name, long min, long max) {
        long value;
        try {
            if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new NumberFormatException();
            }
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.invalidQuery("The query parameter " + name + " must be a whole number from " + min
                    + " to " + max + ".");
        }
        if (value < min || value > max) {
            throw ApiException.invalidQuery("The query parameter " + name + " must be from " + min + " to " + max
                    + ".");
        }
        return value;
    }

    static void seq(Context ctx, long seq) {
        ctx.attribute(SEQ_ATTRIBUTE, seq);
    }

    static String time(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)
                .toString();
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }
}
