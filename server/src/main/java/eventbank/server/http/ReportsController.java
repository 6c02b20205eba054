package eventbank.server.http;

import eventbank.server.readmodel.ReportsReadModel;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.LocalDate;

/**
 * The operator's reports, answered from {@link ReportsReadModel} once it holds every event
 * committed when the request came (or {@code min_seq}), never by scanning the journal:
 * <ul>
 *   <li>{@code GET /api/report/sum_transactions?year=&month=&day=}: {@code {sum}}, the cents moved
 *       by transfers plus the cents withdrawn in that UTC year, month or day; all time without
 *       parameters.</li>
 *   <li>{@code GET /api/report/inactive_users}: {@code {total}}, the accounts with no transfer in
 *       or out and no withdrawal since now minus one calendar month (UTC), never-active accounts
 *       included. "Now" comes from the server's clock, which tests set.</li>
 * </ul>
 */
final class ReportsController {
    static final int YEAR_MIN = 1970;
    static final int YEAR_MAX = 9999;

    private final Authenticator authenticator;
    private final ReportsReadModel reports;
    private final ReadWaits waits;
    private final Clock clock;

    ReportsController(Authenticator authenticator, ReportsReadModel reports, ReadWaits waits, Clock clock) {
        this.authenticator = authenticator;
        this.reports = reports;
        this.waits = waits;
        this.clock = clock;
    }

    record Sum(long sum) {}

    record Total(long total) {}

    void sumTransactions(Context ctx) {
        authenticator.operator(ctx);
        String yearText = ctx.queryParam("year");
        String monthText = ctx.queryParam("month");
        String dayText = ctx.queryParam("day");
        if (monthText != null && yearText == null) {
            throw ApiException.invalidQuery("month needs year.");
        }
        if (dayText != null && monthText == null) {
            throw ApiException.invalidQuery("day needs month (and year).");
        }
        ready(ctx);
        if (yearText == null) {
            ctx.json(new Sum(reports.sumAllTime()));
            return;
        }
        int year = (int) Requests.queryLong(yearText, "year", YEAR_MIN, YEAR_MAX);
        LocalDate from;
        LocalDate to;
        if (monthText == null) {
            from = LocalDate.of(year, 1, 1);
            to = from.plusYears(1);
        } else {
            int month = (int) Requests.queryLong(monthText, "month", 1, 12);
            if (dayText == null) {
                from = LocalDate.of(year, month, 1);
                to = from.plusMonths(1);
            } else {
                int day = (int) Requests.queryLong(dayText, "day", 1, 31);
                try {
                    from = LocalDate.of(year, month, day);
                } catch (DateTimeException e) {
                    throw ApiException.invalidQuery("There is no day " + day + " in " + year + "-"
                            + (month < 10 ? "0" : "") + month + ".");
                }
                to = from.plusDays(1);
            }
        }
        ctx.json(new Sum(reports.sum(from, to)));
    }

    void inactiveUsers(Context ctx) {
        authenticator.operator(ctx);
        ready(ctx);
        long since = ReportsReadModel.inactiveSinceMicros(clock.instant());
        ctx.json(new Total(reports.inactiveCount(since)));
    }

    /** Waits until the model holds min_seq when given, else every event committed by now. */
    private void ready(Context ctx) {
        if (ctx.queryParam("min_seq") != null) {
            waits.awaitMinSeq(ctx, reports);
        } else {
            waits.awaitCommitted(reports);
        }
    }
}
