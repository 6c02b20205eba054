package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank serve} as its own process: SIGTERM stops it cleanly with exit code 0, and
 * after SIGKILL a new server on the same data directory has every acknowledged change.
 */
class ServeProcessTest {
    @TempDir
    Path temp;

    record Child(Process process, HttpApi http, Path out) {}

    private Child serve(Path data) throws Exception {
        return serve(temp, data, Map.of());
    }

    /** Starts {@code serve} in a child JVM on a free port, with these environment variables besides. */
    static Child serve(Path temp, Path data, Map<String, String> environment) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path out = Files.createTempFile(temp, "serve", ".out");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "-cp", System.getProperty("java.class.path"), "eventbank.server.Main", "serve",
                "--data-dir", data.toString(), "--port", Integer.toString(port)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("EVENTBANK_AUTH_BCRYPT_COST", "4");
        builder.environment().putAll(environment);
        Process process = builder.start();
        // A bound, not a wait: a JVM starts in seconds, but the machine the suite runs on may be shared and loaded.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out).contains("serving on")) {
            assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
            assertThat(System.nanoTime()).as("the server did not start").isLessThan(deadline);
            Thread.sleep(50);
        }
        return new Child(process, new HttpApi("http://127.0.0.1:" + port), out);
    }

    private static String link(Path out, String number) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(out),
                    StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    int at = line.indexOf("/api/verify?account_number=" + number);
                    if (at >= 0) {
                        return line.substring(at);
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no verification link printed for " + number);
    }

    private static TestServer.Holder holder(Child child, String email) throws Exception {
        HttpApi.Response opened = child.http().post("/api/account", Map.of("email", email, "password", "pw-" + email),
                null, null);
        String number = opened.json().get("account_number").asText();
        assertThat(child.http().get(link(child.out(), number), null).status()).isEqualTo(200);
        HttpApi.Response login = child.http().post("/api/login", Map.of("account_number", number,
                "password", "pw-" + email), null, null);
        return new TestServer.Holder(number, login.json().get("token").asText());
    }

    @Test
    void sigtermIsACleanStopAndSigkillLosesNothingAcknowledged() throws Exception {
        Path data = temp.resolve("data");
        Child first = serve(data);
        TestServer.Holder a;
        TestServer.Holder b;
        long acknowledged = 0;
        try {
            a = holder(first, "a@example.com");
            b = holder(first, "b@example.com");
            for (int i = 0; i < 20; i++) {
                HttpApi.Response sent = first.http().post("/api/money_transfer",
                        Map.of("to_account_number", b.number(), "amount", 100), a.token(), "t-" + i);
                assertThat(sent.status()).isEqualTo(200);
                acknowledged += 100;
            }
        } finally {
            first.process().destroyForcibly(); // SIGKILL
            first.process().waitFor(30, TimeUnit.SECONDS);
        }

        Child second = serve(data);
        HttpApi.Response accountA = second.http().get("/api/account", a.token());
        assertThat(accountA.json().get("balance").asLong()).isEqualTo(100_000 - acknowledged);
        HttpApi.Response statement = second.http().get("/api/account/transactions?limit=100", a.token());
        assertThat(statement.json().get("transactions")).hasSize(20);
        HttpApi.Response retry = second.http().post("/api/money_transfer",
                Map.of("to_account_number", b.number(), "amount", 100), a.token(), "t-19");
        assertThat(retry.header("Idempotent-Replayed")).isEqualTo("true");

        second.process().destroy(); // SIGTERM
        assertThat(second.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(second.process().exitValue()).isZero();
        assertThat(Files.readString(second.out())).contains("stopped cleanly");
        Child third = serve(data);
        third.process().destroy();
        assertThat(third.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
}
