package eventbank.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import eventbank.server.Main;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 15's restart: a server on a large journal is stopped and started, and timed from the
 * JVM's start (the child process is launched) until it serves {@code /health} with status
 * {@code ok} (every read model has caught up with the journal as it was at the start: see
 * {@code HealthController}) and answers a statement query (an account's history, which the
 * statements model answers). Then the heap after a full GC ({@code jcmd GC.run}, then
 * {@code GC.heap_info}).
 *
 * <p>For each journal size: the journal is built ({@link JournalBuilder}: {@code --accounts}
 * accounts opened and verified, then transfers, with the snapshots a server would have kept
 * and every mail recorded as sent), then
 * <ol>
 *   <li>a first start without read-model checkpoints: the read models rebuild from seq 0, as
 *       every start did before issue 15;</li>
 *   <li>{@code --runs} restarts after a clean stop (SIGTERM: the models checkpoint at the stop);</li>
 *   <li>one restart after a SIGKILL (the models replay from their last checkpoint, here the one
 *       of the clean stop before).</li>
 * </ol>
 * Each stop is timed too, from the signal to the process's end: a clean stop writes the
 * checkpoints that are not current yet. The suite runs a tiny version ({@code RestartTimeTest}:
 * 20,000 events, real server processes).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.RestartTime --events 10000000,50000000
 *      [--accounts 1000000] [--runs 5] [--java-opts "-Xmx8g"] [--keep false] [--aot false]
 * </pre>
 *
 * {@code --aot true} runs the server as {@code ./eventbank serve} does on JDK 25 or newer: the
 * first start (the rebuild) trains an ahead-of-time cache of the classes it loads, written when
 * it stops, and every restart starts from it.
 *
 * Disk: the journal (about 45 bytes an event) and the statements' store; deleted at the end.
 */
public final class RestartTime {
    private static final String OPERATOR_KEY = "restart-benchmark-operator-key-0123456789";
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(30);
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<String> javaOptions;
    private final boolean keep;
    /** Whether the server runs on an ahead-of-time cache, as {@code ./eventbank serve} does on JDK 25. */
    private final boolean aot;

    RestartTime(List<String> javaOptions, boolean keep, boolean aot) {
        this.javaOptions = javaOptions;
        this.keep = keep;
        this.aot = aot;
    }

    /**
     * One start: from the launch to ready, the CPU the server's process had used by then (all
     * its threads: on a busy machine, the work the start took whatever the wait for a core), the
     * heap after a full GC once ready, and the stop that followed: from the signal to the
     * process's end (a clean stop writes the checkpoints that are not current).
     */
    record Start(double readySeconds, double cpuSeconds, long heapUsedBytes, double stopSeconds) {}

    public static void main(String[] args) throws Exception {
        List<Long> sizes = List.of(10_000_000L);
        int accounts = 1_000_000;
        int runs = 5;
        List<String> javaOptions = List.of();
        boolean keep = false;
        boolean aot = false;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--events" -> sizes = Pattern.compile(",").splitAsStream(value).map(Long::parseLong).toList();
                case "--accounts" -> accounts = Integer.parseInt(value);
                case "--runs" -> runs = Integer.parseInt(value);
                case "--java-opts" -> javaOptions = List.of(value.trim().split("\\s+"));
                case "--keep" -> keep = Boolean.parseBoolean(value);
                case "--aot" -> aot = Boolean.parseBoolean(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.printf(Locale.ROOT, "machine: %d cores, JDK %s; server JVM options %s%s%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), javaOptions,
                aot ? ", with an ahead-of-time cache that the first start trains" : "");
        RestartTime bench = new RestartTime(javaOptions, keep, aot);
        for (long events : sizes) {
            bench.measure(events, accounts, runs);
        }
    }

    /**
     * What one journal size gave: the first start (read models rebuilt from seq 0), the restarts
     * after a clean stop (the last one ended by a SIGKILL), and the restart after that SIGKILL.
     */
    record Result(long events, int accounts, Start first, List<Start> restarts, Start afterKill) {
        /** The clean stops after the restarts but the last (killed); the first start's stop may also write an AOT cache. */
        double[] cleanStops() {
            return restarts.subList(0, restarts.size() - 1).stream().mapToDouble(Start::stopSeconds).toArray();
        }
    }

    /** Builds a journal of {@code events} events and {@code accounts} accounts, and starts a server on it {@code runs} + 2 times. */
    Result measure(long events, int accounts, int runs) throws Exception {
        if (runs < 1) {
            throw new IllegalArgumentException("at least one restart, not " + runs);
        }
        Path root = Fixtures.tempDirectory("eventbank-restart-");
        try {
            Path data = root.resolve("data");
            System.out.println();
            JournalBuilder.Built built = JournalBuilder.buildServerData(data, accounts, events);
            long account = Fixtures.accountNumber(0);

            Start first = start(data, root, account, Stop.CLEAN);
            System.out.printf(Locale.ROOT, "first start, read models rebuilt from seq 0: ready in %.2f s (%.2f s of CPU),"
                    + " heap after a full GC %,d MB; then stopped in %.2f s%n", first.readySeconds(), first.cpuSeconds(),
                    first.heapUsedBytes() >> 20, first.stopSeconds());
            List<Start> restarts = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                Stop stop = run == runs - 1 ? Stop.KILL : Stop.CLEAN;
                Start again = start(data, root, account, stop);
                restarts.add(again);
                System.out.printf(Locale.ROOT, "restart %d after a clean stop: ready in %.2f s (%.2f s of CPU), heap after"
                        + " a full GC %,d MB; then %s in %.2f s%n", run + 1, again.readySeconds(), again.cpuSeconds(),
                        again.heapUsedBytes() >> 20, stop == Stop.CLEAN ? "stopped (SIGTERM)" : "killed (SIGKILL)",
                        again.stopSeconds());
            }
            Start afterKill = start(data, root, account, Stop.CLEAN);
            System.out.printf(Locale.ROOT, "restart after a SIGKILL: ready in %.2f s (%.2f s of CPU); then stopped in %.2f s%n",
                    afterKill.readySeconds(), afterKill.cpuSeconds(), afterKill.stopSeconds());
            Result result = new Result(built.lastSeq(), accounts, first, List.copyOf(restarts), afterKill);
            double[] ready = restarts.stream().mapToDouble(Start::readySeconds).toArray();
            double[] stops = result.cleanStops();
            System.out.printf(Locale.ROOT, "SUMMARY %,d events, %,d accounts: first start %.2f s; restart median of %d "
                            + "%.2f s (min %.2f, max %.2f; CPU median %.2f s); after SIGKILL %.2f s; heap after full"
                            + " GC %,d MB (first start %,d MB); data directory %,d MB; a clean stop median %.2f s%n",
                    built.lastSeq(), accounts, first.readySeconds(), runs, Fixtures.median(ready),
                    java.util.Arrays.stream(ready).min().orElse(0), java.util.Arrays.stream(ready).max().orElse(0),
                    Fixtures.median(restarts.stream().mapToDouble(Start::cpuSeconds).toArray()),
                    afterKill.readySeconds(), restarts.getLast().heapUsedBytes() >> 20, first.heapUsedBytes() >> 20,
                    Fixtures.bytesUnder(data) >> 20, stops.length > 0 ? Fixtures.median(stops) : Double.NaN);
            return result;
        } finally {
            if (keep) {
                System.out.println("kept " + root);
            } else {
                Fixtures.deleteRecursively(root);
            }
        }
    }

    private enum Stop { CLEAN, KILL }

    /** Starts a server on {@code data}, times it to ready, measures its heap, and stops it as {@code stop} says. */
    private Start start(Path data, Path root, long account, Stop stop) throws Exception {
        int port = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(javaOptions);
        if (aot) {
            // As ./eventbank serve: the first run trains the cache (written when it stops), the
            // later ones start from it.
            Path cache = root.resolve("server.aot");
            command.add(Files.exists(cache) ? "-XX:AOTCache=" + cache : "-XX:AOTCacheOutput=" + cache);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                "--data-dir", data.toString(), "--port", Integer.toString(port)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("server.log").toFile()));
        builder.environment().put("EVENTBANK_OPERATOR_KEY", OPERATOR_KEY);
        long launched = System.nanoTime();
        Process process = builder.start();
        try {
            String base = "http://127.0.0.1:" + port;
            awaitReady(process, base, account);
            double readySeconds = (System.nanoTime() - launched) / 1e9;
            double cpuSeconds = process.info().totalCpuDuration().map(cpu -> cpu.toNanos() / 1e9).orElse(Double.NaN);
            long heap = heapAfterFullGc(process.pid());
            return new Start(readySeconds, cpuSeconds, heap, stop(process, stop, root));
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Stops the server as {@code stop} says and answers the seconds from the signal to its end. */
    private static double stop(Process process, Stop stop, Path root) throws InterruptedException {
        long signalled = System.nanoTime();
        if (stop == Stop.KILL) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the server did not stop within 5 minutes; see " + root.resolve("server.log"));
        }
        double seconds = (System.nanoTime() - signalled) / 1e9;
        if (stop == Stop.CLEAN && process.exitValue() != 0) {
            throw new IllegalStateException("the server stopped with exit code " + process.exitValue() + "; see "
                    + root.resolve("server.log"));
        }
        return seconds;
    }

    /** Polls until {@code /health} says ok and the account's history (the statements model) is answered. */
    private void awaitReady(Process process, String base, long account) throws Exception {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        boolean healthy = false;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with code " + process.exitValue());
            }
            try {
                if (!healthy) {
                    HttpResponse<String> health = get(base + "/health", null);
                    healthy = health.statusCode() == 200
                            && JSON.readTree(health.body()).path("status").asText().equals("ok");
                }
                if (healthy) {
                    HttpResponse<String> history = get(base + "/api/admin/accounts/" + account + "/history", OPERATOR_KEY);
                    JsonNode items = history.statusCode() == 200 ? JSON.readTree(history.body()).path("items") : null;
                    if (items != null && items.size() > 2) {
                        return;
                    }
                    throw new IllegalStateException("the history of account " + account + " answered "
                            + history.statusCode() + " " + history.body());
                }
            } catch (IOException notServingYet) {
                // the port is not open yet
            }
            TimeUnit.MILLISECONDS.sleep(5); // polling the child process, bounded by the deadline
        }
        throw new IllegalStateException("the server was not ready within " + READY_TIMEOUT);
    }

    private HttpResponse<String> get(String url, String operatorKey) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (operatorKey != null) {
            request.header("X-Operator-Key", operatorKey);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The heap in use after a full GC, from {@code jcmd}. */
    private static long heapAfterFullGc(long pid) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        Matcher used = HEAP_USED.matcher(info);
        if (!used.find()) {
            throw new IllegalStateException("no heap use in jcmd's answer: " + info);
        }
        return Long.parseLong(used.group(1)) << 10;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (jcmd.waitFor() != 0) {
            throw new IllegalStateException("jcmd " + command + " failed: " + out);
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
