package eventbank.server.cli;

import eventbank.engine.DataDirectoryLock;
import eventbank.engine.keys.PersonalKeysException;
import eventbank.engine.recovery.RecoveryRefusedException;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.MalformedRecordException;
import eventbank.engine.snapshot.SnapshotCorruptException;
import eventbank.postgres.JournalDatabaseException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code eventbank} command line: {@code serve} (the HTTP API), {@code events}, {@code state},
 * {@code verify} and {@code what-if}, {@code migrate} (a journal between files and PostgreSQL),
 * {@code rotate-keys} (a new key-encryption key) and {@code postgres} (a local PostgreSQL to try
 * cluster mode on). {@code eventbank.server.Main} starts it with the server's assembly for {@code serve}.
 *
 * <p>Exit codes are the same for every subcommand ({@link ExitCodes}): 0 ok, 1 a check failed or
 * corruption was found, 2 usage error, 3 data directory missing, unreadable or locked (or the
 * journal's database unreachable). Every
 * error is one line on standard error, never a stack trace (set {@code EVENTBANK_DEBUG=1} to
 * get one as well).
 */
@Command(name = "eventbank", synopsisSubcommandLabel = "COMMAND",
        description = "An event-sourced bank server and its tools.",
        footer = {"", "Run 'eventbank COMMAND --help' for a command's options.",
                "Exit codes: 0 ok, 1 check failed or corruption found, 2 usage error,",
                "3 data directory missing, unreadable or locked, or the journal's database",
                "unreachable."})
public final class EventbankCommand implements Callable<Integer> {
    static final String DEBUG_VARIABLE = "EVENTBANK_DEBUG";

    @Spec
    private CommandSpec spec;

    @Mixin
    private HelpOption help;

    /**
     * The command line with its subcommands and its error handling, reading defaults (such as
     * {@code EVENTBANK_DATA_DIR}) from {@code environment}; {@code serve} runs what
     * {@code server} starts. Tests set its output streams.
     */
    public static CommandLine commandLine(Map<String, String> environment, ServeCommand.Starter server) {
        CommandLine commandLine = new CommandLine(new EventbankCommand())
                .addSubcommand(new ServeCommand(environment, server))
                .addSubcommand(new EventsCommand(environment))
                .addSubcommand(new StateCommand(environment))
                .addSubcommand(new VerifyCommand(environment))
                .addSubcommand(new WhatIfCommand(environment))
                .addSubcommand(new MigrateCommand(environment))
                .addSubcommand(new RotateKeysCommand(environment))
                .addSubcommand(new PostgresCommand());
        boolean debug = environment.get(DEBUG_VARIABLE) != null;
        commandLine.setParameterExceptionHandler(EventbankCommand::usageError);
        commandLine.setExecutionExceptionHandler((exception, failed, parseResult) ->
                failure(exception, failed, debug));
        return commandLine;
    }

    /** {@code eventbank} alone: the usage, on standard error since nothing was done. */
    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        err.println("eventbank: a command is missing");
        spec.commandLine().usage(err);
        return ExitCodes.USAGE;
    }

    /** A wrong command line: one line that says what and where to look, exit code 2. */
    private static int usageError(ParameterException exception, String[] args) {
        CommandLine failed = exception.getCommandLine();
        String name = failed.getCommandSpec().qualifiedName();
        String hint = exception instanceof UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()
                ? "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?"
                : "";
        failed.getErr().println(name + ": " + exception.getMessage() + hint + " (see '" + name + " --help')");
        return ExitCodes.USAGE;
    }

    /** What a subcommand threw, as one line and an exit code. */
    private static int failure(Exception thrown, CommandLine failed, boolean debug) {
        failed.getOut().flush(); // what was printed before the failure comes first
        Exception exception = thrown instanceof UncheckedIOException unchecked ? unchecked.getCause() : thrown;
        int exitCode = exitCodeOf(exception);
        PrintWriter err = failed.getErr();
        err.println(failed.getCommandSpec().qualifiedName() + ": " + messageOf(exception));
        if (debug) {
            exception.printStackTrace(err);
        }
        return exitCode;
    }

    static int exitCodeOf(Exception exception) {
        return switch (exception) {
            case CommandFailure e -> e.exitCode();
            case JournalCorruptException e -> ExitCodes.CHECK_FAILED;
            case RecoveryRefusedException e -> ExitCodes.CHECK_FAILED;
            case MalformedRecordException e -> ExitCodes.CHECK_FAILED;
            case SnapshotCorruptException e -> ExitCodes.CHECK_FAILED;
            case DataDirectoryLock.DataDirectoryLockedException e -> ExitCodes.DATA_DIRECTORY;
            // The key store refused (a missing or wrong key-encryption key, a damaged slot).
            case PersonalKeysException e -> ExitCodes.CHECK_FAILED;
            // The data directory was checked before reading, so failing to read is about it.
            case IOException e -> ExitCodes.DATA_DIRECTORY;
            // Anything else is a bug, or a log whose events break the bank's rules on replay.
            default -> ExitCodes.CHECK_FAILED;
        };
    }

    private static String messageOf(Exception exception) {
        return switch (exception) {
            case CommandFailure e -> e.getMessage();
            case JournalCorruptException e -> e.getMessage();
            case RecoveryRefusedException e -> e.getMessage();
            case MalformedRecordException e -> "a journal record does not parse: " + e.getMessage();
            case SnapshotCorruptException e -> e.getMessage();
            case DataDirectoryLock.DataDirectoryLockedException e -> e.getMessage();
            case PersonalKeysException e -> e.getMessage();
            case JournalDatabaseException e -> e.getMessage();
            case NoSuchFileException e -> "cannot read " + e.getFile() + ": it does not exist (any more)";
            case AccessDeniedException e -> "cannot read " + e.getFile() + ": permission denied";
            case FileSystemException e -> "cannot read " + e.getFile() + ": " + e.getReason();
            case IOException e -> "cannot read the data directory: " + e.getMessage();
            default -> "unexpected error (" + exception.getClass().getSimpleName() + "): " + exception.getMessage()
                    + "; set " + DEBUG_VARIABLE + "=1 for the stack trace";
        };
    }
}
