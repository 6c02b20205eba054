package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code eventbank serve} as a child process of the test, on a free port, its standard output
 * and error in one file: the real server, as {@code ./eventbank serve} runs it.
 */
record ServeChild(Process process, HttpApi http, Path out) {

    /**
     * Starts a server on {@code data} and waits until it serves.
     *
     * @param faults the test-only {@code -Deventbank.faults} value, or null for none; a fault runs the
     *               server through the testkit's {@code FaultInjectingMain}, so only the testkit's
     *               tests, which have it on their class path, may give one
     */
    static ServeChild start(Path temp, Path data, String faults) throws Exception {
        return start(temp, data, faults, java.util.Map.of());
    }

    /** The same, with these environment variables besides. */
    static ServeChild start(Path temp, Path data, String faults, java.util.Map<String, String> environment)
            throws Exception {
        return start(temp, data, faults, environment, 0);
    }

    /**
     * The same, in a process that may open at most {@code fileDescriptorsMax} files and sockets
     * ({@code ulimit -n}, set by bash before it becomes the JVM); 0 for the limit this process has.
     */
    static ServeChild start(Path temp, Path data, String faults, java.util.Map<String, String> environment,
                            int fileDescriptorsMax) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path out = Files.createTempFile(temp, "serve", ".out");
        List<String> command = new ArrayList<>();
        if (fileDescriptorsMax > 0) {
            // The limit is bash's $0 and the JVM's command line its "$@": nothing is quoted twice.
            command.addAll(List.of("bash", "-c", "ulimit -n \"$0\" && exec \"$@\"",
                    Integer.toString(fileDescriptorsMax)));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        if (faults != null) {
            command.add("-Deventbank.faults=" + faults);
        }
        String main = faults == null ? "eventbank.server.Main" : "eventbank.testkit.FaultInjectingMain";
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main, "serve",
                "--data-dir", data.toString(), "--port", Integer.toString(port)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().put("EVENTBANK_AUTH_BCRYPT_COST", "4");
        builder.environment().putAll(environment);
        Process process = builder.start();
        // A bound, not a wait: a JVM starts in seconds, but the machine the suite runs on may be shared and loaded.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out).contains("serving on")) {
            assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
            assertThat(System.nanoTime()).as("the server did not start").isLessThan(deadline);
            process.waitFor(50, TimeUnit.MILLISECONDS); // returns at once if it exits
        }
        return new ServeChild(process, new HttpApi("http://127.0.0.1:" + port), out);
    }

    int port() {
        return java.net.URI.create(http.base()).getPort();
    }

    /** Opens an account, follows the verification link the server printed, and logs in. */
    TestServer.Holder openVerifiedHolder(String email) throws Exception {
        HttpApi.Response opened = http.post("/api/account", java.util.Map.of("email", email,
                "password", "password-" + email), null, null);
        assertThat(opened.status()).as(opened.toString()).isEqualTo(201);
        String number = opened.json().get("account_number").asText();
        String marker = "/api/verify?account_number=" + number;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String link = Files.readString(out).lines().filter(line -> line.contains(marker)).findFirst()
                .map(line -> line.substring(line.indexOf(marker))).orElse(null);
        while (link == null) {
            assertThat(System.nanoTime()).as("no verification link printed for " + number).isLessThan(deadline);
            process.waitFor(20, TimeUnit.MILLISECONDS); // returns at once if it exits
            link = Files.readString(out).lines().filter(line -> line.contains(marker)).findFirst()
                    .map(line -> line.substring(line.indexOf(marker))).orElse(null);
        }
        assertThat(http.get(link, null).status()).isEqualTo(200);
        HttpApi.Response login = http.post("/api/login", java.util.Map.of("account_number", number,
                "password", "password-" + email), null, null);
        return new TestServer.Holder(number, login.json().get("token").asText());
    }

    /** SIGTERM, and the exit code once the process has ended. */
    int stop() throws Exception {
        process.toHandle().destroy();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the server stopped").isTrue();
        return process.exitValue();
    }
}
