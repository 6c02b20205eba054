package eventbank.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 keep-alive connection on a plain socket, for tests that must see exactly what
 * came back on the wire: a complete reply, nothing at all (the connection closed or reset before
 * any byte of a reply: {@link NoReply}), or part of one ({@link TruncatedReply}). A client
 * library would retry, pool or hide the difference.
 */
final class RawHttp implements AutoCloseable {
    private static final int READ_TIMEOUT_MILLIS = 30_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    static RawHttp connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        socket.setTcpNoDelay(true);
        return new RawHttp(socket);
    }

    /** A complete reply; {@link #closes()} when the server said it closes the connection after it. */
    record Reply(int status, Map<String, String> headers, String body) {
        boolean closes() {
            return "close".equalsIgnoreCase(headers.get("connection"));
        }

        JsonNode json() {
            try {
                return HttpApi.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + this, e);
            }
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + body;
        }
    }

    /** The connection ended (closed or reset) before any byte of the reply. */
    static final class NoReply extends IOException {
        NoReply(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The connection ended in the middle of a reply, or what came was not HTTP. */
    static final class TruncatedReply extends IOException {
        TruncatedReply(String message, byte[] received, Throwable cause) {
            super(message + " after " + received.length + " bytes: "
                    + new String(received, StandardCharsets.ISO_8859_1), cause);
        }
    }

    /** Sends a request (a JSON body when {@code json} is not null) and reads its reply. */
    Reply exchange(String method, String path, Map<String, String> headers, String json) throws IOException {
        byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
        StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        if (json != null) {
            request.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        request.append("\r\n");
        try {
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
        } catch (IOException e) {
            throw new NoReply("the request could not be sent: " + e, e);
        }
        return read();
    }

    /**
     * Sends the head of a request whose body is {@code length} bytes and the first part of that
     * body, then reads the reply that comes before the rest (a refusal): {@link #send} sends more.
     */
    Reply begin(String method, String path, Map<String, String> headers, long length, byte[] part)
            throws IOException {
        StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ").append(length)
                .append("\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(part);
        out.flush();
        return read();
    }

    /** More bytes of a request's body. */
    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** True if the server closed the connection in order with nothing more to read; throws if it reset it. */
    boolean closedByServer() throws IOException {
        return in.read() < 0;
    }

    private Reply read() throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try {
            String statusLine = line(received);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new TruncatedReply("not an HTTP status line", received.toByteArray(), null);
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line = line(received); !line.isEmpty(); line = line(received)) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
            }
            byte[] body;
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                ByteArrayOutputStream chunks = new ByteArrayOutputStream();
                for (int size = Integer.parseInt(line(received).split(";")[0].strip(), 16); size > 0;
                        size = Integer.parseInt(line(received).split(";")[0].strip(), 16)) {
                    chunks.write(bytes(size, received));
                    line(received);
                }
                line(received);
                body = chunks.toByteArray();
            } else {
                body = bytes(Integer.parseInt(headers.getOrDefault("content-length", "0")), received);
            }
            return new Reply(Integer.parseInt(parts[1]), headers, new String(body, StandardCharsets.UTF_8));
        } catch (NoReply | TruncatedReply e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            if (received.size() == 0) {
                throw new NoReply("no reply: " + e, e);
            }
            throw new TruncatedReply("the reply ended: " + e, received.toByteArray(), e);
        }
    }

    private String line(ByteArrayOutputStream received) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = next(received); b != '\n'; b = next(received)) {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    private byte[] bytes(int count, ByteArrayOutputStream received) throws IOException {
        byte[] bytes = new byte[count];
        for (int i = 0; i < count; i++) {
            bytes[i] = (byte) next(received);
        }
        return bytes;
    }

    private int next(ByteArrayOutputStream received) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new java.io.EOFException("end of stream");
        }
        received.write(b);
        return b;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
