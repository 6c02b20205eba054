package eventbank.testkit.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A JSON client of any node: each request names the node's URL. No reply (refused, reset,
 * timed out) is an {@link IOException} to the caller.
 */
public final class JsonHttp {
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A reply: its status, its JSON (NullNode when not JSON), whether it was a replay, its
     * {@code Location} (or null), and who answered when.
     */
    public record Reply(int status, JsonNode body, boolean replayed, String location, String nodeUrl,
                        long receivedNanos) {
        public String error() {
            return body.path("error").asText("");
        }

        @Override
        public String toString() {
            return status + " " + body + " from " + nodeUrl;
        }
    }

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final Duration requestTimeout;

    /** @param requestTimeout how long a request may wait for its reply (a paused node answers only when resumed) */
    public JsonHttp(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    public Reply get(String nodeUrl, String pathAndQuery, String token) throws IOException, InterruptedException {
        return send(nodeUrl, request(nodeUrl + pathAndQuery, token).GET());
    }

    /** A GET with the operator's key. */
    public Reply operatorGet(String nodeUrl, String pathAndQuery, String operatorKey)
            throws IOException, InterruptedException {
        return send(nodeUrl, request(nodeUrl + pathAndQuery, null).header("X-Operator-Key", operatorKey).GET());
    }

    public Reply post(String nodeUrl, String path, Map<String, ?> body, String token, String idempotencyKey)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = request(nodeUrl + path, token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return send(nodeUrl, request);
    }

    private HttpRequest.Builder request(String uri, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(requestTimeout);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }

    private Reply send(String nodeUrl, HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        long received = System.nanoTime();
        JsonNode body;
        try {
            body = response.body().isEmpty() ? NullNode.instance : JSON.readTree(response.body());
        } catch (IOException notJson) {
            body = JSON.getNodeFactory().textNode(response.body());
        }
        boolean replayed = response.headers().firstValue("Idempotent-Replayed").map("true"::equals).orElse(false);
        return new Reply(response.statusCode(), body, replayed,
                response.headers().firstValue("Location").orElse(null), nodeUrl, received);
    }
}
