package eventbank.server.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Reads the configuration from its four sources, highest precedence first:
 * <ol>
 *   <li>the command line: key → value, filled by {@code serve} from its flags ({@code --port} →
 *       {@code http.port});</li>
 *   <li>the environment: {@code EVENTBANK_} and the key upper-cased with {@code .} and {@code -}
 *       turned into {@code _} ({@code http.port} → {@code EVENTBANK_HTTP_PORT}); other variables,
 *       {@code EVENTBANK_*} included, are ignored;</li>
 *   <li>the properties file: the {@code --config} file, which must exist, else
 *       {@code ./eventbank.properties} when present; a key it does not know is an error;</li>
 *   <li>the defaults.</li>
 * </ol>
 * A blank value in the environment or the file counts as not set there (a template line
 * {@code operator.key=} sets nothing); values are stripped of surrounding white space, which a
 * properties file otherwise keeps. Relative paths ({@code --config}, {@code data.dir}) are relative
 * to the working directory.
 *
 * <p>The environment and the working directory are parameters, so tests drive the loader without
 * touching the process's own; {@link #ofThisProcess()} is what {@code main} uses.
 */
public final class ConfigLoader {
    /** The file read when no {@code --config} is given, if it is in the working directory. */
    public static final String DEFAULT_FILE_NAME = "eventbank.properties";

    private final Map<String, String> environment;
    private final Path workingDirectory;

    public ConfigLoader(Map<String, String> environment, Path workingDirectory) {
        this.environment = Map.copyOf(environment);
        this.workingDirectory = workingDirectory.toAbsolutePath().normalize();
    }

    /** A loader over this process's environment and current directory. */
    public static ConfigLoader ofThisProcess() {
        return new ConfigLoader(System.getenv(), Path.of("").toAbsolutePath());
    }

    /** {@link #load(Path, Map)} without a {@code --config} file. */
    public Config load(Map<String, String> commandLine) {
        return load(null, commandLine);
    }

    /**
     * The configuration, or a {@link ConfigException} with every problem found.
     *
     * @param configFile  the {@code --config} file, or null when none was given
     * @param commandLine key → value from the command line's flags; keys as in the file
     */
    public Config load(Path configFile, Map<String, String> commandLine) {
        List<String> problems = new ArrayList<>();
        Map<ConfigKey, String> fromCommandLine = commandLineSettings(commandLine, problems);
        Path file = chooseFile(configFile);
        Map<ConfigKey, String> fromFile = file == null ? Map.of() : fileSettings(file, problems);

        Map<ConfigKey, Setting> chosen = new EnumMap<>(ConfigKey.class);
        for (ConfigKey key : ConfigKey.values()) {
            choose(key, fromCommandLine, fromFile, file).ifPresent(setting -> chosen.put(key, setting));
        }
        return new ConfigParser(chosen, workingDirectory, problems).parse(file);
    }

    /** The value of the highest-precedence source that sets the key, or its default, or none. */
    private Optional<Setting> choose(ConfigKey key, Map<ConfigKey, String> fromCommandLine,
                                     Map<ConfigKey, String> fromFile, Path file) {
        String text = fromCommandLine.get(key);
        if (text != null) {
            return Optional.of(new Setting(key, text, Source.commandLine()));
        }
        text = environment.get(key.environmentVariable());
        if (text != null && !text.isBlank()) {
            return Optional.of(new Setting(key, text.strip(), Source.environment(key.environmentVariable())));
        }
        text = fromFile.get(key);
        if (text != null) {
            return Optional.of(new Setting(key, text, Source.file(file)));
        }
        return key.defaultText().map(defaultText -> new Setting(key, defaultText, Source.defaultValue()));
    }

    /**
     * The command line's settings. Its keys come from code (serve's flags), so an unknown key is a
     * bug there; it is reported like any other problem all the same. A blank value is a problem:
     * {@code --port ""} was typed on purpose and must not fall back silently.
     */
    private static Map<ConfigKey, String> commandLineSettings(Map<String, String> commandLine, List<String> problems) {
        Map<ConfigKey, String> settings = new EnumMap<>(ConfigKey.class);
        for (Map.Entry<String, String> entry : new TreeMap<>(commandLine).entrySet()) {
            Optional<ConfigKey> key = ConfigKey.byKey(entry.getKey());
            if (key.isEmpty()) {
                problems.add("unknown key " + entry.getKey() + " (from the command line)");
            } else if (entry.getValue() == null || entry.getValue().isBlank()) {
                problems.add(entry.getKey() + " is empty (from the command line)");
            } else {
                settings.put(key.get(), entry.getValue().strip());
            }
        }
        return settings;
    }

    /** The {@code --config} file, else {@code ./eventbank.properties} when present, else none. */
    private Path chooseFile(Path configFile) {
        if (configFile != null) {
            Path file = workingDirectory.resolve(configFile).normalize();
            if (!Files.exists(file)) {
                throw new ConfigException("the configuration file " + file + " (from --config) does not exist");
            }
            return file;
        }
        Path file = workingDirectory.resolve(DEFAULT_FILE_NAME);
        return Files.exists(file) ? file : null;
    }

    /**
     * The file's settings: UTF-8, the syntax of {@link Properties}. A key it does not know, or one
     * that appears twice, is a problem: either is a mistake that would otherwise go unnoticed.
     */
    private static Map<ConfigKey, String> fileSettings(Path file, List<String> problems) {
        Map<String, String> entries = read(file, problems);
        Map<ConfigKey, String> settings = new EnumMap<>(ConfigKey.class);
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            Optional<ConfigKey> key = ConfigKey.byKey(entry.getKey());
            if (key.isEmpty()) {
                problems.add("unknown key " + entry.getKey() + " in file " + file + suggestion(entry.getKey()));
            } else if (!entry.getValue().isBlank()) {
                settings.put(key.get(), entry.getValue().strip());
            }
        }
        return settings;
    }

    /** The file's entries, in the order they appear, sorted problems aside. */
    private static Map<String, String> read(Path file, List<String> problems) {
        if (Files.isDirectory(file)) {
            throw new ConfigException("the configuration file " + file + " is a directory");
        }
        Map<String, String> entries = new LinkedHashMap<>();
        // Properties.load calls put() for every entry, so a subclass sees the duplicates that a
        // plain Properties would silently resolve to the last one.
        Properties properties = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                if (entries.putIfAbsent((String) key, (String) value) != null) {
                    problems.add("key " + key + " appears more than once in file " + file);
                }
                return super.put(key, value);
            }
        };
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            throw new ConfigException("the configuration file " + file + " does not exist (any more)");
        } catch (AccessDeniedException e) {
            throw new ConfigException("the configuration file " + file + " cannot be read (permission denied)");
        } catch (CharacterCodingException e) {
            throw new ConfigException("the configuration file " + file + " is not valid UTF-8");
        } catch (IllegalArgumentException e) {
            throw new ConfigException("the configuration file " + file + " does not parse: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("the configuration file " + file + " cannot be read: " + e);
        }
        return entries;
    }

    /** "; did you mean http.port?" for a key close to a known one (a typo, another case, an environment name). */
    static String suggestion(String unknown) {
        ConfigKey best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (ConfigKey key : ConfigKey.values()) {
            if (unknown.equalsIgnoreCase(key.environmentVariable())) {
                return "; did you mean " + key + "? (the file takes keys, the environment takes "
                        + key.environmentVariable() + ")";
            }
            int distance = distance(unknown.toLowerCase(Locale.ROOT).replace('-', '_'), key.key());
            if (distance < bestDistance) {
                best = key;
                bestDistance = distance;
            }
        }
        if (best != null && bestDistance <= 3) {
            return "; did you mean " + best + "?";
        }
        return "; the keys are listed in docs/CONFIGURATION.md";
    }

    /** The Levenshtein distance: the fewest insertions, deletions and replacements from one to the other. */
    static int distance(String from, String to) {
        int[] previous = new int[to.length() + 1];
        int[] current = new int[to.length() + 1];
        for (int j = 0; j <= to.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= from.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= to.length(); j++) {
                int replace = previous[j - 1] + (from.charAt(i - 1) == to.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(replace, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[to.length()];
    }
}
