package eventbank.testkit.cluster;

import eventbank.server.Main;
import eventbank.testkit.ConsoleLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One node of a {@link LocalCluster}: {@code eventbank serve} as a child process (the real
 * server, {@link Main}, on this JVM's class path), always on the same port and data directory,
 * so that its {@code node.url} stays true across restarts. Its standard output and error are
 * appended to one console file over all its lives.
 *
 * <p>The faults it takes are the process's own: SIGKILL ({@link #kill}), SIGSTOP and SIGCONT
 * ({@link #pause}, {@link #resume}); a restart starts a new process on the same data.
 */
public final class NodeProcess {
    static final String READY_MARK = "eventbank: serving on http://";
    private static final long START_SECONDS_MAX = 120;
    private static final long EXIT_SECONDS_MAX = 60;

    private final String name;
    private final boolean writer;
    private final int port;
    private final Path dataDirectory;
    private final Path console;
    private final Map<String, String> environment;
    private volatile Process process;
    private volatile boolean paused;

    NodeProcess(String name, boolean writer, int port, Path dataDirectory, Path console,
                Map<String, String> environment) {
        this.name = name;
        this.writer = writer;
        this.port = port;
        this.dataDirectory = dataDirectory;
        this.console = console;
        this.environment = Map.copyOf(environment);
    }

    public String name() {
        return name;
    }

    /** A writer ({@code node.mode=writer}: leads or stands by); else a reader. */
    public boolean writer() {
        return writer;
    }

    /** Its {@code node.url}: where clients reach it, and what {@code leader_url} says while it leads. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** The node's data directory (its mails, with the file transport, are in {@code outbox/}). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        Process current = process;
        return current != null && current.isAlive();
    }

    /** Whether it is stopped by {@link #pause} (and not resumed since): it answers nothing meanwhile. */
    public boolean paused() {
        return paused;
    }

    /** The console file: standard output and error of every life of this node. */
    public Path console() {
        return console;
    }

    /**
     * Starts the process (again, after {@link #kill}) and waits until it serves.
     *
     * @throws IOException when it exits before serving or does not serve in time
     */
    public void start() throws IOException, InterruptedException {
        if (alive()) {
            throw new IllegalStateException(name + " runs already (pid " + pid() + ")");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-ea", "-Xmx256m", "-XX:+UseSerialGC",
                // C1 only: a node is started many times and never runs long enough to profit from C2.
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--data-dir", dataDirectory.toString(), "--port", Integer.toString(port)));
        Files.createDirectories(console.getParent());
        long offset = Files.exists(console) ? Files.size(console) : 0;
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(console.toFile()));
        builder.environment().putAll(environment);
        Process started = builder.start();
        process = started;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS_MAX);
        while (!consoleFrom(offset).contains(READY_MARK)) {
            if (!started.isAlive()) {
                throw new IOException(name + " exited with status " + started.exitValue() + " before serving; its"
                        + " console said:\n" + ConsoleLog.tail(consoleFrom(offset)));
            }
            if (System.nanoTime() - deadline > 0) {
                started.destroyForcibly().waitFor();
                throw new IOException(name + " did not serve within " + START_SECONDS_MAX + " s; its console said:\n"
                        + ConsoleLog.tail(consoleFrom(offset)));
            }
            started.waitFor(25, TimeUnit.MILLISECONDS); // returns at once if it exits
        }
    }

    /** SIGKILL, as a machine that dies: nothing of the process runs after it. Waits for the exit. */
    public void kill() throws InterruptedException {
        Process current = process;
        current.destroyForcibly();
        paused = false; // a stopped process dies of SIGKILL as well
        if (!current.waitFor(EXIT_SECONDS_MAX, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " (pid " + current.pid() + ") did not die of SIGKILL");
        }
    }

    /** SIGTERM, a clean stop; then the exit status. */
    public int terminate() throws InterruptedException {
        Process current = process;
        current.destroy();
        if (!current.waitFor(EXIT_SECONDS_MAX, TimeUnit.SECONDS)) {
            current.destroyForcibly().waitFor();
            throw new IllegalStateException(name + " (pid " + current.pid() + ") did not stop on SIGTERM");
        }
        return current.exitValue();
    }

    /** SIGSTOP: every thread of the node stops where it is, its sockets and sessions stay open. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
        paused = true;
    }

    /** SIGCONT: the node goes on from where {@link #pause} stopped it, as if no time had passed. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
        paused = false;
    }

    /** The console's text of every life so far. */
    public String consoleText() throws IOException {
        return consoleFrom(0);
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).redirectErrorStream(true)
                .start();
        String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + pid() + " failed: " + said);
        }
    }

    private String consoleFrom(long offset) throws IOException {
        return ConsoleLog.readFrom(console, offset);
    }

    @Override
    public String toString() {
        return name + " (" + url() + ")";
    }
}
