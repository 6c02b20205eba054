package eventbank.server.http;

import eventbank.server.readmodel.Operation;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The success replies of the state-changing routes, built in one place both from a fresh
 * outcome and from a stored {@link Operation} (a retry's replay and {@code GET
 * /api/operations/{key}}), so the two are identical by construction.
 */
final class Replies {
    private Replies() {}

    record Reply(int status, Map<String, Object> body) {}

    /**
     * One transfer's result in a batch reply, {@code {seq}} or {@code {error, message}}: records
     * rather than maps, because a batch reply holds up to 1,000 of them and Jackson writes a
     * record with a serializer it built once, a map entry by entry.
     */
    record Recorded(long seq) {}

    record Refused(String error, String message) {}

    static Reply opened(long accountNumber, long seq) {
        return new Reply(201, map("account_number", Long.toString(accountNumber), "seq", seq));
    }

    static Reply transferred(long seq, long from, long to, long amount, long balance) {
        return new Reply(200, map("seq", seq, "from_account_number", Long.toString(from),
                "to_account_number", Long.toString(to), "amount", amount, "balance", balance));
    }

    /** An all-or-none batch: one {@code {seq}} per transfer and the balance after them. */
    static Reply transferredAll(java.util.List<Long> seqs, long balance) {
        java.util.List<Recorded> results = new java.util.ArrayList<>(seqs.size());
        for (long seq : seqs) {
            results.add(new Recorded(seq));
        }
        return new Reply(200, map("results", results, "balance", balance));
    }

    static Reply withdrawn(long seq, long amount, long balance) {
        return new Reply(200, map("seq", seq, "amount", amount, "balance", balance));
    }

    static Reply of(Operation operation) {
        return switch (operation) {
            case Operation.AccountOpening o -> opened(o.accountNumber(), o.seq());
            case Operation.Transfer o -> transferred(o.seq(), o.fromAccountNumber(), o.toAccountNumber(), o.amount(),
                    o.fromBalanceAfter());
            case Operation.Withdrawal o -> withdrawn(o.seq(), o.amount(), o.balanceAfter());
        };
    }

    static String route(Operation operation) {
        return switch (operation) {
            case Operation.AccountOpening o -> "POST /api/account";
            case Operation.Transfer o -> "POST /api/money_transfer";
            case Operation.Withdrawal o -> "POST /api/withdraw";
        };
    }

    static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
