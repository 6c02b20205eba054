package eventbank.bench.faults;

import eventbank.server.Main;
import eventbank.testkit.ConsoleLog;
import eventbank.testkit.FaultInjectingMain;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code eventbank serve} child process: the real server, started with the harness's own
 * class path ({@code java -cp ... eventbank.server.Main serve}, or the testkit's {@link
 * FaultInjectingMain} when the journal is to fail), its standard output and error appended to
 * the run's console log. A SIGKILL goes through {@link ProcessHandle#destroyForcibly()}
 * and a SIGTERM through {@link ProcessHandle#destroy()}; both wait for the exit status.
 */
final class ServerProcess {
    static final String READY_MARK = "eventbank: serving on http://";
    private static final long START_SECONDS_MAX = 120;
    private static final long STOP_SECONDS_MAX = 120;

    private final Process process;
    private final String baseUrl;
    private final String faults;

    private ServerProcess(Process process, String baseUrl, String faults) {
        this.process = process;
        this.baseUrl = baseUrl;
        this.faults = faults;
    }

    /**
     * Starts a server on {@code dataDirectory} on a free port and waits until it serves.
     *
     * @param faults     the value of the test-only {@code -Deventbank.faults}, or null for none
     * @param environment variables added to the child's environment
     * @throws StartFailed when it exits before serving, or does not serve in time
     */
    static ServerProcess start(Path dataDirectory, Path consoleLog, String faults, Map<String, String> environment)
            throws IOException, InterruptedException {
        int port = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (faults != null) {
            command.add("-Deventbank.faults=" + faults);
        }
        // C1 only: the child starts many times and is never run long enough to profit from C2.
        String main = faults == null ? Main.class.getName() : FaultInjectingMain.class.getName();
        command.addAll(List.of("-ea", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                main, "serve", "--data-dir", dataDirectory.toString(),
                "--port", Integer.toString(port)));
        long offset = Files.exists(consoleLog) ? Files.size(consoleLog) : 0;
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog.toFile()));
        builder.environment().putAll(environment);
        Process process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS_MAX);
        while (!ConsoleLog.readFrom(consoleLog, offset).contains(READY_MARK)) {
            if (!process.isAlive()) {
                throw new StartFailed("the server exited with status " + process.exitValue()
                        + " before serving; its console said:\n"
                        + ConsoleLog.tail(ConsoleLog.readFrom(consoleLog, offset)), process.exitValue());
            }
            if (System.nanoTime() > deadline) {
                process.toHandle().destroyForcibly();
                process.waitFor();
                throw new StartFailed("the server did not serve within " + START_SECONDS_MAX + " s; its console said:\n"
                        + ConsoleLog.tail(ConsoleLog.readFrom(consoleLog, offset)), -1);
            }
            process.waitFor(25, TimeUnit.MILLISECONDS); // returns at once if it exits
        }
        return new ServerProcess(process, "http://127.0.0.1:" + port, faults);
    }

    /** The server could not start. */
    static final class StartFailed extends IOException {
        private final int exitStatus;

        StartFailed(String message, int exitStatus) {
            super(message);
            this.exitStatus = exitStatus;
        }

        /** The status it exited with before serving; -1 when it did not exit but took too long (and was killed). */
        int exitStatus() {
            return exitStatus;
        }
    }

    String baseUrl() {
        return baseUrl;
    }

    long pid() {
        return process.pid();
    }

    /** The fault hook it runs with, or null. */
    String faults() {
        return faults;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, then the exit status (137 when the signal killed it). */
    int kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        return awaitExit();
    }

    /** SIGTERM, then the exit status (0 for a clean stop). */
    int terminate() throws InterruptedException {
        process.toHandle().destroy();
        return awaitExit();
    }

    /** Waits up to {@code seconds} for the server to exit by itself: its exit status, or -1 if it still runs. */
    int awaitExit(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    private int awaitExit() throws InterruptedException {
        if (!process.waitFor(STOP_SECONDS_MAX, TimeUnit.SECONDS)) {
            process.toHandle().destroyForcibly();
            process.waitFor();
            throw new IllegalStateException("server pid " + process.pid() + " did not exit within "
                    + STOP_SECONDS_MAX + " s of the signal");
        }
        return process.exitValue();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
