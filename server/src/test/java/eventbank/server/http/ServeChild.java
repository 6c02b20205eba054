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
     * @param faults the test-only {@code -Deventbank.faults} value, or null for none
     */
    static ServeChild start(Path temp, Path data, String faults) throws Exception {
        return start(temp, data, faults, java.util.Map.of());
    }

    /** The same, with these environment variables besides. */
    static ServeChild start(Path temp, Path data, String faults, java.util.Map<String, String> environment)
            throws Exception {
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
}
