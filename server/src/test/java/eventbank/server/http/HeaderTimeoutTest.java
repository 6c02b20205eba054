package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.header_timeout}: a client that trickles header lines, each well within the idle
 * timeout, has its connection closed once its headers are not complete in time (finding 4 of
 * docs/RELIABILITY.md); an idle keep-alive connection is left alone.
 */
class HeaderTimeoutTest {
    @TempDir
    Path temp;

    @Test
    void aTricklingClientIsClosedAndAnIdleOneIsNot() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"),
                Map.of("http.header_timeout", "PT1S", "http.idle_timeout", "PT30S"));
             Socket trickling = new Socket(); Socket idle = new Socket()) {
            int port = URI.create(server.http.base()).getPort();
            trickling.connect(new InetSocketAddress("127.0.0.1", port));
            idle.connect(new InetSocketAddress("127.0.0.1", port));
            trickling.setSoTimeout(250);
            idle.setSoTimeout(250);
            OutputStream out = trickling.getOutputStream();
            InputStream in = trickling.getInputStream();
            out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long started = System.nanoTime();
            long deadline = started + TimeUnit.SECONDS.toNanos(10);
            boolean closed = false;
            for (int line = 0; !closed; line++) {
                assertThat(System.nanoTime()).as("the trickling connection closed").isLessThan(deadline);
                try {
                    closed = in.read() < 0;
                } catch (SocketTimeoutException stillOpen) {
                    out.write(("X-Slow-" + line + ": 1\r\n").getBytes(StandardCharsets.ISO_8859_1));
                } catch (java.net.SocketException reset) {
                    closed = true;
                }
            }
            // Not before the timeout: it is counted from the first byte seen.
            assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
            try {
                assertThat(idle.getInputStream().read()).as("the idle connection is still open").isNotNegative();
            } catch (SocketTimeoutException stillOpen) {
                // Expected: nothing to read, and not closed.
            }
        }
    }
}
