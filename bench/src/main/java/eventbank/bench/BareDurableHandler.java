package eventbank.bench;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.SignedJWT;
import eventbank.server.config.HttpLimits;
import eventbank.server.http.BankServer;
import io.javalin.Javalin;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The baseline for the HTTP target: the same HTTP stack as the server (Javalin 7, virtual
 * threads), one POST route that checks an HS256 JWT with nimbus (with the server's idea of a
 * cache of verified tokens: token -> subject and expiry), appends a small record to a file and
 * answers after a group-commit fsync. No bank.
 *
 * <p>Group commit: a request enqueues its record and waits; one writer thread drains every
 * pending record, writes them in one {@code write}, calls {@code force(false)} (fdatasync) once
 * and completes them all.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar eventbank.bench.BareDurableHandler --port P
 * --data-dir D --key HEX32} (the key is the HS256 secret, at least 32 bytes as hex).
 */
public final class BareDurableHandler {
    private record Pending(byte[] record, CompletableFuture<Long> done) {}

    private record Verified(String subject, long expiresAtMillis) {}

    public static void main(String[] args) throws Exception {
        int port = 0;
        Path dir = null;
        String keyHex = null;
        boolean cache = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--data-dir" -> dir = Path.of(args[++i]);
                case "--key" -> keyHex = args[++i];
                case "--no-token-cache" -> cache = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Files.createDirectories(dir);
        MACVerifier verifier = new MACVerifier(HexFormat.parse(keyHex));
        FileChannel log = FileChannel.open(dir.resolve("bare.log"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
        AtomicLong seq = new AtomicLong();
        Thread writer = new Thread(() -> groupCommit(log, queue, seq), "group-commit");
        writer.setDaemon(true);
        writer.start();
        ConcurrentHashMap<String, Verified> tokens = new ConcurrentHashMap<>();
        boolean useCache = cache;

        Javalin app = Javalin.create(cfg -> {
            BankServer.configureHttpStack(cfg, HttpLimits.defaults());
            cfg.routes.post("/api/money_transfer", ctx -> {
                String auth = ctx.header("Authorization");
                if (auth == null || !auth.startsWith("Bearer ")) {
                    ctx.status(401).result("{\"error\":\"invalid_token\"}");
                    return;
                }
                String token = auth.substring(7);
                Verified v = useCache ? tokens.get(token) : null;
                if (v == null) {
                    try {
                        SignedJWT jwt = SignedJWT.parse(token);
                        if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(verifier)) {
                            throw new IllegalArgumentException("bad signature");
                        }
                        Date exp = jwt.getJWTClaimsSet().getExpirationTime();
                        v = new Verified(jwt.getJWTClaimsSet().getSubject(), exp == null ? 0 : exp.getTime());
                        if (useCache) {
                            tokens.put(token, v);
                        }
                    } catch (Exception e) {
                        ctx.status(401).result("{\"error\":\"invalid_token\"}");
                        return;
                    }
                }
                if (v.expiresAtMillis() <= System.currentTimeMillis()) {
                    ctx.status(401).result("{\"error\":\"invalid_token\"}");
                    return;
                }
                byte[] body = ctx.bodyAsBytes();
                byte[] rec = (v.subject() + " " + new String(body, StandardCharsets.UTF_8) + "\n")
                        .getBytes(StandardCharsets.UTF_8);
                CompletableFuture<Long> done = new CompletableFuture<>();
                queue.add(new Pending(rec, done));
                long s = done.get();
                ctx.status(200).contentType("application/json").result("{\"seq\":" + s + "}");
            });
        });
        app.start("127.0.0.1", port);
        System.out.println("bare handler listening on " + app.port());
        Runtime.getRuntime().addShutdownHook(new Thread(app::stop));
        Thread.currentThread().join();
    }

    private static void groupCommit(FileChannel log, LinkedBlockingQueue<Pending> queue, AtomicLong seq) {
        List<Pending> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
                queue.drainTo(batch);
                int size = 0;
                for (Pending p : batch) {
                    size += p.record().length;
                }
                ByteBuffer buf = ByteBuffer.allocate(size);
                for (Pending p : batch) {
                    buf.put(p.record());
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    log.write(buf);
                }
                log.force(false);
                for (Pending p : batch) {
                    p.done().complete(seq.incrementAndGet());
                }
            } catch (IOException | RuntimeException e) {
                for (Pending p : batch) {
                    p.done().completeExceptionally(e);
                }
            } catch (InterruptedException e) {
                return;
            }
            batch.clear();
        }
    }

    private static final class HexFormat {
        static byte[] parse(String hex) {
            return java.util.HexFormat.of().parseHex(hex);
        }
    }

    private BareDurableHandler() {}
}
