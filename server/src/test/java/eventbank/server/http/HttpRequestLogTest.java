package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The request log's lines and the money routes' replies on the wire, one keep-alive connection
 * after another: a line names the seq its request recorded and no other request's, and a reply
 * written the short way ({@link JsonReplies}) carries the same headers and bytes as before.
 */
class HttpRequestLogTest {
    @TempDir
    Path temp;

    private final Logger requests = (Logger) LoggerFactory.getLogger("eventbank.http");
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    @BeforeEach
    void listen() {
        lines.start();
        requests.addAppender(lines);
    }

    @AfterEach
    void stopListening() {
        requests.detachAppender(lines);
    }

    @Test
    void eachLineNamesTheSeqItsOwnRequestRecordedAndNoOther() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            TestServer.Holder b = server.openVerifiedHolder("b@example.com");
            Map<String, String> bearer = Map.of("Authorization", "Bearer " + a.token());
            try (RawHttp connection = RawHttp.connect(server.service.port())) {
                String transfer = "{\"to_account_number\":\"" + b.number() + "\",\"amount\":100}";
                RawHttp.Reply sent = connection.exchange("POST", "/api/money_transfer", bearer, transfer);
                long seq = sent.json().get("seq").asLong();
                assertThat(sent.status()).isEqualTo(200);
                assertThat(sent.headers()).containsEntry("content-type", "application/json")
                        .containsEntry("content-length", Integer.toString(
                                sent.body().getBytes(StandardCharsets.UTF_8).length))
                        .doesNotContainKeys("content-encoding", "etag", "transfer-encoding");
                assertThat(sent.body()).isEqualTo("{\"seq\":" + seq + ",\"from_account_number\":\"" + a.number()
                        + "\",\"to_account_number\":\"" + b.number() + "\",\"amount\":100,\"balance\":99900}");

                connection.exchange("GET", "/api/account", bearer, null);
                RawHttp.Reply refused = connection.exchange("POST", "/api/money_transfer", bearer,
                        "{\"to_account_number\":\"" + b.number() + "\",\"amount\":100000000}");
                assertThat(refused.status()).isEqualTo(422);
                Map<String, String> keyed = Map.of("Authorization", "Bearer " + a.token(), "Idempotency-Key", "k1");
                long keyedSeq = connection.exchange("POST", "/api/withdraw", keyed, "{\"amount\":5}")
                        .json().get("seq").asLong();
                RawHttp.Reply replayed = connection.exchange("POST", "/api/withdraw", keyed, "{\"amount\":5}");
                assertThat(replayed.headers()).containsEntry("idempotent-replayed", "true");
                connection.exchange("GET", "/api/nowhere", Map.of(), null);

                assertThat(logged()).contains(
                        "POST /api/money_transfer 200 seq=" + seq + " ",
                        "GET /api/account 200 ",
                        "POST /api/money_transfer 422 ",
                        "POST /api/withdraw 200 seq=" + keyedSeq + " ",
                        "POST /api/withdraw 200 seq=" + keyedSeq + " ",
                        "GET /api/nowhere 404 ");
            }
        }
    }

    @Test
    void aLargeReplyIsStillCompressedForAClientThatAsksAndASmallOneNever() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"),
                Map.of("limits.money_commands_per_minute", "0"))) {
            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            TestServer.Holder b = server.openVerifiedHolder("b@example.com");
            Map<String, String> gzip = Map.of("Authorization", "Bearer " + a.token(), "Accept-Encoding", "gzip");
            StringBuilder batch = new StringBuilder("{\"atomic\":false,\"transfers\":[");
            for (int i = 0; i < 200; i++) {
                batch.append(i == 0 ? "" : ",").append("{\"to_account_number\":\"").append(b.number())
                        .append("\",\"amount\":1}");
            }
            try (RawHttp connection = RawHttp.connect(server.service.port())) {
                RawHttp.Reply large = connection.exchange("POST", "/api/money_transfers", gzip,
                        batch.append("]}").toString());
                assertThat(large.status()).isEqualTo(200);
                assertThat(large.headers()).containsEntry("content-encoding", "gzip")
                        .containsEntry("content-type", "application/json");
                RawHttp.Reply small = connection.exchange("POST", "/api/money_transfer", gzip,
                        "{\"to_account_number\":\"" + b.number() + "\",\"amount\":1}");
                assertThat(small.status()).isEqualTo(200);
                assertThat(small.headers()).doesNotContainKey("content-encoding")
                        .containsEntry("content-type", "application/json");
            }
        }
    }

    /** Each line without its time, which varies: {@code METHOD path status [seq=N] }. */
    private List<String> logged() {
        List<String> logged = new ArrayList<>();
        for (ILoggingEvent event : lines.list) {
            String line = event.getFormattedMessage();
            assertThat(line).matches(".* \\d+\\.\\dms");
            logged.add(line.substring(0, line.lastIndexOf(' ') + 1));
        }
        return logged;
    }
}
