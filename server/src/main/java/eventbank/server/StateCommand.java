package eventbank.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import eventbank.core.Bank;
import eventbank.engine.TimeTravel;
import eventbank.engine.storage.FileStorage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank state --at SEQ|TIME}: the bank as it was after event SEQ, or at an RFC 3339
 * instant (after the last event at or before it), rebuilt by {@link TimeTravel} from the nearest
 * snapshot and the journal, printed as one JSON document in the shape of
 * {@code GET /api/admin/state}:
 *
 * <pre>
 * {"seq":8,"time":"2026-11-26T10:00:07.123456Z","accounts":[{"account_number":"1000000000000001",
 *  "balance":92500,"verified":true},...],"totals":{"accounts":3,"balance":295000,"opened":300000,
 *  "withdrawn":5000}}
 * </pre>
 *
 * Accounts come in the order they were opened; {@code time} is the time of event {@code seq}, null
 * for seq 0. Read-only: takes no lock, writes nothing, works beside a running server. The JSON
 * writers are public for the HTTP route {@code GET /api/admin/state}, which answers the same shape.
 */
@Command(name = "state", sortOptions = false,
        description = {"Prints the bank's state as of a past seq or instant, as one JSON document.",
                "Rebuilt from the nearest snapshot at or before that point plus the journal.",
                "Read-only: takes no lock, writes nothing, works beside a running server."},
        footer = {"", "Exit codes: 0 ok, 1 past the journal's end or corruption found, 2 usage error,",
                "3 data directory missing or unreadable.",
                "", "Examples: eventbank state --at 42", "          eventbank state --at 2026-11-26T10:00:00Z"})
public final class StateCommand implements Callable<Integer> {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private DataDirectoryOption dataDirectory;

    @Mixin
    private ReplayConfigOption replayConfig;

    @Option(names = "--at", required = true, paramLabel = "SEQ|TIME",
            description = "A seq (digits only: the state after that event; 0 is the empty bank) or an RFC 3339 "
                    + "instant such as 2026-11-26T10:00:00Z (the state after the last event at or before it).")
    private String at;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Shows this help.")
    private boolean help;

    StateCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws IOException {
        Long seq = null;
        Instant instant = null;
        if (at.matches("[0-9]+")) {
            try {
                seq = EventFilter.parseSeq(at);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--at: " + e.getMessage());
            }
        } else {
            try {
                instant = EventFilter.parseInstant(at);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--at: '" + at + "' is neither a seq (digits only) "
                        + "nor an RFC 3339 instant with an offset, such as 2026-11-26T10:00:00Z");
            }
        }
        Path directory = dataDirectory.existing(environment);
        TimeTravel travel = new TimeTravel(new FileStorage(), directory,
                replayConfig.idempotencyWindowMicros(environment));
        Bank bank;
        try {
            bank = travel.stateAt(seq != null ? seq : travel.seqAtTime(instant));
        } catch (TimeTravel.BeyondTheEndException e) {
            throw new CommandFailure(ExitCodes.CHECK_FAILED, e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        write(out, bank);
        out.println();
        out.flush();
        return ExitCodes.OK;
    }

    /** Writes the state as one JSON object (no newline), streaming the accounts. */
    public static void write(Writer writer, Bank bank) throws IOException {
        try (JsonGenerator generator = JSON.createGenerator(writer)) {
            write(generator, bank);
        }
    }

    /**
     * Writes {@code {seq, time, accounts: [{account_number, balance, verified}], totals}} for a
     * caller that places it; the HTTP route {@code GET /api/admin/state} has the same shape.
     */
    public static void write(JsonGenerator generator, Bank bank) throws IOException {
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
            writeAccounts(generator, bank, balance);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        generator.writeEndArray();
        generator.writeObjectFieldStart("totals");
        generator.writeNumberField("accounts", bank.accountCount());
        generator.writeNumberField("balance", balance[0]);
        generator.writeNumberField("opened", bank.openedTotal());
        generator.writeNumberField("withdrawn", bank.withdrawnTotal());
        generator.writeEndObject();
        generator.writeEndObject();
    }

    /** Writes each account in opening order and adds its balance to {@code balance[0]}. */
    private static void writeAccounts(JsonGenerator generator, Bank bank, long[] balance) {
        bank.exportTo(new Bank.Exporter() {
            @Override
            public void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                                 int accountCount, int idempotencyCount) {}

            @Override
            public void account(long number, long accountBalance, boolean verified, long openedSeq,
                                long emailDigestHigh, long emailDigestLow) {
                try {
                    generator.writeStartObject();
                    generator.writeStringField("account_number", Long.toString(number));
                    generator.writeNumberField("balance", accountBalance);
                    generator.writeBooleanField("verified", verified);
                    generator.writeEndObject();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                balance[0] = Math.addExact(balance[0], accountBalance);
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {}
        });
    }
}
