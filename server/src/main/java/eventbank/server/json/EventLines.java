package eventbank.server.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.engine.journal.EventCodec;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.Writer;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Writes events as event lines (DESIGN.md, "Event line"), the one JSON shape of an event that
 * the command line's {@code events} and the HTTP API's {@code GET /api/admin/events} share:
 *
 * <pre>
 * {"seq":42,"type":"MoneyTransferred","version":1,"time":"2026-11-26T10:00:00.123456Z","data":{...}}
 * </pre>
 *
 * Data fields are snake_case; account numbers are strings and amounts integers; an
 * AccountOpened leaves its password hash and its request fingerprint out; an idempotency key
 * and (for money movements) a request fingerprint appear only when the event has them. Written with Jackson's streaming generator, one event at
 * a time, so a log of any length streams through without being held in memory.
 */
public final class EventLines implements Closeable, Flushable {
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private final JsonGenerator generator;

    /** Writes lines to {@code writer}; closing this flushes but leaves the writer open. */
    public EventLines(Writer writer) throws IOException {
        generator = JSON.createGenerator(writer);
        // Each line ends in a newline of its own, instead of Jackson's space between root values.
        generator.setRootValueSeparator(null);
    }

    /** Writes one event and its line's newline. */
    public void write(Recorded recorded) throws IOException {
        write(generator, recorded);
        generator.writeRaw('\n');
    }

    @Override
    public void flush() throws IOException {
        generator.flush();
    }

    @Override
    public void close() throws IOException {
        generator.close();
    }

    /** Writes one event as a JSON object, for a caller that places it, say in an array. */
    public static void write(JsonGenerator generator, Recorded recorded) throws IOException {
        Event event = recorded.event();
        generator.writeStartObject();
        generator.writeNumberField("seq", recorded.seq());
        generator.writeStringField("type", EventCodec.typeName(event));
        generator.writeNumberField("version", EventCodec.versionOf(event));
        generator.writeStringField("time", formatTime(recorded.timeMicros()));
        generator.writeObjectFieldStart("data");
        writeData(generator, event);
        generator.writeEndObject();
        generator.writeEndObject();
    }

    private static void writeData(JsonGenerator generator, Event event) throws IOException {
        switch (event) {
            case Event.AccountOpened e -> {
                writeAccountNumber(generator, "account_number", e.accountNumber());
                generator.writeStringField("email", e.email()); // null once forgotten
                if (e.personal().forgotten()) {
                    generator.writeBooleanField("forgotten", true);
                }
                generator.writeNumberField("opening_balance", e.openingBalance());
                // The password hash is left out on purpose: event lines are for operators and
                // audits, and a hash is an offline guessing target. So is the request fingerprint:
                // openings recorded before the fix carry an HMAC over the email and the password,
                // which with the server key tests guesses far faster than bcrypt (newer ones carry
                // none: their retries are compared by value).
                if (e.idempotency() != null) {
                    generator.writeStringField("idempotency_key", e.idempotency().key());
                }
            }
            case Event.AccountVerified e -> writeAccountNumber(generator, "account_number", e.accountNumber());
            case Event.MoneyTransferred e -> {
                writeAccountNumber(generator, "from_account_number", e.fromAccountNumber());
                writeAccountNumber(generator, "to_account_number", e.toAccountNumber());
                generator.writeNumberField("amount", e.amount());
                writeIdempotency(generator, e.idempotency());
            }
            case Event.MoneyWithdrawn e -> {
                writeAccountNumber(generator, "account_number", e.accountNumber());
                generator.writeNumberField("amount", e.amount());
                writeIdempotency(generator, e.idempotency());
            }
            case Event.AccountClosed e -> {
                writeAccountNumber(generator, "account_number", e.accountNumber());
                generator.writeNumberField("forfeited", e.forfeited());
            }
            case Event.AccountForgotten e -> writeAccountNumber(generator, "account_number", e.accountNumber());
        }
    }

    /** Account numbers are always JSON strings (DESIGN.md): 16 digits overflow a double. */
    private static void writeAccountNumber(JsonGenerator generator, String field, long number) throws IOException {
        generator.writeStringField(field, Long.toString(number));
    }

    private static void writeIdempotency(JsonGenerator generator, Idempotency idempotency) throws IOException {
        if (idempotency != null) {
            generator.writeStringField("idempotency_key", idempotency.key());
            generator.writeStringField("request_fingerprint", idempotency.fingerprint());
        }
    }

    /**
     * An instant in microseconds since the epoch as RFC 3339 in UTC with exactly six fractional
     * digits, {@code 2026-11-26T10:00:00.123456Z}. Built by hand because a DateTimeFormatter
     * costs several times more per event, and a full log goes through here.
     */
    public static String formatTime(long timeMicros) {
        LocalDateTime time = LocalDateTime.ofInstant(EpochMicros.toInstant(timeMicros), ZoneOffset.UTC);
        StringBuilder text = new StringBuilder(27);
        digits(text, time.getYear(), 4).append('-');
        digits(text, time.getMonthValue(), 2).append('-');
        digits(text, time.getDayOfMonth(), 2).append('T');
        digits(text, time.getHour(), 2).append(':');
        digits(text, time.getMinute(), 2).append(':');
        digits(text, time.getSecond(), 2).append('.');
        digits(text, time.getNano() / 1_000, 6).append('Z');
        return text.toString();
    }

    /** Appends a non-negative number zero-padded to {@code width} digits (wider when it must be). */
    private static StringBuilder digits(StringBuilder text, int value, int width) {
        String digits = Integer.toString(value);
        for (int pad = digits.length(); pad < width; pad++) {
            text.append('0');
        }
        return text.append(digits);
    }
}
