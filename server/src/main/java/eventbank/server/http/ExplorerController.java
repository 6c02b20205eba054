package eventbank.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import eventbank.core.Bank;
import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.Engine;
import eventbank.engine.history.TimeTravel;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.server.json.EventFilter;
import eventbank.server.json.EventLines;
import eventbank.server.json.JsonBody;
import eventbank.server.json.StateJson;
import eventbank.server.readmodel.HistoryItem;
import eventbank.server.readmodel.StatementsReadModel;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The operator's views of the history, each behind {@link Authenticator#operator(Context)}:
 * <ul>
 *   <li>{@code GET /api/admin/events}: a page of event lines straight from the journal (durable
 *       events only), with the filters of {@code eventbank events}.</li>
 *   <li>{@code GET /api/admin/state?at_seq=|at_time=}: the bank as of a past point, rebuilt by
 *       {@link TimeTravel}, in the shape {@code eventbank state} prints; {@code account=}
 *       (repeated) and {@code limit=} list only some accounts, with the whole bank's totals.</li>
 *   <li>{@code GET /api/admin/accounts/{number}/history}: one account's events with the change
 *       and the balance after each, from the statements read model.</li>
 * </ul>
 */
final class ExplorerController {
    static final int EVENTS_LIMIT_MIN = 1;
    static final int EVENTS_LIMIT_MAX = 1_000;
    static final int EVENTS_LIMIT_DEFAULT = 100;
    /**
     * The most events one page looks at: a filter that matches little (one account in a long
     * journal) answers a short or empty page with {@code next_after_seq} where it stopped,
     * instead of reading the whole journal in one request.
     */
    static final long EVENTS_SCANNED_MAX = 1_000_000;
    /** The most {@code account} parameters of one state query: a page's worth, not a bank's. */
    static final int STATE_ACCOUNTS_MAX = 100;
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private final Authenticator authenticator;
    private final Engine engine;
    private final StatementsReadModel statements;
    private final ReadWaits waits;

    ExplorerController(Authenticator authenticator, Engine engine, StatementsReadModel statements, ReadWaits waits) {
        this.authenticator = authenticator;
        this.engine = engine;
        this.statements = statements;
        this.waits = waits;
    }

    /** {@code GET /api/admin/accounts/{number}/history}. */
    record History(List<HistoryLine> items) {}

    record HistoryLine(long seq, String time, String type, long delta, long balanceAfter) {}

    void events(Context ctx) throws IOException {
        authenticator.operator(ctx);
        EventFilter filter = filter(ctx);
        String limitText = ctx.queryParam("limit");
        int limit = limitText == null ? EVENTS_LIMIT_DEFAULT
                : (int) Requests.queryLong(limitText, "limit", EVENTS_LIMIT_MIN, EVENTS_LIMIT_MAX);
        long head = engine.committedSeq();
        long until = Math.min(filter.untilSeq(), head);
        List<Recorded> page = new ArrayList<>(limit);
        long scannedTo = readPage(filter, until, limit, page);
        // A full page, or one cut short by the scan limit, that has not reached the end goes on.
        Long next = scannedTo < until ? (Long) scannedTo : null;
        StringWriter text = new StringWriter();
        try (JsonGenerator generator = JSON.createGenerator(text)) {
            generator.writeStartObject();
            generator.writeArrayFieldStart("events");
            for (Recorded recorded : page) {
                EventLines.write(generator, recorded);
            }
            generator.writeEndArray();
            if (next == null) {
                generator.writeNullField("next_after_seq");
            } else {
                generator.writeNumberField("next_after_seq", next);
            }
            generator.writeEndObject();
        }
        ctx.contentType("application/json").result(text.toString());
    }

    /**
     * Reads matching events after the filter's after seq up to {@code until} into {@code page},
     * at most {@code limit} of them and {@link #EVENTS_SCANNED_MAX} looked at; answers the seq
     * of the last event looked at (the after seq when none).
     */
    private long readPage(EventFilter filter, long until, int limit, List<Recorded> page) throws IOException {
        long[] last = {filter.afterSeq()};
        if (until <= filter.afterSeq()) {
            return last[0];
        }
        try (Journal.Reader reader = engine.newReader()) {
            reader.seek(filter.afterSeq());
            JournalReader.Batch batch;
            while (page.size() < limit && last[0] < until && last[0] - filter.afterSeq() < EVENTS_SCANNED_MAX
                    && (batch = reader.next(until)) != null) {
                batch.forEach(engine.personalKeys(), recorded -> {
                    boolean room = page.size() < limit && last[0] - filter.afterSeq() < EVENTS_SCANNED_MAX;
                    if (recorded.seq() > last[0] && recorded.seq() <= until && room) {
                        last[0] = recorded.seq();
                        if (filter.matches(recorded)) {
                            page.add(recorded);
                        }
                    }
                });
            }
        }
        return last[0];
    }

    /** The filter of the query; a bad value is 400 invalid_query naming the parameter. */
    private static EventFilter filter(Context ctx) {
        Set<Class<? extends Event>> types = new HashSet<>();
        for (String type : ctx.queryParams("type")) {
            for (String name : type.split(",")) {
                types.add(parse("type", () -> EventFilter.parseType(name)));
            }
        }
        String account = ctx.queryParam("account");
        String after = ctx.queryParam("after_seq");
        String until = ctx.queryParam("until_seq");
        String from = ctx.queryParam("from");
        String to = ctx.queryParam("to");
        return parse("the query", () -> new EventFilter(types,
                account == null ? EventFilter.ANY_ACCOUNT : parse("account", () -> EventFilter.parseAccount(account)),
                after == null ? 0 : parse("after_seq", () -> EventFilter.parseSeq(after)),
                until == null ? Long.MAX_VALUE : parse("until_seq", () -> EventFilter.parseSeq(until)),
                from == null ? Long.MIN_VALUE : parse("from", () -> EpochMicros.ceilingOf(EventFilter.parseInstant(from))),
                to == null ? Long.MAX_VALUE : parse("to", () -> EpochMicros.ceilingOf(EventFilter.parseInstant(to)))));
    }

    private static <T> T parse(String parameter, Supplier<T> parser) {
        try {
            return parser.get();
        } catch (ApiException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidQuery(parameter + ": " + e.getMessage() + ".");
        }
    }

    void state(Context ctx) throws IOException {
        authenticator.operator(ctx);
        String atSeq = ctx.queryParam("at_seq");
        String atTime = ctx.queryParam("at_time");
        if (atSeq != null && atTime != null) {
            throw ApiException.invalidQuery("Give at_seq or at_time, not both.");
        }
        long head = engine.committedSeq();
        TimeTravel travel = new TimeTravel(engine.journalSource(), engine.snapshots(),
                engine.config().idempotencyWindowMicros(), engine.personalKeys());
        long seq;
        if (atSeq != null) {
            seq = Requests.queryLong(atSeq, "at_seq", 0, Long.MAX_VALUE);
            if (seq > head) {
                throw ApiException.invalidQuery("at_seq " + seq + " is past the last recorded event, seq " + head + ".");
            }
        } else if (atTime != null) {
            Instant instant = parse("at_time", () -> EventFilter.parseInstant(atTime));
            // The journal may hold a batch being written after the head: it is not history yet.
            seq = Math.min(travel.seqAtTime(instant), head);
        } else {
            seq = head;
        }
        StateJson.Selection selection = selection(ctx);
        Bank bank = travel.stateAt(seq);
        ctx.contentType("application/json");
        try (Writer writer = new OutputStreamWriter(ctx.outputStream(), StandardCharsets.UTF_8)) {
            StateJson.write(writer, bank, selection);
        }
    }

    /** {@code account=} (repeated, up to 100) and {@code limit=}: which accounts the state lists. */
    private static StateJson.Selection selection(Context ctx) {
        List<String> accounts = ctx.queryParams("account");
        if (accounts.size() > STATE_ACCOUNTS_MAX) {
            throw ApiException.invalidQuery("Give at most " + STATE_ACCOUNTS_MAX + " account parameters.");
        }
        Set<Long> numbers = new HashSet<>();
        for (String text : accounts) {
            long number = JsonBody.parseAccountNumber(text);
            if (number < 0) {
                throw ApiException.invalidQuery("account: " + text + " is not a 16-digit account number.");
            }
            numbers.add(number);
        }
        String limitText = ctx.queryParam("limit");
        int limit = limitText == null ? Integer.MAX_VALUE
                : (int) Requests.queryLong(limitText, "limit", 0, Integer.MAX_VALUE);
        return new StateJson.Selection(numbers, limit);
    }

    void history(Context ctx) {
        authenticator.operator(ctx);
        String text = ctx.pathParam("number");
        long number = JsonBody.parseAccountNumber(text);
        if (number < 0) {
            throw ApiException.invalidQuery("The account number must be 16 digits, the first from 1 to 9.");
        }
        waits.awaitCommitted(statements);
        List<HistoryItem> items = statements.history(number);
        if (items.isEmpty()) {
            throw new ApiException(404, "account_not_found", "The account does not exist.");
        }
        List<HistoryLine> lines = new ArrayList<>(items.size());
        for (HistoryItem item : items) {
            lines.add(new HistoryLine(item.seq(), EventLines.formatTime(item.timeMicros()), item.type().code(),
                    item.delta(), item.balanceAfter()));
        }
        ctx.json(new History(lines));
    }
}
