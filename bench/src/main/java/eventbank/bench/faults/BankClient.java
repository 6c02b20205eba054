package eventbank.bench.faults;

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
 * The harness's HTTP client: JSON in and out, the server's address swapped at each restart.
 * Every failure to get a reply (refused, reset, timed out) is an {@link IOException} to the
 * caller, which records the request as unanswered. In a cluster it goes where the nodes point:
 * after a command answered 503 {@code not_leader} it sends to the {@code leader_url} given (the
 * command itself stays unanswered, to be sent again with its key), and it follows the 307 a
 * standby answers a verification link with.
 */
final class BankClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

    /**
     * A reply: status, JSON body (NullNode when not JSON), the Idempotent-Replayed header, and
     * the body's text with the Content-Type, for reporting a reply that is not JSON.
     */
    record Reply(int status, JsonNode body, boolean replayed, String text) {
        String error() {
            return body.path("error").asText("");
        }

        /** The body for a report: the JSON, or the raw text when it was not JSON. */
        String shown() {
            return body.isNull() ? text : body.toString();
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(5)).build();
    private volatile String baseUrl;

    void baseUrl(String url) {
        this.baseUrl = url;
    }

    String baseUrl() {
        return baseUrl;
    }

    Reply post(String path, Map<String, ?> body, String token, String idempotencyKey)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        Reply reply = send(request.build());
        String leader = reply.body().path("leader_url").asText("");
        if (reply.status() == 503 && reply.error().equals("not_leader") && !leader.isEmpty()) {
            baseUrl = leader;
        }
        return reply;
    }

    Reply get(String pathAndQuery, String token) throws IOException, InterruptedException {
        return getAt(baseUrl, pathAndQuery, token);
    }

    /** A GET to another server than the current one (another node of a cluster). */
    Reply getAt(String serverUrl, String pathAndQuery, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(serverUrl + pathAndQuery))
                .timeout(REQUEST_TIMEOUT).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request.build());
    }

    /** A GET with the operator's key ({@code X-Operator-Key}). */
    Reply getAsOperator(String pathAndQuery, String operatorKey) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery)).timeout(REQUEST_TIMEOUT)
                .header("X-Operator-Key", operatorKey).GET().build());
    }

    private Reply send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        JsonNode body;
        try {
            body = response.body().isEmpty() ? NullNode.instance : JSON.readTree(response.body());
        } catch (IOException notJson) {
            body = NullNode.instance;
        }
        String text = "(Content-Type " + response.headers().firstValue("Content-Type").orElse("none") + ") "
                + (response.body().length() > 500 ? response.body().substring(0, 500) + "..." : response.body());
        return new Reply(response.statusCode(), body,
                "true".equals(response.headers().firstValue("Idempotent-Replayed").orElse(null)), text);
    }
}
