package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that hold connections cannot stop the bank (finding 4 of docs/RELIABILITY.md). The
 * server runs with {@code ulimit -n 256} and {@code http.connections_max=64}; 240 clients connect
 * and say nothing and 60 more trickle a header line every half second, again and again: 300
 * connections, more than the process has file descriptors, so a server that accepted them all
 * would have none left for the journal. Meanwhile clients connected before them commit batches of
 * transfers across several journal segment rollovers (1 MiB segments): every batch is answered
 * 200, {@code /health} stays {@code ok}, the process holds fewer descriptors than its limit, a
 * new client is served once the holders leave, and after a restart every acknowledged transfer
 * is in the balances. (That the header timeout closes a trickler is shown by
 * {@link HeaderTimeoutTest}; here the tricklers are pressure.)
 */
class ServeConnectionLimitTest {
    private static final int FILE_DESCRIPTORS_MAX = 256;
    private static final int CONNECTIONS_MAX = 64;
    private static final int IDLE_HOLDERS = 240;
    private static final int TRICKLING_HOLDERS = 60;
    private static final int SENDERS = 3;
    private static final int TRANSFERS_PER_BATCH = 1_000;
    private static final int SEGMENTS_MIN = 4;

    @TempDir
    Path temp;

    @Test
    void holdersOfConnectionsDoNotStopTheBank() throws Exception {
        Path data = temp.resolve("data");
        ServeChild server = ServeChild.start(temp, data, null, Map.of(
                "EVENTBANK_HTTP_CONNECTIONS_MAX", Integer.toString(CONNECTIONS_MAX),
                "EVENTBANK_HTTP_HEADER_TIMEOUT", "PT2S",
                "EVENTBANK_JOURNAL_SEGMENT_BYTES", "1MiB",
                "EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE", "0"), FILE_DESCRIPTORS_MAX);
        TestServer.Holder recipient = server.openVerifiedHolder("recipient@example.com");
        List<TestServer.Holder> senders = new ArrayList<>();
        List<RawHttp> connections = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
            senders.add(server.openVerifiedHolder("sender" + i + "@example.com"));
            connections.add(RawHttp.connect(server.port()));
        }
        RawHttp healthConnection = RawHttp.connect(server.port());
        String batch = batchOf(recipient.number());

        AtomicBoolean holding = new AtomicBoolean(true);
        List<Thread> holders = new ArrayList<>();
        for (int i = 0; i < IDLE_HOLDERS + TRICKLING_HOLDERS; i++) {
            boolean trickles = i >= IDLE_HOLDERS;
            holders.add(Thread.ofVirtual().start(() -> hold(server.port(), trickles, holding)));
        }
        long[] acknowledged = new long[SENDERS];
        int batches = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try {
            while (segments(data) < SEGMENTS_MIN) {
                assertThat(System.nanoTime()).as("segments rolled over").isLessThan(deadline);
                int i = batches++ % SENDERS;
                RawHttp.Reply reply = connections.get(i).exchange("POST", "/api/money_transfers",
                        Map.of("Authorization", "Bearer " + senders.get(i).token()),
                        batch);
                assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
                reply.json().get("results").forEach(result -> assertThat(result.has("seq")).as(result.toString()).isTrue());
                acknowledged[i] += TRANSFERS_PER_BATCH;
                RawHttp.Reply health = healthConnection.exchange("GET", "/health", Map.of(), null);
                assertThat(health.status()).as(health.toString()).isEqualTo(200);
                assertThat(health.json().get("status").asText()).isEqualTo("ok");
                assertThat(fileDescriptors(server)).isLessThan(FILE_DESCRIPTORS_MAX);
            }
        } finally {
            holding.set(false);
            for (Thread holder : holders) {
                holder.join();
            }
        }

        // A new client, on a new connection, once the holders have left.
        HttpApi newClient = new HttpApi(server.http().base());
        long served = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        HttpApi.Response health = null;
        while (health == null || health.status() != 200) {
            assertThat(System.nanoTime()).as("a new client served after the holders left").isLessThan(served);
            try {
                health = newClient.get("/health", null);
            } catch (IOException e) {
                server.process().waitFor(100, TimeUnit.MILLISECONDS);
            }
        }
        assertThat(health.json().get("status").asText()).isEqualTo("ok");
        assertThat(server.stop()).isZero();
        assertThat(Files.readString(server.out())).contains("stopped cleanly").doesNotContain("journal failed");

        ServeChild restarted = ServeChild.start(temp, data, null);
        try {
            for (int i = 0; i < SENDERS; i++) {
                HttpApi.Response account = restarted.http().get("/api/account", senders.get(i).token());
                assertThat(account.json().get("balance").asLong()).isEqualTo(100_000 - acknowledged[i]);
            }
        } finally {
            assertThat(restarted.stop()).isZero();
        }
    }

    /**
     * Connects again and again until told to stop: an idle holder says nothing and waits for the
     * server to close; a trickler starts a request and sends one more header line every half
     * second, never ending its headers.
     */
    private static void hold(int port, boolean trickles, AtomicBoolean holding) {
        while (holding.get()) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
                socket.setSoTimeout(500);
                OutputStream out = socket.getOutputStream();
                if (trickles) {
                    out.write("POST /api/money_transfer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                }
                for (int line = 0; holding.get(); line++) {
                    try {
                        if (socket.getInputStream().read() < 0) {
                            break;
                        }
                    } catch (java.net.SocketTimeoutException stillOpen) {
                        // Nothing from the server for half a second: the connection is still held.
                    }
                    if (trickles) {
                        out.write(("X-Slow-" + line + ": 1\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    }
                }
            } catch (IOException closedOrQueued) {
                // Closed by the server, or a connect that timed out in the kernel's queue: go again.
            }
        }
    }

    private static String batchOf(String to) {
        StringBuilder json = new StringBuilder("{\"atomic\":false,\"transfers\":[");
        for (int i = 0; i < TRANSFERS_PER_BATCH; i++) {
            json.append(i == 0 ? "" : ",").append("{\"to_account_number\":\"").append(to).append("\",\"amount\":1}");
        }
        return json.append("]}").toString();
    }

    private static long segments(Path data) throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("journal"))) {
            return files.filter(file -> file.getFileName().toString().endsWith(".seg")).count();
        }
    }

    private static long fileDescriptors(ServeChild server) throws IOException {
        try (Stream<Path> descriptors = Files.list(Path.of("/proc", Long.toString(server.process().pid()), "fd"))) {
            return descriptors.count();
        }
    }
}
