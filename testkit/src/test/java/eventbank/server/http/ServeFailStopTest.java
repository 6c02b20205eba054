package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank serve} with the test-only fault hook (the testkit's {@code FaultInjectingMain}):
 * a failed journal fsync stops the bank (503 {@code commit_outcome_unknown}, then {@code
 * journal_failed}, {@code /health} 503), the log says so once as an error, and SIGTERM then ends
 * the process with exit code 1, not with the exit 0 and "stopped cleanly" of a healthy stop
 * (finding 2 of docs/RELIABILITY.md). A start without the hook has everything acknowledged.
 *
 * <p>It lives in the testkit, in the package of the server tests' {@link ServeChild}, since only
 * the testkit has the hook on its class path.
 */
class ServeFailStopTest {
    @TempDir
    Path temp;

    private static HttpApi.Response open(ServeChild child, int i) throws Exception {
        return child.http().post("/api/account", Map.of("email", "user" + i + "@example.com",
                "password", "password-" + i), null, "open-" + i);
    }

    @Test
    void aFailedFsyncStopsTheBankAndTheProcessDoesNotEndAsIfAllWereWell() throws Exception {
        Path data = temp.resolve("data");
        // Fsync 1 is the new segment's header, 2 the first opening's batch, 3 the second's.
        ServeChild failing = ServeChild.start(temp, data, "journal-fsync@3");
        HttpApi.Response first = open(failing, 1);
        assertThat(first.status()).isEqualTo(201);
        HttpApi.Response second = open(failing, 2);
        assertThat(second.status()).isEqualTo(503);
        assertThat(second.json().get("error").asText()).isEqualTo("commit_outcome_unknown");
        assertThat(open(failing, 3).json().get("error").asText()).isEqualTo("journal_failed");
        HttpApi.Response health = failing.http().get("/health", null);
        assertThat(health.status()).isEqualTo(503);
        assertThat(health.json().get("status").asText()).isEqualTo("failed");
        assertThat(health.body()).contains("injected fault journal-fsync@3");

        failing.process().toHandle().destroy(); // SIGTERM
        assertThat(failing.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(failing.process().exitValue()).isEqualTo(1);
        String console = Files.readString(failing.out());
        assertThat(console).contains("TEST-ONLY FAULT INJECTION IS ON")
                .contains("stopped after the journal failed").doesNotContain("stopped cleanly");
        assertThat(console.lines().filter(line -> line.contains("ERROR") && line.contains("the journal failed: ")
                && line.contains("injected fault journal-fsync@3"))).hasSize(1);

        ServeChild healthy = ServeChild.start(temp, data, null);
        try {
            assertThat(Files.readString(healthy.out())).doesNotContain("FAULT INJECTION");
            HttpApi.Response replayed = open(healthy, 1);
            assertThat(replayed.status()).isEqualTo(201);
            assertThat(replayed.json().get("account_number").asText())
                    .isEqualTo(first.json().get("account_number").asText());
            // The second opening's outcome was unknown: its retry is either its first reply or a new commit.
            assertThat(open(healthy, 2).status()).isEqualTo(201);
            assertThat(healthy.http().get("/health", null).status()).isEqualTo(200);
        } finally {
            healthy.process().toHandle().destroy();
            assertThat(healthy.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(healthy.process().exitValue()).isZero();
        assertThat(Files.readString(healthy.out())).contains("stopped cleanly");
    }
}
