package eventbank.server.config;

import java.util.List;

/**
 * The configuration cannot be used: a value that does not parse or is out of range, an unknown
 * key in the properties file, a missing {@code --config} file, a transport without the settings
 * it needs. Each problem is one sentence that names the key and the source it came from; every
 * problem found is reported at once, so that an operator fixes them in one go.
 *
 * <p>The message is one line (problems are joined with "; "), like every error of the command
 * line; {@link #problems()} has them one by one. Secrets never appear in it: they are shown as
 * {@code ***}.
 */
public final class ConfigException extends RuntimeException {
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(messageOf(problems), null, false, false);
        this.problems = List.copyOf(problems);
    }

    public ConfigException(String problem) {
        this(List.of(problem));
    }

    public List<String> problems() {
        return problems;
    }

    private static String messageOf(List<String> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a configuration exception needs a problem");
        }
        if (problems.size() == 1) {
            return problems.get(0);
        }
        return problems.size() + " problems in the configuration: " + String.join("; ", problems);
    }
}
