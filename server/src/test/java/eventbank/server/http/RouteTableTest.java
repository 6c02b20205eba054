package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.server.openapi.ApiDocs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The route table against what a running server registers and what its API description
 * ({@code GET /openapi.json}, as served) describes: the same routes, method and path, and the
 * names that Idempotency-Key fingerprints already stored in journals hold.
 */
class RouteTableTest {
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch",
            "trace");

    @TempDir
    Path temp;

    @Test
    void theServedDescriptionDescribesExactlyTheRegisteredRoutes() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            List<String> registered = server.service.httpServer().registeredRoutes();
            assertThat(registered).as("registered from the table, each once")
                    .containsExactlyInAnyOrderElementsOf(Arrays.stream(Route.values()).map(Route::toString).toList());
            List<String> undescribed = Arrays.stream(Route.values()).filter(route -> !route.described())
                    .map(Route::toString).toList();
            assertThat(undescribed).as("the pages and their files, not the API")
                    .containsExactly("GET /docs/start.js", "GET /", "GET /console", "GET /web/<path>",
                            "GET /webjars/swagger-ui/" + ApiDocs.SWAGGER_UI_VERSION + "/<path>");

            HttpApi.Response description = server.http.get("/openapi.json", null);
            assertThat(description.status()).isEqualTo(200);
            List<String> described = operations(description.json());
            assertThat(described).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(registered.stream()
                            .filter(route -> !undescribed.contains(route)).toList());
        }
    }

    /** Fingerprints in journals hash these names: changing one would refuse every retry of a stored key. */
    @Test
    void theFingerprintedRoutesKeepTheNamesJournalsHold() {
        assertThat(Route.TRANSFER).hasToString("POST /api/money_transfer");
        assertThat(Route.TRANSFERS).hasToString("POST /api/money_transfers");
        assertThat(Route.WITHDRAW).hasToString("POST /api/withdraw");
        assertThat(Route.OPEN_ACCOUNT).hasToString("POST /api/account");
    }

    /** Every operation of the description as {@code METHOD path}. */
    private static List<String> operations(JsonNode description) {
        List<String> operations = new ArrayList<>();
        description.path("paths").properties().forEach(path -> path.getValue().properties().forEach(method -> {
            if (METHODS.contains(method.getKey())) {
                operations.add(method.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        assertThat(operations).as("the description's operations").isNotEmpty();
        return operations;
    }
}
