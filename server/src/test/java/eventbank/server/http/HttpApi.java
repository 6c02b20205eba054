package eventbank.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A real HTTP client (java.net.http) for the tests, with JSON in and out. */
public final class HttpApi {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    HttpApi(String base) {
        this.base = base;
    }

    public record Response(int status, String body, HttpHeaders headers) {
        public JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + this, e);
            }
        }

        public String error() {
            return json().path("error").asText(null);
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    public Response get(String path, String token) throws Exception {
        return send(request(path, token).GET().build());
    }

    /** A GET with X-Operator-Key (none when null). */
    public Response operatorGet(String path, String operatorKey) throws Exception {
        HttpRequest.Builder request = request(path, null).GET();
        if (operatorKey != null) {
            request.header("X-Operator-Key", operatorKey);
        }
        return send(request.build());
    }

    /** A POST of a JSON body with X-Operator-Key (none when null). */
    public Response operatorPost(String path, String json, String operatorKey) throws Exception {
        HttpRequest.Builder request = request(path, null).POST(HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json");
        if (operatorKey != null) {
            request.header("X-Operator-Key", operatorKey);
        }
        return send(request.build());
    }

    /** A request without a body, with X-Operator-Key and a bearer token (each left out when null). */
    Response operatorSend(String method, String path, String operatorKey, String token) throws Exception {
        HttpRequest.Builder request = request(path, token).method(method, HttpRequest.BodyPublishers.noBody());
        if (operatorKey != null) {
            request.header("X-Operator-Key", operatorKey);
        }
        return send(request.build());
    }

    public Response post(String path, Object body, String token, String idempotencyKey) throws Exception {
        return postRaw(path, MAPPER.writeValueAsString(body), "application/json", token, idempotencyKey);
    }

    Response postRaw(String path, String body, String contentType, String token, String idempotencyKey)
            throws Exception {
        HttpRequest.Builder request = request(path, token).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return send(request.build());
    }

    Response send(String method, String path, String token) throws Exception {
        return send(request(path, token).method(method, HttpRequest.BodyPublishers.noBody()).build());
    }

    Response send(HttpRequest request) throws Exception {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        return new Response(response.statusCode(), response.body(), response.headers());
    }

    HttpRequest.Builder request(String path, String token) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    String base() {
        return base;
    }
}
