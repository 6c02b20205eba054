package eventbank.server.http;

import eventbank.server.readmodel.ReadModel;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Read-your-writes for queries: a read model answers once it holds the seq the client asks for
 * ({@code min_seq}) or everything committed when the request came, waiting up to the read wait,
 * else 503 read_model_lagging.
 */
final class ReadWaits {
    private final LongSupplier committedSeq;
    private final BooleanSupplier following;
    private final Duration readWait;

    /** @param committedSeq the engine's last committed seq */
    ReadWaits(LongSupplier committedSeq, Duration readWait) {
        this(committedSeq, () -> false, readWait);
    }

    /**
     * @param following whether this node follows a leader (a standby or reader of a cluster):
     *                  a seq beyond what it has seen may be the leader's, and is waited for
     */
    ReadWaits(LongSupplier committedSeq, BooleanSupplier following, Duration readWait) {
        this.committedSeq = committedSeq;
        this.following = following;
        this.readWait = readWait;
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
        await(model, committedSeq.getAsLong());
    }

    /** Whether the model holds everything committed now, without waiting. */
    boolean holdsCommitted(ReadModel model) {
        return model.appliedSeq() >= committedSeq.getAsLong();
    }

    /** The {@code min_seq} query parameter waited for, if given. */
    void awaitMinSeq(Context ctx, ReadModel model) {
        String text = ctx.queryParam("min_seq");
        if (text == null) {
            return;
        }
        long minSeq = Requests.queryLong(text, "min_seq", 0, Long.MAX_VALUE);
        if (minSeq > committedSeq.getAsLong() && !following.getAsBoolean()) {
            throw ApiException.invalidQuery("min_seq " + minSeq + " is beyond the last recorded event.");
        }
        await(model, minSeq);
    }
}
