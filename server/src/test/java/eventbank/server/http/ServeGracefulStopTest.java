package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM under load (finding 11 of docs/RELIABILITY.md): clients sending transfers without a
 * pause over keep-alive connections, each on its own socket, see for every request either a
 * complete reply (200 with its JSON, or 503 with the API's JSON error) or the connection refused
 * or ended before any byte of a reply; never part of a reply. A request sent on a connection the
 * server had already answered on either gets its reply (the requests under way finish while the
 * engine still runs) or was never handled at all (the keep-alive race: nothing is recorded under
 * its Idempotency-Key, so a retry is safe). After a restart every transfer answered 200 is in the
 * sender's statement.
 *
 * <p>On the code before the graceful stop, Jetty closed the connections of the requests under way
 * at once: every client's request got no reply at all (6 of 6 in the run made), which this test
 * counts and refuses.
 */
class ServeGracefulStopTest {
    private static final int CLIENTS = 4;
    private static final long ACKNOWLEDGED_BEFORE_STOP = 150;

    @TempDir
    Path temp;

    /** What one client saw. */
    private static final class Seen {
        final List<Long> acknowledgedSeqs = new ArrayList<>();
        long sent;
        long stopping;
        /** The keys of requests on a connection already answered on, which ended without a reply. */
        final List<String> unanswered = new ArrayList<>();
        final List<String> wrong = new ArrayList<>();
    }

    @Test
    void aStopUnderLoadLetsRequestsUnderWayFinishAndCutsNoReply() throws Exception {
        Path data = temp.resolve("data");
        // Transfers without a pause: no limit on money commands per account.
        ServeChild server = ServeChild.start(temp, data, null, Map.of("EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE", "0"));
        TestServer.Holder recipient = server.openVerifiedHolder("recipient@example.com");
        List<TestServer.Holder> senders = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            senders.add(server.openVerifiedHolder("sender" + i + "@example.com"));
        }
        AtomicLong acknowledged = new AtomicLong();
        List<Seen> seen = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Seen client = new Seen();
            seen.add(client);
            TestServer.Holder sender = senders.get(i);
            String prefix = "c" + i + "-";
            clients.add(Thread.ofPlatform().name("client-" + i).start(() ->
                    sendUntilRefused(server.port(), sender, recipient.number(), prefix, client, acknowledged)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acknowledged.get() < ACKNOWLEDGED_BEFORE_STOP) {
            assertThat(System.nanoTime()).as("transfers acknowledged before the stop").isLessThan(deadline);
            server.process().waitFor(10, TimeUnit.MILLISECONDS);
        }

        assertThat(server.stop()).isZero();
        for (Thread client : clients) {
            client.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(client.isAlive()).isFalse();
        }
        assertThat(Files.readString(server.out())).contains("stopped cleanly");
        for (Seen client : seen) {
            assertThat(client.wrong).as("replies that were cut or not the API's").isEmpty();
        }
        ServeChild restarted = ServeChild.start(temp, data, null);
        try {
            // A request left without any reply must be one the server never handled: nothing
            // recorded under its key, so the client's retry with the same key is safe. That is the
            // keep-alive race (a request sent as the server closes an idle connection), which no
            // server can close. The old stop cut the request under way of every client, each of
            // them recorded: their replies were lost. So did, in about one run of four under load,
            // a stop that let Jetty's shutdown begin while requests were still handled.
            List<String> handledWithoutReply = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                TestServer.Holder sender = senders.get(i);
                for (String key : seen.get(i).unanswered) {
                    HttpApi.Response operation = restarted.http().get("/api/operations/" + key, sender.token());
                    if (operation.status() != 404) {
                        handledWithoutReply.add(key + ": " + operation);
                    }
                }
            }
            assertThat(handledWithoutReply).as("requests handled whose reply was lost").isEmpty();
            for (int i = 0; i < CLIENTS; i++) {
                TestServer.Holder sender = senders.get(i);
                Set<Long> recorded = statementSeqs(restarted, sender);
                long balance = restarted.http().get("/api/account", sender.token()).json().get("balance").asLong();
                assertThat(recorded).as("every transfer answered 200 to client %d", i)
                        .containsAll(seen.get(i).acknowledgedSeqs);
                assertThat(100_000 - balance).isEqualTo(recorded.size());
            }
        } finally {
            assertThat(restarted.stop()).isZero();
        }
    }

    /** Sends 1-cent transfers one after another until the server refuses connections. */
    private static void sendUntilRefused(int port, TestServer.Holder sender, String to, String prefix, Seen seen,
                                         AtomicLong acknowledged) {
        String body = "{\"to_account_number\":\"" + to + "\",\"amount\":1}";
        RawHttp connection = null;
        boolean answeredOn = false;
        try {
            while (true) {
                if (connection == null) {
                    try {
                        connection = RawHttp.connect(port);
                        answeredOn = false;
                    } catch (IOException refused) {
                        // Refused, or reset before it was accepted: the server has stopped listening.
                        return;
                    }
                }
                String key = prefix + seen.sent++;
                try {
                    RawHttp.Reply reply = connection.exchange("POST", "/api/money_transfer",
                            Map.of("Authorization", "Bearer " + sender.token(), "Idempotency-Key", key), body);
                    check(reply, key, seen, acknowledged);
                    answeredOn = true;
                    if (reply.closes()) {
                        connection.close();
                        connection = null;
                    }
                } catch (RawHttp.NoReply e) {
                    if (answeredOn) {
                        seen.unanswered.add(key);
                    }
                    connection.close();
                    connection = null;
                } catch (RawHttp.TruncatedReply e) {
                    seen.wrong.add(key + ": " + e.getMessage());
                    connection.close();
                    connection = null;
                }
            }
        } catch (IOException e) {
            seen.wrong.add("client failed: " + e);
        }
    }

    private static void check(RawHttp.Reply reply, String key, Seen seen, AtomicLong acknowledged) {
        boolean json = reply.headers().getOrDefault("content-type", "").startsWith("application/json");
        if (reply.status() == 200 && json && reply.json().has("seq")) {
            seen.acknowledgedSeqs.add(reply.json().get("seq").asLong());
            acknowledged.incrementAndGet();
        } else if (reply.status() == 503 && json && reply.json().has("error") && reply.json().has("message")) {
            seen.stopping++;
        } else {
            seen.wrong.add(key + ": " + reply);
        }
    }

    /** The seqs of the sender's outgoing transfers, from its statement, page by page. */
    private static Set<Long> statementSeqs(ServeChild server, TestServer.Holder sender) throws Exception {
        Set<Long> seqs = new java.util.HashSet<>();
        String before = "";
        while (true) {
            HttpApi.Response page = server.http().get("/api/account/transactions?limit=100" + before, sender.token());
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            page.json().get("transactions").forEach(item -> {
                if (item.get("type").asText().equals("transfer_out")) {
                    seqs.add(item.get("seq").asLong());
                }
            });
            if (page.json().path("next_before_seq").isNull() || page.json().path("next_before_seq").isMissingNode()) {
                return seqs;
            }
            before = "&before_seq=" + page.json().get("next_before_seq").asLong();
        }
    }
}
