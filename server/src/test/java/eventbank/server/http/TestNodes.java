package eventbank.server.http;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/** Nodes of a test cluster in this JVM: their settings, and waiting for what a node answers. */
final class TestNodes {
    private TestNodes() {}

    /**
     * The settings of node {@code name} on the journal at {@code journalUrl}: {@code node.mode}
     * {@code mode}, its URL {@code http://NAME.test}, a lease of a second and a poll every 50 ms,
     * so that a standby takes over soon; {@code keys.kek_file} {@code kekFile}, the same file for
     * every node of the cluster, as each node's copy of the cluster's KEK. The map may take more.
     */
    static Map<String, String> node(String journalUrl, String operatorKey, String name, String mode, Path kekFile) {
        Map<String, String> settings = node(journalUrl, operatorKey, name, mode);
        settings.put("keys.kek_file", kekFile.toString());
        return settings;
    }

    /** As above, with the KEK where a node's data directory keeps it by default ({@code keys/kek}). */
    static Map<String, String> node(String journalUrl, String operatorKey, String name, String mode) {
        Map<String, String> settings = new HashMap<>();
        settings.put("journal.url", journalUrl);
        settings.put("operator.key", operatorKey);
        settings.put("node.name", name);
        settings.put("node.mode", mode);
        settings.put("node.url", "http://" + name + ".test");
        settings.put("node.lease", "PT1S");
        settings.put("journal.poll_interval", "PT0.05S");
        return settings;
    }

    /** Asks {@code path} until the answer satisfies {@code condition}, for up to ten seconds. */
    static HttpApi.Response await(TestServer server, String path, Predicate<HttpApi.Response> condition)
            throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        HttpApi.Response response = server.http.get(path, null);
        while (!condition.test(response)) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(path + " never became as expected: " + response);
            }
            Thread.sleep(20);
            response = server.http.get(path, null);
        }
        return response;
    }
}
