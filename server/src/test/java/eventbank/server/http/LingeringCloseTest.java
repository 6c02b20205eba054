package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A body refused before it was read (too large, or without a valid token) gets its reply, and
 * the server reads the rest the client goes on sending before it closes the connection: closed
 * at once, the socket would be reset under the client's writes, and a client busy sending could
 * lose the reply (the HTTP fuzz test met it with a 1.1 MB body). A body past the lingering's
 * limit is cut off.
 */
class LingeringCloseTest {
    private static final int BLOCK = 64 * 1024;
    private static final byte[] SPACES = spaces(BLOCK);

    @TempDir
    static Path temp;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(temp.resolve("data"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aTransferWithoutATokenIsRefusedAndTheRestOfItsBodyRead() throws Exception {
        refusedThenReadToTheEnd("/api/money_transfer", 401, "missing_token");
    }

    @Test
    void aBodyOverTheLimitIsRefusedAndTheRestOfItRead() throws Exception {
        refusedThenReadToTheEnd("/api/account", 413, "body_too_large");
    }

    @Test
    void anUploadPastWhatTheServerDrainsIsCutOff() throws Exception {
        try (RawHttp connection = RawHttp.connect(server.service.port())) {
            RawHttp.Reply reply = connection.begin("POST", "/api/account", Map.of(), 1L << 40, SPACES);
            assertThat(reply.status()).isEqualTo(413);
            long sent = BLOCK;
            long[] sentWhenCut = new long[1];
            assertThatThrownBy(() -> {
                for (long total = sent; total < 1L << 40; total += BLOCK) {
                    sentWhenCut[0] = total;
                    connection.send(SPACES);
                }
            }).isInstanceOf(IOException.class);
            // What the server drops, and what the two sockets' buffers held when it closed.
            assertThat(sentWhenCut[0]).isBetween(LingeringClose.BYTES_MAX, 3 * LingeringClose.BYTES_MAX);
        }
    }

    private static void refusedThenReadToTheEnd(String path, int status, String error) throws IOException {
        int length = 4 * 1024 * 1024;
        try (RawHttp connection = RawHttp.connect(server.service.port())) {
            RawHttp.Reply reply = connection.begin("POST", path, Map.of(), length, SPACES);
            assertThat(reply.status()).as(reply.toString()).isEqualTo(status);
            assertThat(reply.json().get("error").asText()).isEqualTo(error);
            assertThat(reply.closes()).as("the reply says the connection closes").isTrue();
            for (int sent = BLOCK; sent < length; sent += BLOCK) {
                connection.send(SPACES);
            }
            assertThat(connection.closedByServer()).as("closed once the body was read, not reset").isTrue();
        }
    }

    private static byte[] spaces(int count) {
        byte[] bytes = new byte[count];
        Arrays.fill(bytes, (byte) ' ');
        return bytes;
    }
}
