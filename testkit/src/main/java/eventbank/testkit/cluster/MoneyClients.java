package eventbank.testkit.cluster;

import eventbank.core.HmacVerificationCodes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.LongSupplier;

/**
 * Client threads that move money through a cluster with Idempotency-Keys: each command is a
 * transfer of 1 to 99 cents between two accounts drawn at random or, one command in eight, a
 * withdrawal of 1 to 20 cents from one; each is sent by a {@link RetryingClient} until its answer
 * is definite, and the answer goes into the {@link Ledger}. Every account sends as often as it
 * receives, so a long run (the benchmark's) drains none of them: only the withdrawals take
 * money out, a little at a time.
 */
public final class MoneyClients {
    /** An open, verified account and a token for it (valid a day, on every node: they share the server key). */
    public record Account(String number, String token) {}

    private static final int WITHDRAWAL_ONE_IN = 8;

    private final RetryingClient client;
    private final List<Account> accounts;
    private final Ledger ledger;
    private final String runId;
    private final List<Thread> threads = new ArrayList<>();
    /** When the commands still in hand must have their answer: far away until {@link #stop}. */
    private volatile long deadlineNanos = Long.MAX_VALUE;
    private volatile boolean stopping;

    /**
     * @param runId makes the Idempotency-Keys of this run unique among runs on the same journal
     */
    public MoneyClients(RetryingClient client, List<Account> accounts, Ledger ledger, String runId) {
        this.client = client;
        this.accounts = List.copyOf(accounts);
        this.ledger = ledger;
        this.runId = runId;
    }

    /**
     * Opens and verifies {@code count} accounts through the leader (the verification code made
     * with the cluster's server key, as the mail's link has it) and logs each in.
     */
    public static List<Account> open(RetryingClient client, int count, byte[] serverKey, String runId,
                                     Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        LongSupplier until = () -> deadline;
        HmacVerificationCodes codes = new HmacVerificationCodes(serverKey);
        List<Account> accounts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String password = "password-" + runId + "-" + i;
            JsonHttp.Reply opened = definite(client.post("/api/account", Map.of("email", runId + "-" + i
                    + "@example.com", "password", password), null, "open-" + runId + "-" + i, until), 201, "opening");
            String number = opened.body().get("account_number").asText();
            String code = codes.codeFor(Long.parseLong(number), opened.body().get("seq").asLong());
            definite(client.get("/api/verify?account_number=" + number + "&code=" + code, null, until), 200,
                    "verification");
            JsonHttp.Reply login = definite(client.post("/api/login", Map.of("account_number", number,
                    "password", password), null, null, until), 200, "login");
            accounts.add(new Account(number, login.body().get("token").asText()));
        }
        return accounts;
    }

    private static JsonHttp.Reply definite(JsonHttp.Reply reply, int status, String what) {
        if (reply == null || reply.status() != status) {
            throw new IllegalStateException("the " + what + " was answered " + reply + ", not " + status);
        }
        return reply;
    }

    /** Starts {@code count} threads, each with its own random seed. */
    public void start(int count, long seed) {
        if (accounts.size() < 2) {
            throw new IllegalArgumentException("transfers need two accounts at least");
        }
        for (int i = 0; i < count; i++) {
            int index = i;
            Random random = new Random(seed + i);
            threads.add(Thread.ofPlatform().name("money-client-" + i).daemon().start(() -> run(index, random)));
        }
    }

    /**
     * Stops sending new commands and waits until every thread has the definite answer of the one
     * in hand, for at most {@code timeout}; a command still without one is recorded unresolved.
     */
    public void stop(Duration timeout) throws InterruptedException {
        deadlineNanos = System.nanoTime() + timeout.toNanos();
        stopping = true;
        for (Thread thread : threads) {
            thread.join(Math.max(1, timeout.toMillis() + 5_000));
            if (thread.isAlive()) {
                throw new IllegalStateException(thread.getName() + " did not stop");
            }
        }
    }

    private void run(int index, Random random) {
        try {
            for (long n = 0; !stopping; n++) {
                String key = runId + "-" + index + "-" + n;
                int fromIndex = random.nextInt(accounts.size());
                Account from = accounts.get(fromIndex);
                Ledger.Command command;
                if (random.nextInt(WITHDRAWAL_ONE_IN) == 0) {
                    command = new Ledger.Command(key, Ledger.Kind.WITHDRAWAL, from.number(), null,
                            1 + random.nextInt(20));
                } else {
                    int to = random.nextInt(accounts.size() - 1);
                    command = new Ledger.Command(key, Ledger.Kind.TRANSFER, from.number(),
                            accounts.get(to >= fromIndex ? to + 1 : to).number(), 1 + random.nextInt(99));
                }
                ledger.settle(command, client.post(command.path(), command.body(), from.token(), key,
                        () -> deadlineNanos));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
