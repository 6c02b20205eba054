package eventbank.server.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets the requests under way finish when the server stops (finding 11 of docs/RELIABILITY.md),
 * like Jetty's {@code GracefulHandler}, but answers a request that arrives during the stop with
 * the API's own error, 503 {@code stopping} as JSON with {@code Connection: close}, where
 * Jetty's would write its error page.
 *
 * <p>The stop has two steps. {@link #drain} comes first, while Jetty still runs in every other
 * way: new requests are answered 503, and it waits until no request is being handled and none
 * has come or finished for {@link #QUIET_MILLIS}. The quiet time is for a keep-alive client that
 * got its reply just before the stop began: it sends its next request on the same connection a
 * moment later, and should get 503 {@code stopping} rather than a connection closed under it with
 * no reply (which it cannot tell from a request lost in flight). Only then does Jetty's own stop
 * begin ({@code Server.stop()} with a stop timeout, which shuts down every {@link Graceful} part
 * and waits for this handler to have no reply left to write). Jetty's stop must not begin while
 * a request is handled: in a run under load, two replies written during it failed with
 * {@code AsynchronousCloseException} (their sockets closed by another thread as they were
 * written), after their transfers had been recorded.
 */
final class GracefulStop extends Handler.Wrapper implements Graceful {
    private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);
    static final String STOPPING_BODY = "{\"error\":\"stopping\",\"message\":\"The server is stopping; this request"
            + " was not handled and nothing was recorded. Retry in a moment, with the same Idempotency-Key.\"}";
    private static final String RETRY_AFTER_SECONDS = "5";
    static final long QUIET_MILLIS = 500;

    /** When a request to be handled last came or finished: {@link System#nanoTime()}. */
    private volatile long lastHandledNanos = System.nanoTime();

    /** Requests passed on to the API that have not finished. */
    private final LongAdder handling = new LongAdder();
    /** Requests answered 503 whose reply is still being written. */
    private final LongAdder refusing = new LongAdder();
    private final Graceful.Shutdown shutdown = new Graceful.Shutdown(this) {
        @Override
        public boolean isShutdownDone() {
            return isDrained() && refusing.sum() == 0;
        }
    };

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        // Counted before the test, so that a stop starting between the two waits for this request.
        handling.increment();
        if (shutdown.isShutdown()) {
            refusing.increment();
            handling.decrement();
            response.setStatus(HttpStatus.SERVICE_UNAVAILABLE_503);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER_SECONDS);
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            response.write(true, ByteBuffer.wrap(STOPPING_BODY.getBytes(StandardCharsets.UTF_8)),
                    whenDone(callback, refusing));
            return true;
        }
        lastHandledNanos = System.nanoTime();
        boolean handled;
        try {
            handled = super.handle(request, response, whenDone(callback, handling));
        } catch (Throwable e) {
            finished(handling);
            throw e;
        }
        if (!handled) {
            finished(handling);
        }
        return handled;
    }

    private Callback whenDone(Callback callback, LongAdder counter) {
        return new Callback.Nested(callback) {
            @Override
            public void succeeded() {
                finished(counter);
                super.succeeded();
            }

            @Override
            public void failed(Throwable cause) {
                finished(counter);
                super.failed(cause);
            }
        };
    }

    private void finished(LongAdder counter) {
        if (counter == handling) {
            lastHandledNanos = System.nanoTime();
        }
        counter.decrement();
        if (shutdown.isShutdown()) {
            shutdown.check();
        }
    }

    /** No request is being handled, and none has come or finished for {@link #QUIET_MILLIS}. */
    private boolean isDrained() {
        return handling.sum() == 0
                && System.nanoTime() - lastHandledNanos >= TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
    }

    /**
     * The first step of a stop: from now on requests are answered 503 {@code stopping}; returns
     * once those under way have finished and the quiet time has passed, or after {@code timeout}
     * (then Jetty's stop closes the connections of the requests still under way).
     */
    static void drain(Server server, Duration timeout) throws InterruptedException {
        GracefulStop stop = server.getDescendant(GracefulStop.class);
        if (stop == null) {
            return;
        }
        stop.shutdown();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!stop.isDrained()) {
            if (System.nanoTime() - deadline >= 0) {
                LOG.warn("{} request(s) still under way after {}; stopping anyway", stop.handling.sum(), timeout);
                return;
            }
            Thread.sleep(QUIET_MILLIS / 10);
        }
    }

    @Override
    public CompletableFuture<Void> shutdown() {
        // Called twice in a stop (by drain, then by Jetty): one watcher is enough.
        boolean first = !shutdown.isShutdown();
        CompletableFuture<Void> done = shutdown.shutdown();
        if (!first) {
            return done;
        }
        // Nothing else looks again once the last request has finished and the quiet time passes.
        Thread.ofVirtual().name("eventbank-graceful-stop").start(() -> {
            while (!done.isDone() && !isStopped()) {
                try {
                    Thread.sleep(QUIET_MILLIS / 5);
                } catch (InterruptedException e) {
                    return;
                }
                shutdown.check();
            }
        });
        return done;
    }

    @Override
    public boolean isShutdown() {
        return shutdown.isShutdown();
    }
}
