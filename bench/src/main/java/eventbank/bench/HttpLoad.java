package eventbank.bench;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * HTTP load: N keep-alive connections, each sending {@code POST /api/money_transfer} one after
 * the other for a fixed time. Each request picks a random sender (and uses that sender's token)
 * and a random distinct receiver, 1-100 cents; with {@code --batch K} it sends
 * {@code POST /api/money_transfers} with K such transfers instead, each on its own or, with
 * {@code --atomic}, all or none.
 *
 * <p>Two clients: {@code --client java} (default): N virtual-thread workers, each with its own
 * HTTP/1.1 {@link HttpClient}; {@code --client wrk}: Debian's wrk (C, two threads) with
 * {@code bench/wrk/transfers.lua}, much lighter, so more of the two cores go to the server —
 * run from the repository root.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.HttpLoad --target eventbank \
 *      --jar server/target/eventbank.jar --accounts 2000 --conns 8,32,128 --seconds 15 --warmup 5 \
 *      [--client wrk] [--batch 100 [--atomic]] [--journal file|postgres]
 * java -cp bench/target/benchmarks.jar eventbank.bench.HttpLoad --target bare|bare-jetty|bare-helidon|bare-netty ...
 * </pre>
 *
 * <p>eventbank: starts {@code java -jar eventbank.jar serve --data-dir TMP --port FREE} with
 * EVENTBANK_HTTP_OPEN_RATE_PER_MINUTE=0, EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE=0 and
 * EVENTBANK_AUTH_BCRYPT_COST=4, opens the accounts over HTTP, follows the verification links the
 * server prints on its console, logs each in. With {@code --journal postgres} the server is a
 * single leader node of cluster mode instead: a PostgreSQL started from the embedded binaries
 * in the run's directory ({@link BenchPostgres}: fsync and synchronous_commit on, its settings
 * printed), and {@code EVENTBANK_JOURNAL_URL} and {@code EVENTBANK_SERVER_KEY} (a random key)
 * set for the server. bare:
 * starts {@link BareDurableHandler} with a random key and signs the tokens itself, on Javalin
 * ({@code bare}, {@code bare-javalin}) or on the stack named after {@code bare-}. Both children
 * (and the PostgreSQL) are stopped and their data directories deleted at the end.
 */
public final class HttpLoad {
    private static final Pattern LINK =
            Pattern.compile("verification link for (\\S+): \\S*/api/verify\\?(account_number=(\\d+)&code=\\S+)");

    public static void main(String[] args) throws Exception {
        String target = "eventbank";
        String jar = "server/target/eventbank.jar";
        int accounts = 2000;
        int[] conns = {8, 32, 128};
        int seconds = 15;
        int warmup = 5;
        String client = "java";
        int batch = 1;
        boolean atomic = false;
        String journal = "file";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--target" -> target = args[++i];
                case "--jar" -> jar = args[++i];
                case "--accounts" -> accounts = Integer.parseInt(args[++i]);
                case "--conns" -> conns = Stream.of(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--client" -> client = args[++i];
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--atomic" -> atomic = true;
                case "--journal" -> journal = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (!client.equals("java") && !client.equals("wrk")) {
            throw new IllegalArgumentException("--client is java or wrk");
        }
        // "bare" is the bare handler on Javalin, as before issue 17's spike; "bare-STACK" on another stack.
        String stack = target.equals("bare") ? "javalin" : target.startsWith("bare-") ? target.substring(5) : null;
        if (!target.equals("eventbank") && stack == null) {
            throw new IllegalArgumentException("--target is eventbank, bare or bare-STACK (javalin, jetty, helidon, netty, netty-vt)");
        }
        if (batch < 1 || batch > 1000 || batch > 1 && stack != null) {
            throw new IllegalArgumentException("--batch is 1 to 1000, and 1 for the bare handler");
        }
        if (!journal.equals("file") && !(journal.equals("postgres") && target.equals("eventbank"))) {
            throw new IllegalArgumentException("--journal is file, or postgres for eventbank");
        }
        Path dir = Files.createTempDirectory("httpload-");
        BenchPostgres postgres = journal.equals("postgres") ? BenchPostgres.start(dir) : null;
        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb;
        byte[] key = new byte[32];
        ThreadLocalRandom.current().nextBytes(key);
        if (target.equals("eventbank")) {
            pb = new ProcessBuilder(javaBin, "-jar", jar, "serve", "--data-dir", dir.resolve("data").toString(),
                    "--port", Integer.toString(port));
            pb.environment().put("EVENTBANK_HTTP_OPEN_RATE_PER_MINUTE", "0");
            // A load test moves money as fast as it can from few accounts: no limit per account.
            pb.environment().put("EVENTBANK_LIMITS_MONEY_COMMANDS_PER_MINUTE", "0");
            pb.environment().put("EVENTBANK_AUTH_BCRYPT_COST", "4");
            pb.environment().put("EVENTBANK_AUTH_TOKEN_TTL", "PT24H");
            if (postgres != null) {
                // A node of cluster mode, alone on the database: it leads at once. Cluster mode
                // needs the server key given, the same on every node.
                pb.environment().put("EVENTBANK_JOURNAL_URL", postgres.url());
                pb.environment().put("EVENTBANK_SERVER_KEY", java.util.Base64.getEncoder().encodeToString(key));
            }
        } else {
            pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                    BareDurableHandler.class.getName(), "--stack", stack, "--port", Integer.toString(port),
                    "--data-dir", dir.resolve("data").toString(), "--key", java.util.HexFormat.of().formatHex(key));
        }
        pb.redirectErrorStream(true);
        Process server = pb.start();
        ConcurrentHashMap<String, String> links = new ConcurrentHashMap<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
                 var out = Files.newBufferedWriter(dir.resolve("server.log"))) {
                for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = LINK.matcher(line);
                    if (m.find()) {
                        links.put(m.group(1), m.group(2));
                    } else if (!line.contains(" /api/money_transfer ")) {
                        out.write(line);
                        out.newLine();
                    }
                }
            } catch (IOException ignored) {
                // the child went away
            }
        });
        try {
            HttpClient setup = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            waitReady(setup, base, target);
            System.out.printf("target %s on %s, pid %d, data %s%n", target, base, server.pid(), dir);
            if (target.equals("eventbank")) {
                System.out.println("health: " + setup.send(HttpRequest.newBuilder(URI.create(base + "/health")).GET()
                        .build(), HttpResponse.BodyHandlers.ofString()).body());
            }
            String[] numbers = new String[accounts];
            String[] tokens = new String[accounts];
            long t0 = System.nanoTime();
            if (target.equals("eventbank")) {
                openAccounts(base, accounts, numbers, tokens, links);
            } else {
                MACSigner signer = new MACSigner(key);
                for (int i = 0; i < accounts; i++) {
                    numbers[i] = Long.toString(4_000_000_000_000_000L + i);
                    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("eventbank").subject(numbers[i])
                            .issueTime(new Date()).expirationTime(new Date(System.currentTimeMillis() + 900_000)).build();
                    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
                    jwt.sign(signer);
                    tokens[i] = jwt.serialize();
                }
            }
            System.out.printf("setup: %d accounts ready in %.1f s%n", accounts, (System.nanoTime() - t0) / 1e9);
            Path accountsFile = dir.resolve("accounts.txt");
            try (var out = Files.newBufferedWriter(accountsFile)) {
                for (int i = 0; i < accounts; i++) {
                    out.write(numbers[i] + " " + tokens[i] + "\n");
                }
            }
            if (warmup > 0) {
                int c = conns[conns.length / 2];
                Result w = client.equals("wrk") ? wrk(base, c, warmup, accountsFile, batch, atomic)
                        : run(base, c, warmup, numbers, tokens, batch, atomic);
                System.out.printf("warm-up %d conns %d s: %.0f requests/s%n", conns[conns.length / 2], warmup,
                        w.requestsPerSecond());
            }
            System.out.printf("client %s, %d transfer(s) per request%s%n", client, batch,
                    batch > 1 ? (atomic ? ", atomic" : ", each on its own") : "");
            System.out.println("conns,transfers_per_s,requests_per_s,ok,refused,errors,p50_ms,p99_ms,p999_ms,max_ms,"
                    + "server_cpu_us_per_request,events_recorded_per_s,postgres_cpu_us_per_request");
            for (int c : conns) {
                long cpuBefore = ProcessCpu.micros(server.pid());
                long postgresCpuBefore = postgres == null ? 0 : postgres.cpuMicros();
                long seqBefore = target.equals("eventbank") ? lastSeq(setup, base) : 0;
                long started = System.nanoTime();
                Result r = client.equals("wrk") ? wrk(base, c, seconds, accountsFile, batch, atomic)
                        : run(base, c, seconds, numbers, tokens, batch, atomic);
                long cpu = ProcessCpu.micros(server.pid()) - cpuBefore;
                // The journal's work in PostgreSQL's processes, which the server's own CPU time leaves out.
                double postgresCpu = postgres == null ? Double.NaN : postgres.cpuMicros() - postgresCpuBefore;
                long requests = Math.max(1, r.ok() + r.refused() + r.errors());
                // The journal's count, which also tells how many transfers of the batches were recorded.
                double recorded = target.equals("eventbank")
                        ? (lastSeq(setup, base) - seqBefore) / ((System.nanoTime() - started) / 1e9) : Double.NaN;
                System.out.printf("%d,%.0f,%.0f,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%.0f,%.0f,%.0f%n", c,
                        r.requestsPerSecond() * batch, r.requestsPerSecond(), r.ok(), r.refused(), r.errors(),
                        r.p50Micros() / 1000.0, r.p99Micros() / 1000.0, r.p999Micros() / 1000.0,
                        r.maxMicros() / 1000.0, (double) cpu / requests, recorded, postgresCpu / requests);
            }
        } finally {
            server.destroy();
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(2000);
            if (postgres != null) {
                System.out.printf("[postgres] database %,.0f MB%n", postgres.databaseBytes() / 1e6);
                postgres.close();
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * One measurement: successful requests per second (for batches, requests whose reply is 200,
     * whatever each transfer's own result) and the latency of every request. wrk counts a
     * non-2xx reply as an error and has no "refused" column.
     */
    record Result(double requestsPerSecond, long ok, long refused, long errors, long p50Micros, long p99Micros,
                  long p999Micros, long maxMicros) {}

    private static final Pattern LAST_SEQ = Pattern.compile("\"last_seq\":(\\d+)");
    private static final Pattern WRK_SUMMARY = Pattern.compile("eventbank-wrk requests=(\\d+) seconds=([\\d.]+) "
            + "p50_us=(\\d+) p99_us=(\\d+) p999_us=(\\d+) max_us=(\\d+) errors=(\\d+)");

    /** Runs wrk (two threads, like the two cores) with bench/wrk/transfers.lua and reads its summary line. */
    private static Result wrk(String base, int conns, int seconds, Path accountsFile, int batch, boolean atomic)
            throws Exception {
        Path script = Path.of("bench", "wrk", "transfers.lua");
        if (!Files.exists(script)) {
            throw new IllegalStateException("run from the repository root: " + script + " is missing");
        }
        Process wrk = new ProcessBuilder("wrk", "-t2", "-c" + conns, "-d" + seconds + "s", "--timeout", "10s",
                "-s", script.toString(), base, "--", accountsFile.toString(), Integer.toString(batch), atomic ? "atomic" : "")
                .redirectErrorStream(true).start();
        String output = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (wrk.waitFor() != 0) {
            throw new IllegalStateException("wrk failed: " + output);
        }
        Matcher m = WRK_SUMMARY.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("no summary from wrk: " + output);
        }
        long requests = Long.parseLong(m.group(1));
        long errors = Long.parseLong(m.group(7));
        double elapsed = Double.parseDouble(m.group(2));
        return new Result((requests - errors) / elapsed, requests - errors, 0, errors, Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)), Long.parseLong(m.group(5)), Long.parseLong(m.group(6)));
    }

    private static Result run(String base, int conns, int seconds, String[] numbers, String[] tokens, int batch,
                              boolean atomic) throws Exception {
        URI uri = URI.create(base + (batch == 1 ? "/api/money_transfer" : "/api/money_transfers"));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Future<long[]>> futures = new ArrayList<>();
        List<Histogram> histograms = new ArrayList<>();
        long start = System.nanoTime();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < conns; w++) {
                Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
                histograms.add(h);
                futures.add(ex.submit(() -> {
                    long ok = 0, refused = 0, errors = 0;
                    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                            .executor(Runnable::run).build()) {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        while (System.nanoTime() < end) {
                            int from = rnd.nextInt(numbers.length);
                            String body = body(numbers, from, batch, atomic, rnd);
                            HttpRequest req = HttpRequest.newBuilder(uri)
                                    .header("Content-Type", "application/json")
                                    .header("Authorization", "Bearer " + tokens[from])
                                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
                            long t = System.nanoTime();
                            try {
                                HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                                h.recordValue(Math.min((System.nanoTime() - t) / 1000, TimeUnit.SECONDS.toMicros(60)));
                                if (resp.statusCode() == 200 || resp.statusCode() == 201) {
                                    ok++;
                                } else if (resp.statusCode() < 500 && resp.statusCode() != 401) {
                                    refused++;
                                } else {
                                    errors++;
                                }
                            } catch (IOException e) {
                                errors++;
                            }
                        }
                    }
                    return new long[] {ok, refused, errors};
                }));
            }
            long ok = 0, refused = 0, errors = 0;
            for (Future<long[]> f : futures) {
                long[] r = f.get();
                ok += r[0];
                refused += r[1];
                errors += r[2];
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            Histogram all = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
            histograms.forEach(all::add);
            return new Result(ok / elapsed, ok, refused, errors, all.getValueAtPercentile(50),
                    all.getValueAtPercentile(99), all.getValueAtPercentile(99.9), all.getMaxValue());
        }
    }

    /** One transfer to a random other account, or a batch of them. */
    private static String body(String[] numbers, int from, int batch, boolean atomic, ThreadLocalRandom rnd) {
        StringBuilder transfers = new StringBuilder();
        for (int i = 0; i < batch; i++) {
            int to = rnd.nextInt(numbers.length - 1);
            if (to >= from) {
                to++;
            }
            transfers.append(i == 0 ? "" : ",").append("{\"to_account_number\":\"").append(numbers[to])
                    .append("\",\"amount\":").append(1 + rnd.nextInt(100)).append('}');
        }
        return batch == 1 ? transfers.toString() : "{\"transfers\":[" + transfers + "],\"atomic\":" + atomic + "}";
    }

    private static void openAccounts(String base, int accounts, String[] numbers, String[] tokens,
                                     ConcurrentHashMap<String, String> links) throws Exception {
        AtomicInteger next = new AtomicInteger();
        String password = "load test password";
        Pattern number = Pattern.compile("\"account_number\":\"(\\d+)\"");
        Pattern token = Pattern.compile("\"token\":\"([^\"]+)\"");
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < 32; w++) {
                fs.add(ex.submit(() -> {
                    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    for (int i; (i = next.getAndIncrement()) < accounts; ) {
                        String email = "load" + i + "@example.com";
                        String r = post(c, base + "/api/account", null,
                                "{\"email\":\"" + email + "\",\"password\":\"" + password + "\"}");
                        Matcher m = number.matcher(r);
                        if (!m.find()) {
                            throw new IllegalStateException("open failed: " + r);
                        }
                        numbers[i] = m.group(1);
                        String query = null;
                        for (int tries = 0; tries < 500 && (query = links.get(email)) == null; tries++) {
                            Thread.sleep(10);
                        }
                        if (query == null) {
                            throw new IllegalStateException("no verification link for " + email);
                        }
                        HttpResponse<String> v = c.send(HttpRequest.newBuilder(URI.create(base + "/api/verify?" + query))
                                .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
                        if (v.statusCode() != 200) {
                            throw new IllegalStateException("verify failed: " + v.body());
                        }
                        String l = post(c, base + "/api/login", null,
                                "{\"account_number\":\"" + numbers[i] + "\",\"password\":\"" + password + "\"}");
                        Matcher t = token.matcher(l);
                        if (!t.find()) {
                            throw new IllegalStateException("login failed: " + l);
                        }
                        tokens[i] = t.group(1);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        }
    }

    private static String post(HttpClient c, String url, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The server's last durable seq, from /health. */
    private static long lastSeq(HttpClient client, String base) throws Exception {
        String health = client.send(HttpRequest.newBuilder(URI.create(base + "/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = LAST_SEQ.matcher(health);
        if (!m.find()) {
            throw new IllegalStateException("no last_seq in " + health);
        }
        return Long.parseLong(m.group(1));
    }

    private static void waitReady(HttpClient c, String base, String target) throws Exception {
        URI uri = URI.create(base + (target.equals("eventbank") ? "/health" : "/api/money_transfer"));
        for (int i = 0; i < 300; i++) {
            try {
                c.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the server did not answer on " + base);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private HttpLoad() {}
}
