package eventbank.server.http;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose request has begun but whose headers are not complete within
 * {@code http.header_timeout} of the moment its first byte was seen (Go calls it
 * {@code ReadHeaderTimeout}). The connector's idle timeout restarts with every byte, so without
 * this a client that sends one header line every few seconds holds its connection for as long as
 * it likes, and enough of them hold every connection the server allows (finding 4 of
 * docs/RELIABILITY.md).
 *
 * <p>Jetty 12 has no such setting: each HTTP/1 connection is looked at every quarter of the
 * timeout by a task on the connector's scheduler, which reads the state of its request parser
 * (volatile in Jetty). A request is "begun" when the parser has left its start state and is still
 * in the request line or the headers; the number of requests whose headers the connection has
 * completed tells one request from the next on a keep-alive connection. A connection may so live
 * up to a quarter of the timeout longer than the timeout; what matters is that it cannot live
 * for ever. Idle connections (parser at its start) and requests being handled are left alone.
 */
final class HeaderTimeout implements Connection.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(HeaderTimeout.class);
    /** Fine enough for a timeout of a second or more, coarse enough to cost nothing. */
    private static final long CHECK_INTERVAL_MILLIS_MIN = 100;

    private final Scheduler scheduler;
    private final Duration timeout;
    private final long checkIntervalMillis;

    HeaderTimeout(Scheduler scheduler, Duration timeout) {
        this.scheduler = scheduler;
        this.timeout = timeout;
        this.checkIntervalMillis = Math.max(CHECK_INTERVAL_MILLIS_MIN, timeout.toMillis() / 4);
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof HttpConnection http) {
            new Watch(http).schedule();
        }
    }

    @Override
    public void onClosed(Connection connection) {
        // The watch sees the closed end point at its next look and stops.
    }

    /** One connection's watch; only the scheduler's thread touches its fields. */
    private final class Watch implements Runnable {
        private final HttpConnection connection;
        /** The requests completed when the current request was first seen begun, or -1 if none is. */
        private long begunAfterRequests = -1;
        private long begunSeenNanos;

        Watch(HttpConnection connection) {
            this.connection = connection;
        }

        void schedule() {
            scheduler.schedule(this, checkIntervalMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void run() {
            EndPoint endPoint = connection.getEndPoint();
            if (!endPoint.isOpen() || endPoint.getConnection() != connection) {
                return;
            }
            HttpParser parser = connection.getParser();
            if (parser.isStart() || !parser.inHeaderState()) {
                begunAfterRequests = -1;
            } else {
                long now = System.nanoTime();
                long completed = connection.getMessagesIn();
                if (completed != begunAfterRequests) {
                    begunAfterRequests = completed;
                    begunSeenNanos = now;
                } else if (now - begunSeenNanos >= timeout.toNanos()) {
                    // Debug only: a client that trickles on purpose must not be able to fill the log.
                    LOG.debug("closing {}: request headers not complete within {}", endPoint.getRemoteSocketAddress(),
                            timeout);
                    endPoint.close(new TimeoutException("request headers not complete within " + timeout));
                    return;
                }
            }
            schedule();
        }
    }
}
