package eventbank.server.http;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Rejection;
import eventbank.engine.write.Outcome;
import eventbank.server.json.InvalidJsonException;
import eventbank.server.json.JsonBody;
import eventbank.server.json.TransferBatchBody;
import eventbank.server.json.TransferBody;
import eventbank.server.readmodel.AccountView;
import eventbank.server.readmodel.AccountsReadModel;
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
    private final Authenticator authenticator;
    private final IdempotencyKeys idempotencyKeys;
    private final Submitter submitter;
    private final Outcomes outcomes;
    private final ReadWaits waits;
    private final AccountsReadModel accounts;
    private final RateLimiter moneyCommandLimiter;

    /** @param moneyCommandLimiter money commands per account ({@code limits.money_commands_per_minute}) */
    MoneyController(Authenticator authenticator, IdempotencyKeys idempotencyKeys, Submitter submitter,
                    Outcomes outcomes, ReadWaits waits, AccountsReadModel accounts, RateLimiter moneyCommandLimiter) {
        this.authenticator = authenticator;
        this.idempotencyKeys = idempotencyKeys;
        this.submitter = submitter;
        this.outcomes = outcomes;
        this.waits = waits;
        this.accounts = accounts;
        this.moneyCommandLimiter = moneyCommandLimiter;
    }

    void transfer(Context ctx) {
        long holder = authenticator.holder(ctx);
        byte[] bytes = Requests.jsonBytes(ctx);
        // Most bodies are right: read in one pass. Any other is read strictly, which says what is wrong.
        Command.Transfer transfer = TransferBody.read(bytes);
        if (transfer == null) {
            JsonBody body = JsonBody.parse(bytes, Set.of("to_account_number", "amount"));
            transfer = new Command.Transfer(body.accountNumber("to_account_number"), body.amount("amount"));
        }
        long to = transfer.toAccountNumber();
        long amount = transfer.amount();
        Idempotency idempotency = idempotencyKeys.of(ctx, Route.TRANSFER, to + "\n" + amount);
        count(holder, 1);
        Outcome outcome = submitter.submit(new Command.TransferMoney(holder, to, amount, idempotency));
        outcomes.reply(outcome, holder, idempotency, committed -> new Replies.Transferred(committed.seq(),
                Long.toString(holder), Long.toString(to), amount, committed.balance())).writeTo(ctx);
    }

    /**
     * {@code POST /api/money_transfers}: up to 1,000 transfers from the holder's account. The
     * whole body is checked first (a malformed item is 400 naming its index, and nothing is
     * submitted). {@code atomic: false}: one command whose transfers the sequencer decides one by
     * one, each as if sent alone; each result is {@code {seq}} or {@code {error, message}}.
     * {@code atomic: true}: one command, all or none; a refusal is that transfer's
     * error, its message naming {@code transfers[index]}. An Idempotency-Key is taken with
     * {@code atomic: true} only (the first event carries it, and a retry is answered from the
     * operations read model); with {@code atomic: false} it is refused with 400 rather than ignored.
     */
    void transfers(Context ctx) {
        long holder = authenticator.holder(ctx);
        byte[] bytes = Requests.jsonBytes(ctx);
        // Most bodies are right: read in one pass. Any other is read strictly, which says what is wrong.
        TransferBatchBody batch = TransferBatchBody.read(bytes);
        if (batch == null) {
            batch = strictlyRead(ctx, bytes);
        }
        boolean atomic = batch.atomic();
        refuseKeyUnlessAtomic(ctx, atomic);
        List<Command.Transfer> transfers = batch.transfers();
        // The key is checked before the batch is counted: a malformed one is a malformed request.
        Idempotency idempotency = atomic ? idempotencyKeys.of(ctx, Route.TRANSFERS, canonical(transfers)) : null;
        count(holder, transfers.size());
        Replies.Reply reply;
        if (atomic) {
            Outcome outcome = submitter.submit(new Command.TransferMoneyAtomically(holder, transfers, idempotency));
            reply = outcomes.atomicBatch(outcome, holder, idempotency, transfers);
        } else {
            Outcome outcome = submitter.submit(new Command.TransferMoneyOneByOne(holder, transfers));
            reply = outcomes.oneByOne(outcome, transfers.size(), () -> balanceNow(holder));
        }
        reply.writeTo(ctx);
    }

    /**
     * The batch in a body {@link TransferBatchBody} would not read, or the error that says what is
     * wrong with it, in this order: the JSON, unknown fields, {@code atomic}, then (only for a
     * batch sent one by one) an Idempotency-Key, the array, then each transfer's fields.
     */
    private static TransferBatchBody strictlyRead(Context ctx, byte[] bytes) {
        JsonBody body = JsonBody.parse(bytes, Set.of("transfers", "atomic"));
        boolean atomic = body.bool("atomic", false);
        refuseKeyUnlessAtomic(ctx, atomic);
        List<JsonBody> items = body.objects("transfers", 1, Limits.BATCH_TRANSFERS_MAX,
                Set.of("to_account_number", "amount"));
        List<Command.Transfer> transfers = new ArrayList<>(items.size());
        for (int index = 0; index < items.size(); index++) {
            try {
                JsonBody item = items.get(index);
                transfers.add(new Command.Transfer(item.accountNumber("to_account_number"), item.amount("amount")));
            } catch (InvalidJsonException e) {
                throw e.at("transfers[" + index + "]");
            }
        }
        return new TransferBatchBody(atomic, transfers);
    }

    /** An Idempotency-Key is refused with a batch sent one by one, rather than ignored. */
    private static void refuseKeyUnlessAtomic(Context ctx, boolean atomic) {
        if (!atomic && ctx.header(Requests.IDEMPOTENCY_KEY) != null) {
            throw ApiException.invalidField("An Idempotency-Key is taken with atomic: true only; send the batch "
                    + "as atomic, or without the key.");
        }
    }

    /** The body of an all-or-none batch as its Idempotency-Key's fingerprint sees it. */
    private static String canonical(List<Command.Transfer> transfers) {
        StringBuilder canonical = new StringBuilder("atomic");
        for (Command.Transfer transfer : transfers) {
            canonical.append('\n').append(transfer.toAccountNumber()).append(' ').append(transfer.amount());
        }
        return canonical.toString();
    }

    /** The holder's balance as of everything committed now, for a batch the engine could not take. */
    private long balanceNow(long holder) {
        waits.awaitCommitted(accounts);
        return accounts.account(holder).map(AccountView::balance)
                .orElseThrow(() -> Errors.of(Rejection.ACCOUNT_NOT_FOUND));
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
        long holder = authenticator.holder(ctx);
        JsonBody body = Requests.body(ctx, Set.of("amount"));
        long amount = body.amount("amount");
        Idempotency idempotency = idempotencyKeys.of(ctx, Route.WITHDRAW, Long.toString(amount));
        count(holder, 1);
        Outcome outcome = submitter.submit(new Command.Withdraw(holder, amount, idempotency));
        outcomes.reply(outcome, holder, idempotency,
                committed -> new Replies.Withdrawn(committed.seq(), amount, committed.balance())).writeTo(ctx);
    }
}
