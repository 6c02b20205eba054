package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.FileStorage;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 generated hostile requests (random JSON shapes, types, sizes, unicode, huge numbers,
 * wrong methods, paths and media types, good and bad tokens), with a few well-formed ones among
 * them: none gets a 5xx, every error has the contract's shape, the bank's money still adds up
 * afterwards, and the journal holds exactly the events of the requests answered 2xx (each seq a
 * 2xx reply carried, of the event its route records) besides the setup's. Seeded: a failure
 * names its seed and request ({@code -Dfuzz.seed=} repeats it).
 */
class HttpFuzzTest {
    private static final int REQUESTS = 10_000;
    /** One request in this many is well-formed (and mostly accepted), so that the journal has events to check. */
    private static final int VALID_ONE_IN = 20;
    private static final String[] PATHS = {"/api/account", "/api/verify", "/api/login", "/api/account/transactions",
            "/api/money_transfer", "/api/withdraw", "/api/operations/k", "/health", "/api/money_transfers", "/",
            "/api", "/api/account/", "/api/admin/events", "/api/operations/"};
    private static final String[] FIELDS = {"email", "password", "account_number", "to_account_number", "amount",
            "from_account_number", "code", "atomic", "", "\u00e9", "__proto__"};
    private static final String[][] ROUTES = {{"POST", "/api/account"}, {"GET", "/api/verify"},
            {"POST", "/api/login"}, {"GET", "/api/account"}, {"GET", "/api/account/transactions"},
            {"POST", "/api/money_transfer"}, {"POST", "/api/money_transfer"}, {"POST", "/api/withdraw"},
            {"POST", "/api/withdraw"}, {"GET", "/api/operations/k"}};
    private static final String[] METHODS = {"GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD",
            "OPTIONS"};
    private static final String[] MEDIA = {"application/json", "application/json; charset=utf-8", "text/plain",
            "application/x-www-form-urlencoded", null, "APPLICATION/JSON", "application/jsonx"};

    /** The event each state-changing route records, by its simple class name. */
    private static final Map<String, String> EVENT_OF_ROUTE = Map.of("/api/account", "AccountOpened",
            "/api/verify", "AccountVerified", "/api/money_transfer", "MoneyTransferred",
            "/api/money_transfers", "MoneyTransferred", "/api/withdraw", "MoneyWithdrawn");

    @TempDir
    Path temp;

    @Test
    void hostileRequestsGetNo5xx() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        Path data = temp.resolve("data");
        // Every seq a 2xx reply of a state-changing request carried, with the route that answered it.
        Map<Long, String> accepted = new ConcurrentHashMap<>();
        long setupSeq;
        // No limit on openings: thousands of them come from this one address; none on money
        // commands either: hundreds of well-formed ones come from two accounts.
        try (TestServer server = TestServer.start(data, Map.of("http.open_rate_per_minute", "0",
                "limits.money_commands_per_minute", "0"))) {
            TestServer.Holder a = server.openVerifiedHolder("a@example.com");
            TestServer.Holder b = server.openVerifiedHolder("b@example.com");
            setupSeq = server.service.engine().committedSeq();
            List<Future<String>> failures = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                for (int worker = 0; worker < 8; worker++) {
                    SplittableRandom random = new SplittableRandom(seed + worker);
                    failures.add(pool.submit(() -> {
                        for (int i = 0; i < REQUESTS / 8; i++) {
                            HttpRequest request = request(random, server.http, a, b);
                            HttpApi.Response response;
                            try {
                                response = server.http.send(request);
                            } catch (java.io.IOException e) {
                                return "seed " + seed + ": " + request.method() + " " + request.uri() + " "
                                        + request.headers().map() + " → no reply: " + e;
                            }
                            if (response.status() >= 500) {
                                return "seed " + seed + ": " + request.method() + " " + request.uri() + " → "
                                        + response;
                            }
                            if (response.status() >= 200 && response.status() < 300) {
                                String path = request.uri().getPath();
                                if (request.method().equals("POST") || path.equals("/api/verify")) {
                                    String clash = collectSeqs(response, path, accepted);
                                    if (clash != null) {
                                        return "seed " + seed + ": " + request.method() + " " + request.uri()
                                                + " → " + response + ": " + clash;
                                    }
                                }
                            }
                            if (response.status() >= 400 && !request.method().equals("HEAD")) {
                                var json = response.json();
                                if (!json.path("error").isTextual() || !json.path("message").isTextual()) {
                                    return "seed " + seed + ": not an error of the contract: " + response;
                                }
                            }
                        }
                        return null;
                    }));
                }
            }
            for (Future<String> failure : failures) {
                assertThat(failure.get()).isNull();
            }
            var totals = server.service.readModels().accounts();
            server.service.readModels().accounts().awaitSeq(server.service.engine().committedSeq(),
                    Duration.ofSeconds(5));
            assertThat(totals.totals().balanced()).as(totals.totals().toString()).isTrue();
            assertThat(server.http.get("/health", null).json().get("status").asText()).isEqualTo("ok");
        }
        assertJournalHoldsOnlyAcceptedEvents(data.resolve("journal"), setupSeq, accepted, seed);
    }

    /**
     * Adds every {@code seq} of a 2xx reply (at the top or nested, as in a batch's results) to
     * {@code accepted} with the route's path; a description of the problem, or null.
     */
    private static String collectSeqs(HttpApi.Response response, String path, Map<Long, String> accepted) {
        if (response.body() == null || !response.body().stripLeading().startsWith("{")) {
            return null; // the HTML page of a verification, or an empty reply: no seq to check
        }
        List<Long> seqs = new ArrayList<>();
        collect(response.json(), seqs);
        for (long seq : seqs) {
            String before = accepted.putIfAbsent(seq, path);
            if (before != null && !before.equals(path)) {
                return "seq " + seq + " was answered by " + before + " too";
            }
        }
        return null;
    }

    private static void collect(JsonNode node, List<Long> seqs) {
        if (node.isObject()) {
            JsonNode seq = node.get("seq");
            if (seq != null && seq.isIntegralNumber()) {
                seqs.add(seq.asLong());
            }
            node.forEach(child -> collect(child, seqs));
        } else if (node.isArray()) {
            node.forEach(child -> collect(child, seqs));
        }
    }

    /**
     * Reads the journal after the server stopped: seqs 1 to {@code setupSeq} are the setup's,
     * and every later event is one a 2xx reply announced, of the type its route records, and
     * every announced seq is in the journal.
     */
    private static void assertJournalHoldsOnlyAcceptedEvents(Path journal, long setupSeq, Map<Long, String> accepted,
                                                             long seed) throws Exception {
        Map<Long, String> events = new TreeMap<>();
        try (JournalReader reader = new JournalReader(new FileStorage(), journal, true)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(recorded -> events.put(recorded.seq(), recorded.event().getClass().getSimpleName()));
            }
            assertThat(reader.tornTail()).as("a cleanly stopped server's journal").isNull();
        }
        assertThat(events.keySet()).as("seed %d: the setup's events", seed).containsAll(
                LongStream.rangeClosed(1, setupSeq).boxed().toList());
        Map<Long, String> fuzzed = new TreeMap<>(events);
        fuzzed.keySet().removeIf(seq -> seq <= setupSeq);
        Map<Long, String> announced = new TreeMap<>(accepted);
        announced.keySet().removeIf(seq -> seq <= setupSeq);
        assertThat(announced).as("seed %d: some well-formed requests were accepted", seed).isNotEmpty();
        assertThat(fuzzed.keySet()).as("seed %d: the journal's events after the setup are those of 2xx replies", seed)
                .containsExactlyElementsOf(announced.keySet());
        for (Map.Entry<Long, String> event : fuzzed.entrySet()) {
            String route = announced.get(event.getKey());
            assertThat(event.getValue()).as("seed %d: the event at seq %d, answered by %s", seed, event.getKey(), route)
                    .isEqualTo(EVENT_OF_ROUTE.get(route));
        }
    }

    private static HttpRequest request(SplittableRandom random, HttpApi http, TestServer.Holder a,
                                       TestServer.Holder b) {
        if (random.nextInt(VALID_ONE_IN) == 0) {
            return valid(random, http, a, b);
        }
        // Mostly the real routes with their own method and media type, so bodies get parsed.
        boolean real = random.nextInt(4) != 0;
        String[] route = ROUTES[random.nextInt(ROUTES.length)];
        String path = real ? route[1] : PATHS[random.nextInt(PATHS.length)];
        if (random.nextInt(10) == 0) {
            path += "/" + URLEncoder.encode(unicode(random, 20), StandardCharsets.UTF_8);
        }
        if (random.nextInt(3) == 0) {
            path += "?" + query(random, a, b);
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(http.base() + path))
                .timeout(Duration.ofSeconds(30));
        switch (random.nextInt(5)) {
            case 0, 1 -> builder.header("Authorization", "Bearer " + a.token());
            case 2 -> builder.header("Authorization", "Bearer " + ascii(random, 1 + random.nextInt(200)));
            case 3 -> builder.header("Authorization", ascii(random, 1 + random.nextInt(50)));
            default -> { }
        }
        if (random.nextInt(4) == 0) {
            builder.header("Idempotency-Key", ascii(random, 1 + random.nextInt(300)));
        }
        String media = real && random.nextInt(3) != 0 ? "application/json" : MEDIA[random.nextInt(MEDIA.length)];
        if (media != null) {
            builder.header("Content-Type", media);
        }
        String method = real ? route[0] : METHODS[random.nextInt(METHODS.length)];
        String body = switch (random.nextInt(6)) {
            case 0 -> unicode(random, random.nextInt(100));
            case 1 -> random.nextInt(200) == 0 ? "{\"email\":\"" + "x".repeat(1_100_000) + "\"}" : json(random, 3, a, b);
            default -> object(random, 2, a, b);
        };
        HttpRequest.BodyPublisher publisher = method.equals("GET") || method.equals("HEAD")
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
        return builder.method(method, publisher).build();
    }

    /**
     * A well-formed opening, transfer (a to b) or withdrawal (from a), a few cents at a time, at
     * times with an Idempotency-Key from a small set (so some are replays, some reuse a key with
     * another body): the events the journal must hold, among the hostile requests.
     */
    private static HttpRequest valid(SplittableRandom random, HttpApi http, TestServer.Holder a,
                                     TestServer.Holder b) {
        String path;
        String body;
        boolean holder = true;
        switch (random.nextInt(3)) {
            case 0 -> {
                path = "/api/account";
                body = "{\"email\":\"fuzz-" + random.nextInt(1_000_000) + "@example.com\",\"password\":\"password-"
                        + random.nextInt(10) + "\"}";
                holder = false;
            }
            case 1 -> {
                path = "/api/money_transfer";
                body = "{\"to_account_number\":\"" + b.number() + "\",\"amount\":" + random.nextInt(1, 20) + "}";
            }
            default -> {
                path = "/api/withdraw";
                body = "{\"amount\":" + random.nextInt(1, 20) + "}";
            }
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(http.base() + path))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json");
        if (holder) {
            builder.header("Authorization", "Bearer " + a.token());
        }
        if (random.nextInt(3) == 0) {
            builder.header("Idempotency-Key", "fuzz-key-" + random.nextInt(20));
        }
        return builder.POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static String query(SplittableRandom random, TestServer.Holder a, TestServer.Holder b) {
        String[] names = {"limit", "before_seq", "min_seq", "account_number", "code", "x"};
        StringBuilder query = new StringBuilder();
        for (int i = random.nextInt(4); i >= 0; i--) {
            query.append(names[random.nextInt(names.length)]).append('=')
                    .append(URLEncoder.encode(scalar(random, a, b).replace("\"", ""), StandardCharsets.UTF_8))
                    .append('&');
        }
        return query.toString();
    }

    private static String object(SplittableRandom random, int depth, TestServer.Holder a, TestServer.Holder b) {
        StringBuilder json = new StringBuilder("{");
        int fields = random.nextInt(4);
        for (int i = 0; i < fields; i++) {
            if (i > 0) {
                json.append(',');
            }
            json.append(string(FIELDS[random.nextInt(FIELDS.length)])).append(':').append(json(random, depth, a, b));
        }
        return json.append('}').toString();
    }

    private static String json(SplittableRandom random, int depth, TestServer.Holder a, TestServer.Holder b) {
        int kind = random.nextInt(depth <= 0 ? 1 : 4);
        return switch (kind) {
            case 0 -> scalar(random, a, b);
            case 1 -> object(random, depth - 1, a, b);
            case 2 -> {
                StringBuilder array = new StringBuilder("[");
                for (int i = random.nextInt(4); i > 0; i--) {
                    array.append(json(random, depth - 1, a, b)).append(i > 1 ? "," : "");
                }
                yield array.append(']').toString();
            }
            default -> scalar(random, a, b);
        };
    }

    private static String scalar(SplittableRandom random, TestServer.Holder a, TestServer.Holder b) {
        return switch (random.nextInt(16)) {
            case 0 -> "null";
            case 1 -> "true";
            case 2 -> Long.toString(random.nextLong());
            case 3 -> Integer.toString(random.nextInt(-5, 200));
            case 4 -> "1e" + random.nextInt(400);
            case 5 -> random.nextDouble() * 1e6 + "";
            case 6 -> "9".repeat(1 + random.nextInt(400));
            case 7 -> string(a.number());
            case 8 -> string(b.number());
            case 9 -> string(unicode(random, random.nextInt(40)));
            case 10 -> string(random.nextInt(100_000) + "@example.com");
            case 11 -> "-0";
            case 12 -> "0.0";
            case 13 -> string(Integer.toString(random.nextInt(1000)));
            case 14 -> "1000000000000";
            default -> Integer.toString(random.nextInt(1, 100));
        };
    }

    private static String string(String text) {
        StringBuilder json = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20) {
                json.append(String.format("\\u%04x", (int) c));
            } else {
                json.append(c);
            }
        }
        return json.append('"').toString();
    }

    private static String unicode(SplittableRandom random, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int codePoint = switch (random.nextInt(4)) {
                case 0 -> random.nextInt(0x20, 0x7f);
                case 1 -> random.nextInt(0xa0, 0x800);
                case 2 -> random.nextInt(0x1f300, 0x1f6ff);
                default -> {
                    String specials = "{}[]\",:\\ 0-9eE.";
                    yield specials.charAt(random.nextInt(specials.length()));
                }
            };
            text.appendCodePoint(codePoint);
        }
        return text.toString();
    }

    private static String ascii(SplittableRandom random, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            text.append((char) random.nextInt(0x21, 0x7f));
        }
        return text.toString();
    }
}
