package eventbank.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the journal says every read route must answer, replayed by the checker itself from the
 * event lines of the {@code events} tool: never from the server's read models, whose answers it
 * is compared with ({@link ReadRouteChecks}). A few lines of bookkeeping, as a reference model
 * should be: balances, each account's history, the outcome of each Idempotency-Key, the reports'
 * sums and who was active.
 */
final class JournalReplay {
    /**
     * One event of an account's history ({@code GET /api/admin/accounts/{number}/history}); the
     * ones that move money are also its statement's lines ({@code GET /api/account/transactions}).
     *
     * @param type         {@code opened}, {@code verified}, {@code transfer_in}, {@code
     *                     transfer_out} or {@code withdrawal}
     * @param delta        the signed change of the balance (the opening balance for {@code opened})
     * @param counterparty the other account of a transfer, else null
     */
    record Line(long seq, Instant time, String type, long delta, String counterparty, long balanceAfter) {
        boolean movesMoney() {
            return !type.equals("opened") && !type.equals("verified");
        }
    }

    /** An account as the journal leaves it. */
    static final class AccountState {
        final String number;
        final String email;
        final Instant openedAt;
        boolean verified;
        long balance;
        /** Its last transfer in or out or withdrawal; null when it never had one. */
        Instant lastActive;
        final List<Line> history = new ArrayList<>();

        private AccountState(String number, String email, Instant openedAt) {
            this.number = number;
            this.email = email;
            this.openedAt = openedAt;
        }

        /** Its statement, oldest first: the history's lines that move money. */
        List<Line> statement() {
            return history.stream().filter(Line::movesMoney).toList();
        }
    }

    /**
     * The outcome recorded under an Idempotency-Key, as {@code GET /api/operations/{key}} must
     * give it back.
     *
     * @param type         the event's type
     * @param account      the holder (the account opened, for an opening)
     * @param to           the receiver of a transfer, else null
     * @param amount       0 for an opening
     * @param balanceAfter the holder's balance after it
     */
    record Outcome(long seq, Instant time, String type, String account, String to, long amount, long balanceAfter) {}

    private final Map<String, AccountState> accounts = new HashMap<>();
    private final Map<String, Outcome> outcomes = new HashMap<>();
    /** Cents moved by transfers plus cents withdrawn, by UTC day. */
    private final Map<LocalDate, Long> movedByDay = new HashMap<>();
    private long movedAllTime;
    private Instant lastTime;

    private JournalReplay() {}

    /** Replays the event lines, in seq order. */
    static JournalReplay of(List<JsonNode> events) {
        JournalReplay replay = new JournalReplay();
        for (JsonNode event : events) {
            replay.apply(event);
        }
        return replay;
    }

    private void apply(JsonNode event) {
        long seq = event.get("seq").asLong();
        Instant time = Instant.parse(event.get("time").asText());
        lastTime = time;
        JsonNode data = event.get("data");
        String type = event.get("type").asText();
        String key = data.path("idempotency_key").asText(null);
        switch (type) {
            case "AccountOpened" -> {
                String number = data.get("account_number").asText();
                AccountState account = new AccountState(number, data.get("email").asText(), time);
                account.balance = data.get("opening_balance").asLong();
                account.history.add(new Line(seq, time, "opened", account.balance, null, account.balance));
                accounts.put(number, account);
                record(key, new Outcome(seq, time, type, number, null, 0, account.balance));
            }
            case "AccountVerified" -> {
                AccountState account = accounts.get(data.get("account_number").asText());
                account.verified = true;
                account.history.add(new Line(seq, time, "verified", 0, null, account.balance));
            }
            case "MoneyTransferred" -> {
                long amount = data.get("amount").asLong();
                AccountState from = accounts.get(data.get("from_account_number").asText());
                AccountState to = accounts.get(data.get("to_account_number").asText());
                move(from, seq, time, "transfer_out", -amount, to.number);
                move(to, seq, time, "transfer_in", amount, from.number);
                moved(time, amount);
                record(key, new Outcome(seq, time, type, from.number, to.number, amount, from.balance));
            }
            case "MoneyWithdrawn" -> {
                long amount = data.get("amount").asLong();
                AccountState account = accounts.get(data.get("account_number").asText());
                move(account, seq, time, "withdrawal", -amount, null);
                moved(time, amount);
                record(key, new Outcome(seq, time, type, account.number, null, amount, account.balance));
            }
            default -> throw new IllegalStateException("an event of a type the checker does not know: " + event);
        }
    }

    private static void move(AccountState account, long seq, Instant time, String type, long delta,
                             String counterparty) {
        account.balance += delta;
        account.lastActive = time;
        account.history.add(new Line(seq, time, type, delta, counterparty, account.balance));
    }

    private void moved(Instant time, long amount) {
        movedAllTime += amount;
        movedByDay.merge(LocalDate.ofInstant(time, ZoneOffset.UTC), amount, Long::sum);
    }

    private void record(String key, Outcome outcome) {
        if (key != null) {
            outcomes.put(key, outcome);
        }
    }

    /** The account, or null when the journal has no such opening. */
    AccountState account(String number) {
        return accounts.get(number);
    }

    /** What the journal recorded under {@code key}, or null. */
    Outcome outcome(String key) {
        return outcomes.get(key);
    }

    /** {@code GET /api/report/sum_transactions} of all time. */
    long movedAllTime() {
        return movedAllTime;
    }

    /** The cents moved on the UTC days from {@code from} (inclusive) to {@code to} (exclusive). */
    long moved(LocalDate from, LocalDate to) {
        long sum = 0;
        for (Map.Entry<LocalDate, Long> day : movedByDay.entrySet()) {
            if (!day.getKey().isBefore(from) && day.getKey().isBefore(to)) {
                sum += day.getValue();
            }
        }
        return sum;
    }

    /** The time of the last event; null for an empty journal. */
    Instant lastTime() {
        return lastTime;
    }

    /** {@code GET /api/report/inactive_users}: accounts with no money moved in or out since {@code since}. */
    long inactiveSince(Instant since) {
        return accounts.values().stream().filter(a -> a.lastActive == null || a.lastActive.isBefore(since)).count();
    }
}
