package eventbank.server.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;

/**
 * Lets the requests under way finish when the server stops (finding 11 of docs/RELIABILITY.md),
 * like Jetty's {@code GracefulHandler}, but answers a request that arrives during the stop with
 * the API's own error, 503 {@code stopping} as JSON with {@code Connection: close}, where
 * Jetty's would write its error page. Jetty's {@code Server.stop()} with a stop timeout first
 * shuts down every {@link Graceful} part (the connector stops accepting, this handler refuses
 * new requests) and waits, up to that timeout, until this handler has no request left.
 *
 * <p>It also waits until no request has come or finished for {@link #QUIET_MILLIS}: a keep-alive
 * client that got its reply just before the stop began sends its next request on the same
 * connection a moment later, and should get 503 {@code stopping} rather than a connection closed
 * under it with no reply (which it cannot tell from a request lost in flight). Replies written
 * during the stop close their connection, so a client sends at most one more request on it.
 */
final class GracefulStop extends Handler.Wrapper implements Graceful {
    static final String STOPPING_BODY = "{\"error\":\"stopping\",\"message\":\"The server is stopping; this request"
            + " was not handled and nothing was recorded. Retry in a moment, with the same Idempotency-Key.\"}";
    private static final String RETRY_AFTER_SECONDS = "5";
    static final long QUIET_MILLIS = 500;

    /** When a request last came or finished: {@link System#nanoTime()}. */
    private volatile long lastActivityNanos = System.nanoTime();

    private final LongAdder requestsUnderWay = new LongAdder();
    private final Graceful.Shutdown shutdown = new Graceful.Shutdown(this) {
        @Override
        public boolean isShutdownDone() {
            return requestsUnderWay.sum() == 0
                    && System.nanoTime() - lastActivityNanos >= TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
        }
    };

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        // Counted before the test, so that a stop starting between the two waits for this request.
        requestsUnderWay.increment();
        lastActivityNanos = System.nanoTime();
        Callback counted = new Callback.Nested(callback) {
            @Override
            public void succeeded() {
                finished();
                super.succeeded();
            }

            @Override
            public void failed(Throwable cause) {
                finished();
                super.failed(cause);
            }
        };
        if (shutdown.isShutdown()) {
            response.setStatus(HttpStatus.SERVICE_UNAVAILABLE_503);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER_SECONDS);
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            response.write(true, ByteBuffer.wrap(STOPPING_BODY.getBytes(StandardCharsets.UTF_8)), counted);
            return true;
        }
        boolean handled;
        try {
            handled = super.handle(request, response, counted);
        } catch (Throwable e) {
            finished();
            throw e;
        }
        if (!handled) {
            finished();
        }
        return handled;
    }

    private void finished() {
        lastActivityNanos = System.nanoTime();
        requestsUnderWay.decrement();
        if (shutdown.isShutdown()) {
            shutdown.check();
        }
    }

    @Override
    public CompletableFuture<Void> shutdown() {
        CompletableFuture<Void> done = shutdown.shutdown();
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
