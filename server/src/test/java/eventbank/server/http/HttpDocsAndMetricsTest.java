package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.server.openapi.ApiDocs;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operations routes a running server answers: the API description, its page, metrics. */
class HttpDocsAndMetricsTest {
    @TempDir
    Path temporary;

    @Test
    void theDescriptionAndItsPageAreServedWithTheirAssets() throws Exception {
        try (TestServer server = TestServer.start(temporary.resolve("data"))) {
            HttpApi.Response description = server.http.get("/openapi.json", null);
            assertThat(description.status()).isEqualTo(200);
            assertThat(description.headers().firstValue("Content-Type")).get().asString()
                    .startsWith("application/json");
            JsonNode json = description.json();
            assertThat(json.get("openapi").asText()).startsWith("3.");
            assertThat(json.get("paths").has("/api/money_transfer")).isTrue();

            HttpApi.Response page = server.http.get("/docs", null);
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.body()).contains(ApiDocs.DOCS_SCRIPT_PATH, ApiDocs.SWAGGER_UI_BUNDLE);
            assertThat(server.http.get(ApiDocs.DOCS_SCRIPT_PATH, null).body()).contains("/openapi.json");
            HttpApi.Response bundle = server.http.get(ApiDocs.SWAGGER_UI_URL_PREFIX + ApiDocs.SWAGGER_UI_BUNDLE, null);
            assertThat(bundle.status()).as("the page's script is served from the webjar").isEqualTo(200);
            assertThat(bundle.body()).hasSizeGreaterThan(100_000);
        }
    }

    @Test
    void metricsCountTheRepliesByOutcomeAndReason() throws Exception {
        try (TestServer server = TestServer.start(temporary.resolve("data"))) {
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            HttpApi.Response refused = server.http.post("/api/withdraw", Map.of("amount", 100_000_01L),
                    alice.token(), null);
            assertThat(refused.status()).isEqualTo(422);
            HttpApi.Response taken = server.http.post("/api/withdraw", Map.of("amount", 1_00), alice.token(), null);
            assertThat(taken.status()).isEqualTo(200);
            long seq = taken.json().get("seq").asLong();

            HttpApi.Response metrics = server.http.get("/metrics", null);
            assertThat(metrics.status()).isEqualTo(200);
            assertThat(metrics.body())
                    .contains("eventbank_commands_total{outcome=\"rejected\",reason=\"insufficient_funds\"} 1.0")
                    .contains("eventbank_committed_seq " + seq + ".0")
                    .contains("eventbank_fsync_seconds_bucket")
                    .contains("eventbank_engine_writable 1.0");
        }
    }
}
