package eventbank.server.http;

import java.time.Duration;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Reads and drops the rest of a request body that a reply refused unread, after that reply and
 * before the connection closes, so that the client gets the reply. A server that closes a socket
 * with received data still unread makes the kernel send a reset, and a client still sending its
 * body may then lose the reply already on its way: a 401 to a 1 or 4 MB upload arrived as no
 * reply at all a few times in a hundred (the HTTP fuzz test met it at 1.1 MB). This is the
 * lingering close of RFC 9112, section 9.6, as Apache httpd and nginx do it.
 *
 * <p>Only replies that say {@code Connection: close} linger: the API says so whenever it refuses
 * a body it may not have read whole, and the graceful stop's 503 does too. Jetty, left to itself,
 * drops what has arrived of an unread body when the reply is complete and fails the rest, so the
 * request handed on keeps the rest readable ({@link Lingering#consumeAvailable}). The lingering stops when
 * the body ends, after {@link #BYTES_MAX} bytes or after {@link #TIME_MAX}, whichever comes
 * first; a client that stops sending is cut off by the connection's idle timeout. Then Jetty
 * closes the connection. A request that waits for {@code 100 Continue} has sent no body, and a
 * request without a body has none to read: both are handed on as they are.
 */
final class LingeringClose extends Handler.Wrapper {
    /**
     * The largest {@code http.request_body_bytes_max} an operator may set, so that no body the
     * API could take is cut off; an upload larger than this is.
     */
    static final long BYTES_MAX = 64L * 1024 * 1024;
    static final Duration TIME_MAX = Duration.ofSeconds(5);

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (request.getLength() == 0
                || request.getHeaders().contains(HttpHeader.EXPECT, HttpHeaderValue.CONTINUE.asString())) {
            return super.handle(request, response, callback);
        }
        Lingering lingering = new Lingering(request, response, callback);
        return super.handle(lingering, response, lingering);
    }

    /**
     * The request handed on, and the callback of its reply: once the reply is complete, it reads
     * the rest of the body and drops it if the reply closes the connection.
     */
    private static final class Lingering extends Request.Wrapper implements Callback, Runnable {
        private final Response response;
        private final Callback callback;
        private long dropped;
        private long deadlineNanos;

        Lingering(Request request, Response response, Callback callback) {
            super(request);
            this.response = response;
            this.callback = callback;
        }

        @Override
        public void succeeded() {
            if (response.getHeaders().contains(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString())) {
                deadlineNanos = System.nanoTime() + TIME_MAX.toNanos();
                run();
            } else {
                callback.succeeded();
            }
        }

        @Override
        public void failed(Throwable failure) {
            callback.failed(failure);
        }

        @Override
        public InvocationType getInvocationType() {
            return callback.getInvocationType();
        }

        /**
         * Drops what has arrived, as Jetty does when a reply is complete, but leaves the rest of
         * the body readable where Jetty would fail it: true if the body has ended.
         */
        @Override
        public boolean consumeAvailable() {
            while (dropped < BYTES_MAX) {
                Content.Chunk chunk = read();
                if (chunk == null || Content.Chunk.isFailure(chunk)) {
                    return false;
                }
                dropped += chunk.remaining();
                chunk.release();
                if (chunk.isLast()) {
                    return true;
                }
            }
            return false;
        }

        /** Drops the body as it arrives, until it ends or a limit is met; then the request is done. */
        @Override
        public void run() {
            while (true) {
                Content.Chunk chunk = read();
                if (chunk == null) {
                    demand(this);
                    return;
                }
                // A failure (the idle timeout, a reset, a malformed chunk) ends the body as well.
                boolean end = chunk.isLast() || Content.Chunk.isFailure(chunk);
                dropped += chunk.remaining();
                chunk.release();
                if (end || dropped >= BYTES_MAX || System.nanoTime() - deadlineNanos >= 0) {
                    callback.succeeded();
                    return;
                }
            }
        }
    }
}
