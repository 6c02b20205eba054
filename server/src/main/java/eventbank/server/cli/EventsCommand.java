package eventbank.server.cli;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.keys.PersonalKeys;
import eventbank.server.json.EventFilter;
import eventbank.server.json.EventLines;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank events}: prints the journal's events as event lines, oldest first. Read-only:
 * it takes no lock and writes nothing, so it runs beside a live server; a batch the server is
 * writing at that moment shows up as a torn tail, which is a warning, not an error.
 */
@Command(name = "events", sortOptions = false,
        description = {"Prints the journal's events as JSON lines, oldest first.",
                "Read-only: takes no lock, writes nothing, works beside a running server."},
        footer = {"", "Exit codes: 0 ok, 1 corruption found, 2 usage error, 3 data directory missing or",
                "unreadable, or the journal's database unreachable.",
                "", "Example: eventbank events --type MoneyTransferred --account 4929123456781234",
                "                         --from 2026-11-01T00:00:00Z"})
final class EventsCommand implements Callable<Integer> {
    /** How many lines go out between checks that the output is still open (say, `| head`). */
    private static final int LINES_BETWEEN_OUTPUT_CHECKS = 1024;

    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private JournalOptions journal;

    @Option(names = "--type", split = ",", paramLabel = "TYPE",
            description = "Only events of these types (AccountOpened, AccountVerified, MoneyTransferred, "
                    + "MoneyWithdrawn; any case); repeatable or comma-separated.")
    private List<String> types = List.of();

    @Option(names = "--account", paramLabel = "NUMBER",
            description = "Only events touching this account, on either side of a transfer.")
    private String account;

    @Option(names = "--after-seq", paramLabel = "SEQ", description = "Only events after this seq.")
    private String afterSeq;

    @Option(names = "--until-seq", paramLabel = "SEQ", description = "Only events up to this seq, inclusive.")
    private String untilSeq;

    @Option(names = "--from", paramLabel = "INSTANT",
            description = "Only events at or after this RFC 3339 instant, e.g. 2026-11-26T10:00:00Z.")
    private String from;

    @Option(names = "--to", paramLabel = "INSTANT", description = "Only events before this RFC 3339 instant.")
    private String to;

    @Mixin
    private HelpOption help;

    EventsCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws IOException {
        EventFilter filter = filter();
        JournalOptions.History history = journal.open(environment, spec.name());
        PrintWriter out = spec.commandLine().getOut();
        JournalReader.TornTail torn;
        try (PersonalKeys keys = journal.personalKeys(environment, history, spec.commandLine().getErr(),
                spec.qualifiedName())) {
            torn = print(history.journal(), filter, out, keys);
        }
        out.flush();
        if (torn != null) {
            spec.commandLine().getErr().println(spec.qualifiedName() + ": warning: " + describe(torn));
        }
        return ExitCodes.OK;
    }

    /**
     * Streams the matching events to {@code out}, stopping past the until seq or when the output
     * is closed. Answers the torn tail the journal ends in, or null.
     */
    static JournalReader.TornTail print(JournalSource journal, EventFilter filter, PrintWriter out, PersonalKeys keys)
            throws IOException {
        if (journal.isEmpty()) {
            return null; // a server that has committed nothing yet
        }
        try (Journal.Reader reader = journal.newReader(true);
             EventLines lines = new EventLines(out)) {
            reader.seek(filter.afterSeq());
            long[] written = {0};
            JournalReader.Batch batch;
            while ((batch = reader.next(filter.untilSeq())) != null) {
                batch.forEach(keys, recorded -> {
                    if (filter.matches(recorded)) {
                        try {
                            lines.write(recorded);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        written[0]++;
                    }
                });
                if (written[0] >= LINES_BETWEEN_OUTPUT_CHECKS) {
                    written[0] = 0;
                    lines.flush();
                    if (out.checkError()) {
                        return null; // the reader went away, as `events | head` does: stop quietly
                    }
                }
            }
            return reader.tornTail();
        }
    }

    static String describe(JournalReader.TornTail torn) {
        return "the journal ends in " + torn.length() + " bytes that are not a whole batch, in " + torn.file()
                + " at offset " + torn.offset() + " (" + torn.problem() + "): a torn write, which the next "
                + "server start moves to journal/quarantine/, or a batch being written right now";
    }

    /** The filter the options describe; a bad value is a usage error that names the option. */
    private EventFilter filter() {
        Set<Class<? extends Event>> eventTypes = new HashSet<>();
        for (String type : types) {
            eventTypes.add(parse("--type", () -> EventFilter.parseType(type)));
        }
        long accountNumber = account == null ? EventFilter.ANY_ACCOUNT
                : parse("--account", () -> EventFilter.parseAccount(account));
        long after = afterSeq == null ? 0 : parse("--after-seq", () -> EventFilter.parseSeq(afterSeq));
        long until = untilSeq == null ? Long.MAX_VALUE : parse("--until-seq", () -> EventFilter.parseSeq(untilSeq));
        long fromMicros = from == null ? Long.MIN_VALUE
                : parse("--from", () -> EpochMicros.ceilingOf(EventFilter.parseInstant(from)));
        long toMicros = to == null ? Long.MAX_VALUE
                : parse("--to", () -> EpochMicros.ceilingOf(EventFilter.parseInstant(to)));
        if (until < after) {
            throw usage("--until-seq " + until + " is before --after-seq " + after + ": no event can match");
        }
        if (toMicros < fromMicros) {
            throw usage("--to " + to + " is before --from " + from + ": no event can match");
        }
        return new EventFilter(eventTypes, accountNumber, after, until, fromMicros, toMicros);
    }

    private <T> T parse(String option, Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException e) {
            throw usage(option + ": " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
