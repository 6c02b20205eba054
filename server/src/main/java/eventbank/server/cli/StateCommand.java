package eventbank.server.cli;

import eventbank.core.Bank;
import eventbank.engine.history.TimeTravel;
import eventbank.server.json.EventFilter;
import eventbank.server.json.StateJson;
import java.io.IOException;
import java.io.PrintWriter;
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
 * for seq 0 ({@link StateJson}, shared with the HTTP route). Read-only: takes no lock, writes
 * nothing, works beside a running server.
 */
@Command(name = "state", sortOptions = false,
        description = {"Prints the bank's state as of a past seq or instant, as one JSON document.",
                "Rebuilt from the nearest snapshot at or before that point plus the journal.",
                "Read-only: takes no lock, writes nothing, works beside a running server."},
        footer = {"", "Exit codes: 0 ok, 1 past the journal's end or corruption found, 2 usage error,",
                "3 data directory missing or unreadable, or the journal's database unreachable.",
                "", "Examples: eventbank state --at 42", "          eventbank state --at 2026-11-26T10:00:00Z"})
final class StateCommand implements Callable<Integer> {
    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ReplayOptions replay;

    @Option(names = "--at", required = true, paramLabel = "SEQ|TIME",
            description = "A seq (digits only: the state after that event; 0 is the empty bank) or an RFC 3339 "
                    + "instant such as 2026-11-26T10:00:00Z (the state after the last event at or before it).")
    private String at;

    @Mixin
    private HelpOption help;

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
        JournalOptions.History history = replay.open(environment, spec.name());
        TimeTravel travel = new TimeTravel(history.journal(), history.snapshots(),
                replay.idempotencyWindowMicros(environment));
        Bank bank;
        try {
            bank = travel.stateAt(seq != null ? seq : travel.seqAtTime(instant));
        } catch (TimeTravel.BeyondTheEndException e) {
            throw new CommandFailure(ExitCodes.CHECK_FAILED, e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        StateJson.write(out, bank);
        out.println();
        out.flush();
        return ExitCodes.OK;
    }
}
