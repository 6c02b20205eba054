package eventbank.server.config;

import java.nio.file.Path;

/**
 * Where a configuration value came from, named in every message about it and in the start-up
 * log: {@code http.port=abc (from environment EVENTBANK_HTTP_PORT)}.
 *
 * @param kind   the kind of source, in order of precedence
 * @param detail the environment variable, the file, or for a derived default what it follows;
 *               null for the command line and a plain default
 */
public record Source(Kind kind, String detail) {

    /** The sources, highest precedence first. */
    public enum Kind { COMMAND_LINE, ENVIRONMENT, FILE, DEFAULT }

    private static final Source COMMAND_LINE = new Source(Kind.COMMAND_LINE, null);
    private static final Source DEFAULT = new Source(Kind.DEFAULT, null);

    public static Source commandLine() {
        return COMMAND_LINE;
    }

    public static Source environment(String variable) {
        return new Source(Kind.ENVIRONMENT, variable);
    }

    public static Source file(Path file) {
        return new Source(Kind.FILE, file.toString());
    }

    public static Source defaultValue() {
        return DEFAULT;
    }

    /** A default that follows another setting, such as public.url following http.port. */
    public static Source derivedDefault(String follows) {
        return new Source(Kind.DEFAULT, follows);
    }

    /** The words that go in parentheses after a value: "from environment EVENTBANK_HTTP_PORT", "default". */
    public String phrase() {
        return switch (kind) {
            case COMMAND_LINE -> "from the command line";
            case ENVIRONMENT -> "from environment " + detail;
            case FILE -> "from file " + detail;
            case DEFAULT -> detail == null ? "default" : "default, " + detail;
        };
    }

    @Override
    public String toString() {
        return phrase();
    }
}
