package eventbank.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
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

/**
 * The bare durable handler's work, the same on every HTTP stack of the spike
 * ({@link BareDurableHandler}): check an HS256 bearer token (with a cache of verified tokens:
 * token to subject and expiry, as the server keeps), parse the JSON body with Jackson, append a
 * record to a file and answer once a group commit has made it durable, with a JSON reply written
 * by Jackson. No bank. Each stack is a thin adapter: it hands over the Authorization header and
 * the body, and writes the {@link Reply} it gets back.
 *
 * <p>Group commit: a request enqueues its record; one writer thread drains every pending record,
 * writes them in one {@code write}, calls {@code force(false)} (fdatasync) once and completes
 * them all.
 */
final class DurableTransfers {
    /** What a stack writes back: the status and a JSON body. */
    record Reply(int status, byte[] body) {}

    /** The body of {@code POST /api/money_transfer}, as the server reads it. */
    record Transfer(String to_account_number, long amount) {}

    private record Receipt(long seq, String from_account_number, String to_account_number, long amount) {}

    private record Pending(byte[] record, CompletableFuture<Long> done) {}

    private record Verified(String subject, long expiresAtMillis) {}

    static final byte[] INVALID_TOKEN = "{\"error\":\"invalid_token\"}".getBytes(StandardCharsets.UTF_8);
    static final byte[] INVALID_JSON = "{\"error\":\"invalid_json\"}".getBytes(StandardCharsets.UTF_8);
    static final byte[] BUSY = "{\"error\":\"busy\"}".getBytes(StandardCharsets.UTF_8);
    private static final int PENDING_MAX = 65_536;

    private final MACVerifier verifier;
    private final boolean tokenCache;
    private final ConcurrentHashMap<String, Verified> tokens = new ConcurrentHashMap<>();
    private final ObjectMapper json = new ObjectMapper();
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(PENDING_MAX);
    private final FileChannel log;
    private long seq;

    DurableTransfers(Path dir, byte[] key, boolean tokenCache) throws Exception {
        Files.createDirectories(dir);
        this.verifier = new MACVerifier(key);
        this.tokenCache = tokenCache;
        this.log = FileChannel.open(dir.resolve("bare.log"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        Thread writer = new Thread(this::groupCommit, "group-commit");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * A request checked and, if accepted, queued for the group commit: {@code refused} is the
     * reply to write at once, or else {@code durable} completes (on the group-commit thread)
     * once the record is on disk and {@link #reply} makes the JSON reply.
     */
    record Submitted(Reply refused, CompletableFuture<Long> durable, String from, Transfer transfer) {}

    /** For stacks whose handler may block (a virtual thread a request): the reply once durable. */
    Reply transfer(String authorization, byte[] body) {
        Submitted submitted = submit(authorization, body);
        return submitted.refused() != null ? submitted.refused() : reply(submitted, submitted.durable().join());
    }

    /** Checks the token, parses the body and queues the record. */
    Submitted submit(String authorization, byte[] body) {
        Verified sender = verify(authorization);
        if (sender == null) {
            return new Submitted(new Reply(401, INVALID_TOKEN), null, null, null);
        }
        Transfer transfer;
        try {
            transfer = json.readValue(body, Transfer.class);
        } catch (IOException e) {
            return new Submitted(new Reply(400, INVALID_JSON), null, null, null);
        }
        byte[] record = (sender.subject() + " " + transfer.to_account_number() + " " + transfer.amount() + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        CompletableFuture<Long> durable = new CompletableFuture<>();
        if (!queue.offer(new Pending(record, durable))) {
            return new Submitted(new Reply(503, BUSY), null, null, null);
        }
        return new Submitted(null, durable, sender.subject(), transfer);
    }

    /** The JSON reply to a transfer made durable as {@code seq}. */
    Reply reply(Submitted submitted, long seq) {
        try {
            return new Reply(200, json.writeValueAsBytes(new Receipt(seq, submitted.from(),
                    submitted.transfer().to_account_number(), submitted.transfer().amount())));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sender of a valid, unexpired bearer token, or null. */
    private Verified verify(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return null;
        }
        String token = authorization.substring(7);
        Verified verified = tokenCache ? tokens.get(token) : null;
        if (verified == null) {
            try {
                SignedJWT jwt = SignedJWT.parse(token);
                if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(verifier)) {
                    return null;
                }
                JWTClaimsSet claims = jwt.getJWTClaimsSet();
                Date expiry = claims.getExpirationTime();
                verified = new Verified(claims.getSubject(), expiry == null ? 0 : expiry.getTime());
            } catch (Exception e) {
                return null;
            }
            if (tokenCache) {
                tokens.put(token, verified);
            }
        }
        return verified.expiresAtMillis() > System.currentTimeMillis() ? verified : null;
    }

    private void groupCommit() {
        List<Pending> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
                queue.drainTo(batch);
                int size = 0;
                for (Pending p : batch) {
                    size += p.record().length;
                }
                ByteBuffer buffer = ByteBuffer.allocate(size);
                for (Pending p : batch) {
                    buffer.put(p.record());
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    log.write(buffer);
                }
                log.force(false);
                for (Pending p : batch) {
                    p.done().complete(++seq);
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
}
