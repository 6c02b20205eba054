package eventbank.bench.faults;

import java.io.IOException;
import java.util.Map;

/**
 * Sends the harness's requests and records what came back in the {@link Ledger}: state-changing
 * ones (open, transfer, withdraw) with their Idempotency-Key, and the ones that need no key
 * (following a verification link, logging in, reading a balance or a statement).
 *
 * <p>How a reply is read: 200 or 201 with a seq is acknowledged; 422 is a refusal by the bank's
 * rules (nothing recorded, and a retry of a recorded key would have been replayed instead); 503
 * ({@code commit_outcome_unknown}, {@code journal_failed}, {@code busy}, {@code starting}) and no
 * reply at all leave the outcome unknown, to be retried with the same key; 401 means the token
 * must be renewed, so the outcome stays unknown too. Anything else is an anomaly: no correct
 * server answers it to these requests.
 */
final class Requests {
    private final BankClient client;
    private final Ledger ledger;
    private final ConsoleLinks links;

    Requests(BankClient client, Ledger ledger, ConsoleLinks links) {
        this.client = client;
        this.ledger = ledger;
        this.links = links;
    }

    /** Sends (or sends again) one operation and records its outcome. */
    void execute(Operation operation) throws InterruptedException {
        operation.attempted();
        ledger.requests.increment();
        if (operation.attempts() > 1) {
            ledger.retries.increment();
        }
        BankClient.Reply reply;
        try {
            reply = switch (operation.kind) {
                case OPEN -> client.post("/api/account", Map.of("email", operation.account.email,
                        "password", operation.account.password), null, operation.key);
                case TRANSFER -> client.post("/api/money_transfer", Map.of("to_account_number",
                        operation.to.number(), "amount", operation.amount), token(operation.account), operation.key);
                case WITHDRAW -> client.post("/api/withdraw", Map.of("amount", operation.amount),
                        token(operation.account), operation.key);
            };
        } catch (IOException e) {
            ledger.answered("no reply");
            operation.settle(Operation.State.UNKNOWN, 0, "no reply: " + e);
            return;
        }
        record(operation, reply);
    }

    private void record(Operation operation, BankClient.Reply reply) {
        String answer = reply.status() + (reply.error().isEmpty() ? "" : " " + reply.error());
        ledger.answered(answer);
        String contradiction = null;
        if ((reply.status() == 200 || reply.status() == 201) && reply.body().has("seq")) {
            long seq = reply.body().get("seq").asLong();
            if (operation.kind == Operation.Kind.OPEN) {
                String number = reply.body().path("account_number").asText(null);
                if (operation.account.number() != null && !operation.account.number().equals(number)) {
                    ledger.anomaly("key " + operation.key + " opened account " + operation.account.number()
                            + " and a retry answered account " + number);
                }
                operation.account.number(number);
                ledger.opened(operation.account);
            }
            contradiction = operation.settle(Operation.State.ACKNOWLEDGED, seq, answer);
        } else if (reply.status() == 422) {
            contradiction = operation.settle(Operation.State.REJECTED, 0, answer);
        } else if (reply.status() == 503 || reply.status() == 401) {
            if (reply.status() == 401) {
                operation.account.token(null);
            }
            operation.settle(Operation.State.UNKNOWN, 0, answer);
        } else {
            operation.settle(Operation.State.UNKNOWN, 0, answer);
            ledger.anomaly("key " + operation.key + " (" + operation.kind + ") was answered " + reply.status() + " "
                    + reply.shown());
        }
        if (contradiction != null) {
            ledger.anomaly(contradiction);
        }
    }

    /** The account's token, logging in first when there is none. */
    private String token(Account account) throws IOException, InterruptedException {
        String token = account.token();
        if (token != null) {
            return token;
        }
        BankClient.Reply login = client.post("/api/login", Map.of("account_number", account.number(),
                "password", account.password), null, null);
        if (login.status() != 200) {
            throw new IOException("login of " + account + " answered " + login.status() + " " + login.body());
        }
        account.token(login.body().get("token").asText());
        return account.token();
    }

    /**
     * Follows the account's verification link (once printed) and logs in. Answers whether the
     * account can now move money.
     */
    boolean makeUsable(Account account) throws InterruptedException {
        try {
            if (!account.verified()) {
                String query = links.queryFor(account.email);
                if (query == null) {
                    return false; // the outbox has not mailed it yet
                }
                BankClient.Reply verified = client.get("/api/verify?" + query, null);
                if (verified.status() != 200) {
                    if (verified.status() != 503) {
                        ledger.anomaly("the link of " + account + " was answered " + verified.status() + " "
                                + verified.shown());
                    }
                    return false;
                }
                account.verified(true);
            }
            token(account);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads the balance, which must never be negative. Failures to reach the server are ignored. */
    void readBalance(Account account) throws InterruptedException {
        try {
            BankClient.Reply reply = client.get("/api/account", token(account));
            ledger.reads.increment();
            if (reply.status() == 200 && reply.body().path("balance").asLong() < 0) {
                ledger.anomaly("account " + account + " read a negative balance: " + reply.shown());
            } else if (reply.status() == 401) {
                account.token(null);
            } else if (reply.status() != 200 && reply.status() != 503) {
                ledger.anomaly("GET /api/account of " + account + " answered " + reply.status() + " " + reply.shown());
            }
        } catch (IOException e) {
            ledger.answered("no reply (read)");
        }
    }

    /** Reads the newest page of the statement. */
    void readStatement(Account account) throws InterruptedException {
        try {
            BankClient.Reply reply = client.get("/api/account/transactions?limit=20", token(account));
            ledger.reads.increment();
            if (reply.status() == 401) {
                account.token(null);
            } else if (reply.status() != 200 && reply.status() != 503) {
                ledger.anomaly("GET /api/account/transactions of " + account + " answered " + reply.status() + " "
                        + reply.shown());
            }
        } catch (IOException e) {
            ledger.answered("no reply (read)");
        }
    }
}
