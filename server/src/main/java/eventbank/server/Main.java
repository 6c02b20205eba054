package eventbank.server;

import eventbank.server.cli.EventbankCommand;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;

/**
 * The entry point of the {@code eventbank} program: the command line of {@link EventbankCommand},
 * whose {@code serve} starts a {@link BankService}. Scripts and tests launch this class by name.
 */
public final class Main {
    private static final int STANDARD_OUTPUT_BUFFER_BYTES = 1 << 16;

    private Main() {}

    public static void main(String[] args) {
        run(commandLine(System.getenv()), args);
    }

    /**
     * Runs {@code commandLine} as the program does, on this process's standard streams, and ends
     * the JVM with its exit code. The testkit's {@code FaultInjectingMain} runs its own this way.
     */
    public static void run(CommandLine commandLine, String[] args) {
        // Standard output is buffered (event lines stream by the million) and flushed at the end;
        // both streams are UTF-8 whatever the platform's default, since event lines are JSON.
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(
                new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), STANDARD_OUTPUT_BUFFER_BYTES));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(
                new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
        commandLine.setOut(out).setErr(err);
        int exitCode = commandLine.execute(args);
        out.flush();
        err.flush();
        System.exit(exitCode);
    }

    /**
     * The command line, reading defaults (such as {@code EVENTBANK_DATA_DIR}) from
     * {@code environment}, with {@code serve} starting the whole server. Tests set its output
     * streams.
     */
    public static CommandLine commandLine(Map<String, String> environment) {
        return EventbankCommand.commandLine(environment,
                (config, console) -> BankService.start(config, config.http().host(), config.http().port(), console));
    }
}
