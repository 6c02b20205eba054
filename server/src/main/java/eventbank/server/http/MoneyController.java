package eventbank.server.http;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.engine.Outcome;
import io.javalin.http.Context;
import java.util.Set;

/**
 * Moving the holder's money: {@code POST /api/money_transfer} and {@code POST /api/withdraw}.
 * The account money leaves is always the token's: the body cannot name it.
 */
final class MoneyController {
    static final String TRANSFER_ROUTE = "POST /api/money_transfer";
    static final String WITHDRAW_ROUTE = "POST /api/withdraw";

    private final Api api;

    MoneyController(Api api) {
        this.api = api;
    }

    void transfer(Context ctx) {
        long holder = api.holder(ctx);
        JsonBody body = api.body(ctx, Set.of("to_account_number", "amount"));
        long to = body.accountNumber("to_account_number");
        long amount = body.amount("amount");
        Idempotency idempotency = api.idempotency(ctx, TRANSFER_ROUTE, to + "\n" + amount);
        Outcome outcome = api.submit(new Command.TransferMoney(holder, to, amount, idempotency));
        BankServer.reply(ctx, api, outcome, holder, idempotency,
                committed -> Replies.transferred(committed.seq(), holder, to, amount, committed.balance()));
    }

    void withdraw(Context ctx) {
        long holder = api.holder(ctx);
        JsonBody body = api.body(ctx, Set.of("amount"));
        long amount = body.amount("amount");
        Idempotency idempotency = api.idempotency(ctx, WITHDRAW_ROUTE, Long.toString(amount));
        Outcome outcome = api.submit(new Command.Withdraw(holder, amount, idempotency));
        BankServer.reply(ctx, api, outcome, holder, idempotency,
                committed -> Replies.withdrawn(committed.seq(), amount, committed.balance()));
    }
}
