package eventbank.server.cli;

import eventbank.engine.history.TimeTravel;
import eventbank.engine.history.WhatIf;
import eventbank.server.config.ConfigKey;
import eventbank.server.json.InvalidJsonException;
import eventbank.server.json.WhatIfJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank what-if --file F}: the alternative history of {@code POST /api/admin/what-if}
 * from a file holding the same JSON request, answered with the same JSON, by the same
 * {@link WhatIf}. Without {@code until_seq} it replays to the journal's end as it is when read.
 * Read-only: takes no lock, writes nothing, mails nothing, works beside a running server.
 */
@Command(name = "what-if", sortOptions = false,
        description = {"Explores an alternative history: leaves out past events and/or adds hypothetical",
                "commands, replays, and prints which later events would now be rejected, each added",
                "command's outcome and every balance that would differ, as one JSON document.",
                "Read-only: takes no lock, writes nothing, works beside a running server."},
        footer = {"", "The file holds the JSON of POST /api/admin/what-if, for example:",
                "  {\"exclude_seqs\": [5], \"until_seq\": 40,",
                "   \"commands\": [{\"after_seq\": 7, \"type\": \"withdraw\", \"account_number\": \"4929123456781234\","
                        + " \"amount\": 500}]}",
                "", "Exit codes: 0 ok, 1 past the journal's end or corruption found, 2 usage error or bad request,",
                "3 data directory missing or unreadable, or the journal's database unreachable."})
final class WhatIfCommand implements Callable<Integer> {
    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ReplayOptions replay;

    @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "The request as JSON ('-' reads standard input).")
    private String file;

    @Option(names = "--replay-events-max", paramLabel = "N",
            description = "The most events to decide again (default: whatif.replay_events_max's default, "
                    + "${DEFAULT-VALUE}).")
    private long replayEventsMax = Long.parseLong(ConfigKey.WHATIF_REPLAY_EVENTS_MAX.defaultText().orElseThrow());

    @Mixin
    private HelpOption help;

    WhatIfCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws IOException {
        if (replayEventsMax < 1) {
            throw new ParameterException(spec.commandLine(), "--replay-events-max must be at least 1");
        }
        byte[] body;
        try {
            body = file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "--file: " + file + " does not exist");
        }
        WhatIf.Request request;
        try {
            request = WhatIfJson.parse(body);
        } catch (InvalidJsonException e) {
            throw new ParameterException(spec.commandLine(), "--file: " + e.code() + ": " + e.getMessage());
        }
        JournalOptions.History history = replay.open(environment, spec.name());
        WhatIf whatIf = new WhatIf(history.journal(), history.snapshots(), replay.idempotencyWindowMicros(environment),
                replayEventsMax);
        WhatIf.Result result;
        try {
            result = whatIf.run(request, history.journal().lastSeq());
        } catch (WhatIf.InvalidRequestException | TimeTravel.BeyondTheEndException e) {
            throw new CommandFailure(ExitCodes.CHECK_FAILED, e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        WhatIfJson.write(out, result);
        out.println();
        out.flush();
        return ExitCodes.OK;
    }
}
