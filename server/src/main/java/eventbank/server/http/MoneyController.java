package eventbank.server.http;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.core.Rejection;
import eventbank.engine.Outcome;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Moving the holder's money: {@code POST /api/money_transfer}, {@code POST /api/money_transfers}
 * and {@code POST /api/withdraw}. The account money leaves is always the token's: the body cannot
 * name it.
 *
 * <p>Each account may ask for {@code limits.money_commands_per_minute} money commands a minute
 * (finding 9 of docs/RELIABILITY.md): two accounts could otherwise send each other a cent back
 * and forth without end, and every transfer costs the bank a journal record, memory in the read
 * models and a statement line for ever, every withdrawal a mail as well, while costing the two
 * holders nothing. A request is counted once it is well-formed, whatever the bank then decides,
 * so probing costs the same as moving money. A batch counts each of its transfers and is
 * counted whole or not at all, like its all-or-none semantics: a batch larger than what is left
 * of the minute is refused whole with 429 {@code too_many_requests} and the seconds until it
 * fits; one larger than the whole minute's allowance could never fit, and is 400.
 */
final class MoneyController {
    static final String TRANSFER_ROUTE = "POST /api/money_transfer";
    static final String WITHDRAW_ROUTE = "POST /api/withdraw";
    static final String TRANSFERS_ROUTE = "POST /api/money_transfers";

    private final Api api;
    private final OpenRateLimiter moneyCommandLimiter;

    /** @param moneyCommandLimiter money commands per account ({@code limits.money_commands_per_minute}) */
    MoneyController(Api api, OpenRateLimiter moneyCommandLimiter) {
        this.api = api;
        this.moneyCommandLimiter = moneyCommandLimiter;
    }

    void transfer(Context ctx) {
        long holder = api.holder(ctx);
        JsonBody body = api.body(ctx, Set.of("to_account_number", "amount"));
        long to = body.accountNumber("to_account_number");
        long amount = body.amount("amount");
        Idempotency idempotency = api.idempotency(ctx, TRANSFER_ROUTE, to + "\n" + amount);
        count(holder, 1);
        Outcome outcome = api.submit(new Command.TransferMoney(holder, to, amount, idempotency));
        BankServer.reply(ctx, api, outcome, holder, idempotency,
                committed -> Replies.transferred(committed.seq(), holder, to, amount, committed.balance()));
    }

    /**
     * {@code POST /api/money_transfers}: up to 1,000 transfers from the holder's account. The
     * whole body is checked first (a malformed item is 400 naming its index, and nothing is
     * submitted). {@code atomic: false}: one command per transfer, all submitted before any is
     * awaited, so they share commit batches; each result is {@code {seq}} or {@code {error,
     * message}}. {@code atomic: true}: one command, all or none; a refusal is that transfer's
     * error, its message naming {@code transfers[index]}. An Idempotency-Key is taken with
     * {@code atomic: true} only (the first event carries it, and a retry is answered from the
     * operations read model); with {@code atomic: false} it is refused with 400 rather than ignored.
     */
    void transfers(Context ctx) {
        long holder = api.holder(ctx);
        JsonBody body = api.body(ctx, Set.of("transfers", "atomic"));
        boolean atomic = body.bool("atomic", false);
        if (!atomic && ctx.header(Api.IDEMPOTENCY_KEY) != null) {
            throw ApiException.invalidField("An Idempotency-Key is taken with atomic: true only; send the batch "
                    + "as atomic, or without the key.");
        }
        List<JsonBody> items = body.objects("transfers", 1, Limits.BATCH_TRANSFERS_MAX,
                Set.of("to_account_number", "amount"));
        List<Command.Transfer> transfers = new ArrayList<>(items.size());
        for (int index = 0; index < items.size(); index++) {
            try {
                JsonBody item = items.get(index);
                transfers.add(new Command.Transfer(item.accountNumber("to_account_number"), item.amount("amount")));
            } catch (ApiException e) {
                throw new ApiException(e.status(), e.code(), "transfers[" + index + "]: " + e.getMessage());
            }
        }
        // The key is checked before the batch is counted: a malformed one is a malformed request.
        Idempotency idempotency = atomic ? api.idempotency(ctx, TRANSFERS_ROUTE, canonical(transfers)) : null;
        count(holder, transfers.size());
        Replies.Reply reply = atomic ? atomically(ctx, holder, transfers, idempotency)
                : oneByOne(holder, transfers);
        long lastSeq = 0;
        for (Object result : (List<?>) reply.body().get("results")) {
            if (result instanceof Replies.Recorded recorded) {
                lastSeq = Math.max(lastSeq, recorded.seq());
            }
        }
        if (lastSeq > 0) {
            Api.seq(ctx, lastSeq); // for the request log: the last event recorded
        }
        ctx.status(reply.status()).json(reply.body());
    }

    /** The body of an all-or-none batch as its Idempotency-Key's fingerprint sees it. */
    private static String canonical(List<Command.Transfer> transfers) {
        StringBuilder canonical = new StringBuilder("atomic");
        for (Command.Transfer transfer : transfers) {
            canonical.append('\n').append(transfer.toAccountNumber()).append(' ').append(transfer.amount());
        }
        return canonical.toString();
    }

    private Replies.Reply atomically(Context ctx, long holder, List<Command.Transfer> transfers,
                                     Idempotency idempotency) {
        Outcome outcome = api.submit(new Command.TransferMoneyAtomically(holder, transfers, idempotency));
        return switch (outcome) {
            case Outcome.Committed committed -> {
                List<Long> seqs = new ArrayList<>(committed.events().size());
                for (Recorded recorded : committed.events()) {
                    seqs.add(recorded.seq());
                }
                yield Replies.transferredAll(seqs, committed.balance());
            }
            case Outcome.Rejected rejected when rejected.index() >= 0 -> {
                ApiException error = Errors.of(rejected.reason());
                throw new ApiException(error.status(), error.code(), "transfers[" + rejected.index() + "]: "
                        + error.getMessage());
            }
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason());
            case Outcome.Unavailable unavailable -> throw Errors.of(unavailable);
            case Outcome.Replayed replayed -> replayedBatch(ctx, holder, idempotency, replayed.seq(), transfers);
        };
    }

    /**
     * The first reply to an all-or-none batch again. Its events are contiguous from the first
     * one's seq, which carries the key, and only the sender's balance went down between them
     * (a transfer to oneself is refused): so the reply follows from the first transfer's
     * operation and the amounts of the others, the same request by its fingerprint.
     */
    private Replies.Reply replayedBatch(Context ctx, long holder, Idempotency idempotency, long firstSeq,
                                        List<Command.Transfer> transfers) {
        api.await(api.readModels.operations(), firstSeq);
        if (!(api.readModels.operations().replayed(holder, idempotency.key(), firstSeq).orElse(null)
                instanceof eventbank.server.readmodel.Operation.Transfer first)) {
            throw Errors.readModelLagging();
        }
        List<Long> seqs = new ArrayList<>(transfers.size());
        long balance = first.fromBalanceAfter();
        for (int index = 0; index < transfers.size(); index++) {
            seqs.add(firstSeq + index);
            if (index > 0) {
                balance -= transfers.get(index).amount();
            }
        }
        ctx.header(Api.REPLAYED_HEADER, "true");
        return Replies.transferredAll(seqs, balance);
    }

    private Replies.Reply oneByOne(long holder, List<Command.Transfer> transfers) {
        List<Command> commands = new ArrayList<>(transfers.size());
        for (Command.Transfer transfer : transfers) {
            commands.add(new Command.TransferMoney(holder, transfer.toAccountNumber(), transfer.amount(), null));
        }
        List<Outcome> outcomes = api.submitAll(commands);
        List<Object> results = new ArrayList<>(outcomes.size());
        Outcome.Committed last = null;
        for (Outcome outcome : outcomes) {
            results.add(switch (outcome) {
                case Outcome.Committed committed -> {
                    if (last == null || committed.seq() > last.seq()) {
                        last = committed;
                    }
                    yield new Replies.Recorded(committed.seq());
                }
                case Outcome.Rejected rejected -> new Replies.Refused(rejected.reason().code(),
                        rejected.reason().message());
                case Outcome.Unavailable unavailable -> {
                    ApiException error = Errors.of(unavailable);
                    yield new Replies.Refused(error.code(), error.getMessage());
                }
                case Outcome.Replayed replayed -> throw new IllegalStateException("a transfer without a key was replayed");
            });
        }
        long balance;
        if (last != null) {
            balance = last.balance();
        } else {
            // Nothing recorded: the balance as of everything committed now.
            api.awaitCommitted(api.readModels.accounts());
            balance = api.readModels.accounts().account(holder).map(account -> account.balance())
                    .orElseThrow(() -> Errors.of(Rejection.ACCOUNT_NOT_FOUND));
        }
        return new Replies.Reply(200, Replies.map("results", results, "balance", balance));
    }

    /**
     * Counts {@code commands} money commands of the holder's account, all or none, or answers 429
     * too_many_requests with the seconds until they fit (400 when they never can).
     */
    private void count(long holder, int commands) {
        int perMinute = moneyCommandLimiter.ratePerMinute();
        if (perMinute == 0) {
            return;
        }
        if (commands > perMinute) {
            throw ApiException.invalidField("This batch holds " + commands + " transfers, and an account may ask "
                    + "for at most " + perMinute + " transfers and withdrawals a minute on this server "
                    + "(limits.money_commands_per_minute): send at most " + perMinute + " per request.");
        }
        long blocked = moneyCommandLimiter.acquire(Long.toString(holder), commands);
        if (blocked > 0) {
            throw new ApiException(429, "too_many_requests", "An account may ask for " + perMinute + " transfers "
                    + "and withdrawals a minute (a batch counts each transfer), and this request would go past that; "
                    + "nothing was recorded. Try again in " + blocked + " seconds.",
                    (int) Math.min(Integer.MAX_VALUE, blocked));
        }
    }

    void withdraw(Context ctx) {
        long holder = api.holder(ctx);
        JsonBody body = api.body(ctx, Set.of("amount"));
        long amount = body.amount("amount");
        Idempotency idempotency = api.idempotency(ctx, WITHDRAW_ROUTE, Long.toString(amount));
        count(holder, 1);
        Outcome outcome = api.submit(new Command.Withdraw(holder, amount, idempotency));
        BankServer.reply(ctx, api, outcome, holder, idempotency,
                committed -> Replies.withdrawn(committed.seq(), amount, committed.balance()));
    }
}
