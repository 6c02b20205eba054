package eventbank.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Every read route compared with the journal, as the checker's own {@link JournalReplay} gives it:
 * the read models are what a restart rebuilds from their checkpoints, so after each fault each
 * of their answers must be the journal's. For each account the harness knows: its login (the
 * right password works, a wrong one is {@code invalid_credentials}), {@code GET /api/account},
 * every page of its statement, its history for the operator; for each acknowledged operation
 * {@code GET /api/operations/{key}}; and the operator's reports. Each read passes the journal's
 * head as {@code min_seq} where the route takes one (the server waits, bounded, for its read
 * model), and the routes that take none wait for everything committed. Each comparison is a
 * {@link Findings#compare}: a mismatch names the route, the account and both values.
 */
final class ReadRouteChecks {
    /**
     * Reads in parallel (the accounts, the operations): a few, so that a round stays short
     * without flooding the server; the comparisons must then be thread-safe.
     */
    static final int READ_THREADS = 6;
    private static final String WRONG_PASSWORD = "not-the-password";

    /** Where the comparisons go. */
    interface Findings {
        /** One comparison of {@code route}'s answer about {@code account} (null: the whole bank) with the journal's. */
        void compare(String route, String account, Object served, Object journal);
    }

    private final BankClient client;
    /** The operator key the server was given, or null: then the operator's routes are not read. */
    private final String operatorKey;
    private final Findings findings;

    ReadRouteChecks(BankClient client, String operatorKey, Findings findings) {
        this.client = client;
        this.operatorKey = operatorKey;
        this.findings = findings;
    }

    /**
     * {@code POST /api/login}: a wrong password is refused, then the right one gives a token,
     * which the account keeps. In that order: a login that succeeds clears the account's count of
     * failures, so the checks of many rounds never reach the login throttle.
     */
    void checkLogin(Account account) throws Exception {
        BankClient.Reply wrong = login(account, WRONG_PASSWORD);
        findings.compare("POST /api/login (a wrong password)", account.number(), wrong.status() + " " + wrong.error(),
                "401 invalid_credentials");
        BankClient.Reply right = login(account, account.password);
        boolean loggedIn = right.status() == 200 && right.body().path("token").isTextual();
        findings.compare("POST /api/login", account.number(), loggedIn ? "200 with a token" : right.status() + " "
                + right.shown(), "200 with a token");
        if (loggedIn) {
            account.token(right.body().get("token").asText());
        }
    }

    private BankClient.Reply login(Account account, String password) throws Exception {
        return client.post("/api/login", Map.of("account_number", account.number(), "password", password), null, null);
    }

    /** {@code GET /api/account}: the served body (for the checker's own checks), null when it did not answer 200. */
    JsonNode checkAccount(Account account, long head, JournalReplay.AccountState journal) throws Exception {
        BankClient.Reply shown = client.get("/api/account?min_seq=" + head, account.token());
        String served = shown.status() != 200 ? shown.status() + " " + shown.shown()
                : describeAccount(shown.body().path("account_number").asText(), shown.body().path("email").asText(),
                shown.body().path("verified").asBoolean(), shown.body().path("balance").asLong(),
                instant(shown.body().path("opened_at")));
        String expected = journal == null ? "no such account"
                : describeAccount(journal.number, journal.email, journal.verified, journal.balance, journal.openedAt);
        findings.compare("GET /api/account", account.number(), served, expected);
        return shown.status() == 200 ? shown.body() : null;
    }

    private static String describeAccount(String number, String email, boolean verified, long balance,
                                          Instant openedAt) {
        return "{account_number " + number + ", email " + email + ", verified " + verified + ", balance " + balance
                + ", opened_at " + openedAt + "}";
    }

    /**
     * Every page of {@code GET /api/account/transactions}, compared line by line with the journal's
     * statement; answers the lines, newest first, or null when a page did not answer 200.
     */
    List<JsonNode> checkStatement(Account account, long head, JournalReplay.AccountState journal) throws Exception {
        List<JsonNode> entries = new ArrayList<>();
        String before = "";
        while (true) {
            BankClient.Reply page = client.get("/api/account/transactions?limit=100&min_seq=" + head + before,
                    account.token());
            if (page.status() != 200) {
                findings.compare("GET /api/account/transactions" + before, account.number(),
                        page.status() + " " + page.shown(), "200");
                return null;
            }
            page.body().get("transactions").forEach(entries::add);
            JsonNode next = page.body().get("next_before_seq");
            if (next == null || next.isNull()) {
                break;
            }
            before = "&before_seq=" + next.asLong();
        }
        List<JournalReplay.Line> served = new ArrayList<>();
        for (JsonNode entry : entries.reversed()) {
            long amount = entry.path("amount").asLong();
            String type = entry.path("type").asText();
            served.add(new JournalReplay.Line(entry.path("seq").asLong(), instant(entry.path("time")), type,
                    type.equals("transfer_in") ? amount : -amount, entry.path("counterparty_account_number")
                    .asText(null), entry.path("balance_after").asLong()));
        }
        compareLines("GET /api/account/transactions (every page)", account.number(), served,
                journal == null ? List.of() : journal.statement());
        return entries;
    }

    /** {@code GET /api/admin/accounts/{number}/history}, line by line. */
    void checkHistory(Account account, JournalReplay.AccountState journal) throws Exception {
        if (operatorKey == null) {
            return;
        }
        String route = "GET /api/admin/accounts/" + account.number() + "/history";
        BankClient.Reply reply = client.getAsOperator(route.substring(4), operatorKey);
        if (reply.status() != 200) {
            findings.compare(route, account.number(), reply.status() + " " + reply.shown(), "200");
            return;
        }
        List<JournalReplay.Line> served = new ArrayList<>();
        for (JsonNode item : reply.body().path("items")) {
            served.add(new JournalReplay.Line(item.path("seq").asLong(), instant(item.path("time")),
                    item.path("type").asText(), item.path("delta").asLong(), null,
                    item.path("balance_after").asLong()));
        }
        List<JournalReplay.Line> expected = new ArrayList<>();
        for (JournalReplay.Line line : journal == null ? List.<JournalReplay.Line>of() : journal.history) {
            expected.add(new JournalReplay.Line(line.seq(), line.time(), line.type(), line.delta(), null,
                    line.balanceAfter())); // the history names no counterparty
        }
        compareLines(route, account.number(), served, expected);
    }

    /** Lines compared one by one, so that a mismatch shows the first line that differs, not two whole lists. */
    private void compareLines(String route, String account, List<JournalReplay.Line> served,
                              List<JournalReplay.Line> expected) {
        for (int i = 0; i < Math.max(served.size(), expected.size()); i++) {
            JournalReplay.Line servedLine = i < served.size() ? served.get(i) : null;
            JournalReplay.Line expectedLine = i < expected.size() ? expected.get(i) : null;
            if (!Objects.equals(servedLine, expectedLine)) {
                findings.compare(route + ", line " + (i + 1) + " of " + served.size() + " (the journal has "
                        + expected.size() + ")", account, servedLine, expectedLine);
                return;
            }
        }
        findings.compare(route, account, served.size() + " lines", expected.size() + " lines");
    }

    /**
     * {@code GET /api/operations/{key}} of every acknowledged operation, with its holder's token:
     * the route, seq, accounts, amount and balance after that the journal recorded under the key.
     */
    void checkOperations(List<Operation> acknowledged, long head, JournalReplay journal) throws Exception {
        List<Future<BankClient.Reply>> replies = new ArrayList<>(acknowledged.size());
        try (ExecutorService lookups = Executors.newFixedThreadPool(READ_THREADS)) {
            for (Operation operation : acknowledged) {
                String token = operation.account.token();
                replies.add(lookups.submit(() -> client.get("/api/operations/" + operation.key + "?min_seq=" + head,
                        token)));
            }
        }
        for (int i = 0; i < acknowledged.size(); i++) {
            Operation operation = acknowledged.get(i);
            BankClient.Reply reply = await(replies.get(i));
            String served = reply.status() != 200 ? reply.status() + " " + reply.error() : describeServed(operation,
                    reply.body());
            // A key the journal lacks is reported as lost by the checker; the route must not know it either.
            JournalReplay.Outcome outcome = journal.outcome(operation.key);
            String expected = outcome == null ? "404 not_found" : describe(outcome);
            findings.compare("GET /api/operations/" + operation.key, operation.account.number(), served, expected);
        }
    }

    private static String describeServed(Operation operation, JsonNode body) {
        JsonNode response = body.path("response");
        String head = body.path("route").asText() + " " + body.path("status").asInt() + " seq "
                + body.path("seq").asLong() + "/" + response.path("seq").asLong() + " at " + instant(body.path("time"));
        return switch (operation.kind) {
            case OPEN -> head + ": opened " + response.path("account_number").asText();
            case TRANSFER -> head + ": " + response.path("amount").asLong() + " from "
                    + response.path("from_account_number").asText() + " to "
                    + response.path("to_account_number").asText() + ", balance after " + response.path("balance").asLong();
            case WITHDRAW -> head + ": " + response.path("amount").asLong() + " withdrawn from " + operation.account
                    + ", balance after " + response.path("balance").asLong();
        };
    }

    /** The journal's outcome in the words of {@link #describeServed}. */
    private static String describe(JournalReplay.Outcome outcome) {
        Instant time = outcome.time();
        String seq = " seq " + outcome.seq() + "/" + outcome.seq() + " at " + time;
        return switch (outcome.type()) {
            case "AccountOpened" -> "POST /api/account 201" + seq + ": opened " + outcome.account();
            case "MoneyTransferred" -> "POST /api/money_transfer 200" + seq + ": " + outcome.amount() + " from "
                    + outcome.account() + " to " + outcome.to() + ", balance after " + outcome.balanceAfter();
            case "MoneyWithdrawn" -> "POST /api/withdraw 200" + seq + ": " + outcome.amount() + " withdrawn from "
                    + outcome.account() + ", balance after " + outcome.balanceAfter();
            default -> "an event of type " + outcome.type();
        };
    }

    /**
     * The operator's reports: {@code sum_transactions} of all time and of the last event's UTC
     * year, month and day, and {@code inactive_users} (nothing in a run is a month old, so the
     * accounts that never moved money).
     */
    void checkReports(long head, JournalReplay journal) throws Exception {
        if (operatorKey == null) {
            return;
        }
        Map<String, Long> sums = new LinkedHashMap<>();
        sums.put("", journal.movedAllTime());
        if (journal.lastTime() != null) {
            LocalDate day = LocalDate.ofInstant(journal.lastTime(), ZoneOffset.UTC);
            LocalDate year = day.withDayOfYear(1);
            LocalDate month = day.withDayOfMonth(1);
            sums.put("&year=" + day.getYear(), journal.moved(year, year.plusYears(1)));
            sums.put("&year=" + day.getYear() + "&month=" + day.getMonthValue(),
                    journal.moved(month, month.plusMonths(1)));
            sums.put("&year=" + day.getYear() + "&month=" + day.getMonthValue() + "&day=" + day.getDayOfMonth(),
                    journal.moved(day, day.plusDays(1)));
        }
        for (Map.Entry<String, Long> sum : sums.entrySet()) {
            String route = "/api/report/sum_transactions?min_seq=" + head + sum.getKey();
            BankClient.Reply reply = client.getAsOperator(route, operatorKey);
            findings.compare("GET " + route, null, reply.status() == 200 ? reply.body().path("sum").asLong()
                    : reply.status() + " " + reply.shown(), sum.getValue());
        }
        Instant since = Instant.now().atOffset(ZoneOffset.UTC).minusMonths(1).toInstant();
        String route = "/api/report/inactive_users?min_seq=" + head;
        BankClient.Reply reply = client.getAsOperator(route, operatorKey);
        findings.compare("GET " + route, null, reply.status() == 200 ? reply.body().path("total").asLong()
                : reply.status() + " " + reply.shown(), journal.inactiveSince(since));
    }

    /** What a parallel read answered; its failure as the exception it threw. */
    static <T> T await(Future<T> read) throws Exception {
        try {
            return read.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** A time as the routes write it (ISO-8601 in UTC, however many digits), or null when it is not one. */
    private static Instant instant(JsonNode text) {
        try {
            return Instant.parse(text.asText());
        } catch (RuntimeException e) {
            return null;
        }
    }
}
