package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank serve} with the test-only fault hook: a failed journal fsync stops the bank
 * (503 {@code commit_outcome_unknown}, then {@code journal_failed}, {@code /health} 503), the log
 * says so once as an error, and SIGTERM then ends the process with exit code 1, not with the
 * exit 0 and "stopped cleanly" of a healthy stop (finding 2 of docs/RELIABILITY.md). A start
 * without the hook has everything acknowledged.
 */
class ServeFailStopTest {
    @TempDir
    Path temp;

    private record Child(Process process, HttpApi http, Path out) {}

    private Child serve(Path data, String faults) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path out = Files.createTempFile(temp, "serve", ".out");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        if (faults != null) {
            command.add("-Deventbank.faults=" + faults);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "eventbank.server.Main", "serve",
                "--data-dir", data.toString(), "--port", Integer.toString(port)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().put("EVENTBANK_AUTH_BCRYPT_COST", "4");
        Process process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(out).contains("serving on")) {
            assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
            assertThat(System.nanoTime()).as("the server did not start").isLessThan(deadline);
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
        return new Child(process, new HttpApi("http://127.0.0.1:" + port), out);
    }

    private static HttpApi.Response open(Child child, int i) throws Exception {
        return child.http().post("/api/account", Map.of("email", "user" + i + "@example.com",
                "password", "password-" + i), null, "open-" + i);
    }

    @Test
    void aFailedFsyncStopsTheBankAndTheProcessDoesNotEndAsIfAllWereWell() throws Exception {
        Path data = temp.resolve("data");
        // Fsync 1 is the new segment's header, 2 the first opening's batch, 3 the second's.
        Child failing = serve(data, "journal-fsync@3");
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

        Child healthy = serve(data, null);
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
