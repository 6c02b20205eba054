package eventbank.testkit.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.testkit.ConsoleLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Nodes of one bank on one PostgreSQL journal, each an {@code eventbank serve} child process on
 * this machine ({@link NodeProcess}), configured as DESIGN.md's "Cluster mode" says: the same
 * server key and operator key on all, {@code node.url} its own address, a short lease for tests
 * or the default for benchmarks. The limits that would slow a load down (opening rate, money
 * commands per minute) are off, and bcrypt is cheap.
 */
public final class LocalCluster implements AutoCloseable {
    public static final String OPERATOR_KEY = "cluster-operator-key-for-tests-only";
    private static final long POLL_MILLIS = 20;

    /**
     * @param journalUrl   the {@code journal.url} of every node
     * @param lease        {@code node.lease}
     * @param pollInterval {@code journal.poll_interval}
     * @param directory    where the nodes' data directories and console files go
     */
    public record Settings(String journalUrl, Duration lease, Duration pollInterval, Path directory) {
        /** A test's: a lease of a second and a poll every 50 ms, so that a standby takes over soon. */
        public static Settings forTests(String journalUrl, Path directory) {
            return new Settings(journalUrl, Duration.ofSeconds(1), Duration.ofMillis(50), directory);
        }
    }

    private final Settings settings;
    private final byte[] serverKey = new byte[32];
    private final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
    private final JsonHttp http = new JsonHttp(Duration.ofSeconds(10));

    public LocalCluster(Settings settings) {
        this.settings = settings;
        new SecureRandom().nextBytes(serverKey);
    }

    public Settings settings() {
        return settings;
    }

    /** The server key all nodes share (verification codes, tokens, fingerprints). */
    public byte[] serverKey() {
        return serverKey.clone();
    }

    public List<NodeProcess> nodes() {
        return List.copyOf(nodes);
    }

    /** The URLs of every node, running or not: where a client may look for the leader. */
    public List<String> urls() {
        return nodes.stream().map(NodeProcess::url).toList();
    }

    /** A node, not started yet, on a port of its own and a data directory named after it. */
    public NodeProcess add(String name, boolean writer) throws IOException {
        return add(name, writer, settings.journalUrl(), Map.of());
    }

    /** A node as {@link #add(String, boolean)} makes it, on a {@code journal.url} of its own (a reader's replica). */
    public NodeProcess add(String name, boolean writer, String journalUrl) throws IOException {
        return add(name, writer, journalUrl, Map.of());
    }

    /**
     * A node as {@link #add(String, boolean)} makes it, with more settings in its environment
     * ({@code EVENTBANK_...} variables, e.g. {@code EVENTBANK_JOURNAL_REQUIRE_SYNC_STANDBY}); they
     * win over the cluster's own.
     */
    public NodeProcess add(String name, boolean writer, Map<String, String> more) throws IOException {
        return add(name, writer, settings.journalUrl(), more);
    }

    private NodeProcess add(String name, boolean writer, String journalUrl, Map<String, String> more)
            throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Map<String, String> environment = new HashMap<>();
        environment.put("EVENTBANK_JOURNAL_URL", journalUrl);
        environment.put("EVENTBANK_SERVER_KEY", Base64.getEncoder().encodeToString(serverKey));
        environment.put("EVENTBANK_OPERATOR_KEY", OPERATOR_KEY);
        environment.put("EVENTBANK_NODE_NAME", name);
        // Every node holds a copy of the cluster's KEK: here, one file for all of them.
        environment.put("EVENTBANK_KEYS_KEK_FILE", settings.directory().resolve("kek").toString());
        environment.put("EVENTBANK_NODE_MODE", writer ? "writer" : "reader");
        environment.put("EVENTBANK_NODE_URL", "http://127.0.0.1:" + port);
        environment.put("EVENTBANK_NODE_LEASE", settings.lease().toString());
        environment.put("EVENTBANK_JOURNAL_POLL_INTERVAL", settings.pollInterval().toString());
        environment.put("EVENTBANK_AUTH_BCRYPT_COST", "4");
        environment.put("EVENTBANK_AUTH_TOKEN_TTL", "PT24H");
        environment.put("EVENTBANK_HTTP_OPEN_RATE_PER_MINUTE", "0");
        environment.put("EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE", "0");
        // Snapshots now and then, so that a restarted node starts from one on the journal's history.
        environment.put("EVENTBANK_SNAPSHOT_EVERY_EVENTS", "2000");
        environment.putAll(more);
        NodeProcess node = new NodeProcess(name, writer, port, settings.directory().resolve(name),
                settings.directory().resolve(name + ".console"), environment);
        nodes.add(node);
        return node;
    }

    /**
     * Starts these nodes and waits until each serves: the writers side by side, then the readers
     * side by side. A reader does not create the journal's tables (it may be on a hot standby,
     * where nothing can be written), so on a new database it needs a writer to have done so.
     */
    public void start(NodeProcess... starting) throws IOException, InterruptedException {
        startSideBySide(Arrays.stream(starting).filter(NodeProcess::writer).toList());
        startSideBySide(Arrays.stream(starting).filter(node -> !node.writer()).toList());
    }

    private void startSideBySide(List<NodeProcess> starting) throws IOException, InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = new CopyOnWriteArrayList<>();
        for (NodeProcess node : starting) {
            threads.add(Thread.ofPlatform().name("start-" + node.name()).start(() -> {
                try {
                    node.start();
                } catch (IOException | InterruptedException | RuntimeException e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (!failures.isEmpty()) {
            IOException failed = new IOException("a node did not start: " + failures.getFirst().getMessage(),
                    failures.getFirst());
            failures.stream().skip(1).forEach(failed::addSuppressed);
            throw failed;
        }
    }

    /** {@code GET /health} of a node: role, epoch, leader_url, lag_events, last_seq, status. */
    public JsonNode health(NodeProcess node) throws IOException, InterruptedException {
        return http.get(node.url(), "/health", null).body();
    }

    /** The node whose {@code /health/leader} answers 200, asked until one does, for at most {@code timeout}. */
    public NodeProcess awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (NodeProcess node : nodes) {
                if (node.alive() && !node.paused() && node.writer() && status(node, "/health/leader") == 200) {
                    return node;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("no node led within " + timeout + ": " + healthOfAll());
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }

    /**
     * The node's {@code /health} once {@code condition} holds of it, asked until then for at most
     * {@code timeout}; a node that does not answer (stopped, starting) is asked again.
     */
    public JsonNode awaitHealth(NodeProcess node, Predicate<JsonNode> condition, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (true) {
            try {
                last = health(node);
                if (condition.test(last)) {
                    return last;
                }
            } catch (IOException noAnswer) {
                last = JsonHttp.JSON.getNodeFactory().textNode("no answer: " + noAnswer);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(node + " was not " + what + " within " + timeout + "; its /health: "
                        + last);
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }

    /** Every running node's {@code /health}, for messages. */
    public String healthOfAll() throws InterruptedException {
        StringBuilder all = new StringBuilder();
        for (NodeProcess node : nodes) {
            all.append('\n').append(node.name()).append(": ");
            try {
                all.append(!node.alive() ? "not running" : node.paused() ? "paused" : health(node).toString());
            } catch (IOException e) {
                all.append("no answer (").append(e).append(')');
            }
        }
        return all.toString();
    }

    /** The tail of every node's console, for a failure's message. */
    public String consoleTails() {
        StringBuilder tails = new StringBuilder();
        for (NodeProcess node : nodes) {
            try {
                tails.append("\n--- ").append(node.name()).append(" console ---\n")
                        .append(ConsoleLog.tail(node.consoleText()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tails.toString();
    }

    /** Ends every node still running (paused or not), by SIGKILL: nothing is kept of them. */
    @Override
    public void close() throws IOException, InterruptedException {
        for (NodeProcess node : nodes) {
            if (node.alive()) {
                node.kill();
            }
        }
    }

    private int status(NodeProcess node, String path) throws InterruptedException {
        try {
            return http.get(node.url(), path, null).status();
        } catch (IOException noAnswer) {
            return -1;
        }
    }
}
