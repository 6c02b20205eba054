package eventbank.server.cli;

/**
 * A subcommand cannot go on for a reason the user can act on. It carries the exit code and a
 * one-line message; {@link Main} prints the message to standard error, never a stack trace.
 */
final class CommandFailure extends RuntimeException {
    private final int exitCode;

    CommandFailure(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
