package eventbank.testkit.cluster;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A client of a cluster as DESIGN.md asks clients to be: it sends a command to whichever node
 * leads, and sends the same request with the same Idempotency-Key again until the answer is
 * definite. It follows {@code leader_url} on 503 {@code not_leader} (or the {@code Location} of
 * a 307), tries the next node when one does not answer or none leads, and retries on every
 * other 503 ({@code commit_outcome_unknown}, {@code journal_failed}, {@code busy}, ...). Client
 * threads share one, so the leader one of them found is where the others start.
 */
public final class RetryingClient {
    /** The pause before the next attempt, so that a cluster without a leader is not flooded meanwhile. */
    private static final long RETRY_PAUSE_MILLIS = 20;
    /** Redirects followed at once in a row; past them the client pauses (nodes may name each other for a moment). */
    private static final int REDIRECTS_WITHOUT_PAUSE_MAX = 2;

    private final JsonHttp http;
    private final List<String> nodeUrls;
    private final Ledger ledger;
    private volatile String leaderGuess;

    /**
     * @param nodeUrls every node's URL, where the leader is looked for
     * @param ledger   where every answer that settles nothing is noted
     */
    public RetryingClient(JsonHttp http, List<String> nodeUrls, Ledger ledger) {
        this.http = http;
        this.nodeUrls = List.copyOf(nodeUrls);
        this.ledger = ledger;
        this.leaderGuess = nodeUrls.getFirst();
    }

    /** A POST, sent until its answer is definite (not a 503, not a 307) or the deadline passes: then null. */
    public JsonHttp.Reply post(String path, Map<String, ?> body, String token, String idempotencyKey,
                               LongSupplier deadlineNanos) throws InterruptedException {
        return send(node -> http.post(node, path, body, token, idempotencyKey), deadlineNanos);
    }

    /** A GET that the leader must answer (a verification link), sent as {@link #post} is. */
    public JsonHttp.Reply get(String pathAndQuery, String token, LongSupplier deadlineNanos)
            throws InterruptedException {
        return send(node -> http.get(node, pathAndQuery, token), deadlineNanos);
    }

    private interface Attempt {
        JsonHttp.Reply at(String nodeUrl) throws IOException, InterruptedException;
    }

    private JsonHttp.Reply send(Attempt attempt, LongSupplier deadlineNanos) throws InterruptedException {
        String target = leaderGuess;
        int redirects = 0;
        while (System.nanoTime() - deadlineNanos.getAsLong() < 0) {
            JsonHttp.Reply reply;
            try {
                reply = attempt.at(target);
            } catch (IOException noReply) {
                ledger.unsettled(new Ledger.Unsettled(target, -1, noReply.getClass().getSimpleName(),
                        System.nanoTime()));
                target = after(target);
                TimeUnit.MILLISECONDS.sleep(RETRY_PAUSE_MILLIS);
                continue;
            }
            if (reply.status() != 503 && reply.status() != 307) {
                leaderGuess = target;
                return reply;
            }
            ledger.unsettled(new Ledger.Unsettled(target, reply.status(), reply.error(), reply.receivedNanos()));
            String leader = reply.status() == 307 ? originOf(reply.location())
                    : reply.error().equals("not_leader") ? reply.body().path("leader_url").asText(null) : target;
            if (leader != null && !leader.equals(target) && redirects < REDIRECTS_WITHOUT_PAUSE_MAX) {
                redirects++;
                target = leader;
                continue;
            }
            redirects = 0;
            // No leader named (or the same node again): the same node once more for a 503 of its
            // own; the next node when it does not lead.
            target = leader != null ? leader : after(target);
            TimeUnit.MILLISECONDS.sleep(RETRY_PAUSE_MILLIS);
        }
        return null;
    }

    private String after(String nodeUrl) {
        int index = nodeUrls.indexOf(nodeUrl);
        return nodeUrls.get((index + 1) % nodeUrls.size());
    }

    private static String originOf(String location) {
        if (location == null) {
            return null;
        }
        URI uri = URI.create(location);
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }
}
