package eventbank.server.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import eventbank.core.Bank;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Set;

/**
 * The JSON of the bank's state as of a seq, which {@code eventbank state} prints and
 * {@code GET /api/admin/state} answers:
 *
 * <pre>
 * {"seq":8,"time":"2026-11-26T10:00:07.123456Z","accounts":[{"account_number":"1000000000000001",
 *  "balance":92500,"verified":true},...],"totals":{"accounts":3,"balance":295000,"opened":300000,
 *  "withdrawn":5000}}
 * </pre>
 *
 * Accounts come in the order they were opened; {@code time} is the time of event {@code seq},
 * null for seq 0. The totals are always the whole bank's, also when a {@link Selection} lists
 * only some accounts (a bank of a million accounts is 70 MB of JSON; a page wants a few).
 */
public final class StateJson {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private StateJson() {}

    /**
     * Which accounts the JSON lists: those of {@code numbers} (all when empty), at most
     * {@code limit} of them, in opening order.
     */
    public record Selection(Set<Long> numbers, int limit) {
        public static final Selection ALL = new Selection(Set.of(), Integer.MAX_VALUE);

        public Selection {
            numbers = Set.copyOf(numbers);
        }

        boolean lists(long number, int listed) {
            return listed < limit && (numbers.isEmpty() || numbers.contains(number));
        }
    }

    /** Writes the state as one JSON object (no newline), streaming every account. */
    public static void write(Writer writer, Bank bank) throws IOException {
        write(writer, bank, Selection.ALL);
    }

    /** Writes the state as one JSON object (no newline), streaming the selected accounts. */
    public static void write(Writer writer, Bank bank, Selection selection) throws IOException {
        try (JsonGenerator generator = JSON.createGenerator(writer)) {
            write(generator, bank, selection);
        }
    }

    private static void write(JsonGenerator generator, Bank bank, Selection selection) throws IOException {
        generator.writeStartObject();
        generator.writeNumberField("seq", bank.lastSeq());
        if (bank.lastSeq() == 0) {
            generator.writeNullField("time");
        } else {
            generator.writeStringField("time", EventLines.formatTime(bank.lastTimeMicros()));
        }
        generator.writeArrayFieldStart("accounts");
        long[] balance = {0};
        try {
            writeAccounts(generator, bank, selection, balance);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        generator.writeEndArray();
        generator.writeObjectFieldStart("totals");
        generator.writeNumberField("accounts", bank.accountCount());
        generator.writeNumberField("balance", balance[0]);
        generator.writeNumberField("opened", bank.openedTotal());
        generator.writeNumberField("withdrawn", bank.withdrawnTotal());
        generator.writeNumberField("forfeited", bank.forfeitedTotal());
        generator.writeEndObject();
        generator.writeEndObject();
    }

    /** Writes the selected accounts in opening order and adds every balance to {@code balance[0]}. */
    private static void writeAccounts(JsonGenerator generator, Bank bank, Selection selection, long[] balance) {
        bank.exportTo(new Bank.Exporter() {
            private int listed;

            @Override
            public void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                                 long forfeitedTotal, int accountCount, int idempotencyCount) {}

            @Override
            public void account(long number, long accountBalance, int flags, long openedSeq,
                                long emailDigestHigh, long emailDigestLow) {
                balance[0] = Math.addExact(balance[0], accountBalance);
                if (!selection.lists(number, listed)) {
                    return;
                }
                listed++;
                try {
                    generator.writeStartObject();
                    generator.writeStringField("account_number", Long.toString(number));
                    generator.writeNumberField("balance", accountBalance);
                    generator.writeBooleanField("verified", (flags & Bank.Exporter.VERIFIED) != 0);
                    if ((flags & Bank.Exporter.CLOSED) != 0) {
                        generator.writeBooleanField("closed", true);
                    }
                    generator.writeEndObject();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {}
        });
    }
}
