package eventbank.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The four sources, their precedence, the environment's names and the properties file. */
class ConfigLoaderTest {
    @TempDir
    Path workingDirectory;

    private Config load(Map<String, String> environment, Map<String, String> commandLine) {
        return new ConfigLoader(environment, workingDirectory).load(commandLine);
    }

    private Path writeDefaultFile(String text) throws IOException {
        return Files.writeString(workingDirectory.resolve("eventbank.properties"), text);
    }

    @Test
    void withNothingSetEveryKeyHasItsDefault() {
        Config config = load(Map.of(), Map.of());
        assertThat(config.http().host()).isEqualTo("127.0.0.1");
        assertThat(config.http().port()).isEqualTo(8080);
        assertThat(config.http().publicUrl()).isEqualTo(URI.create("http://localhost:8080"));
        assertThat(config.http().requestBodyBytesMax()).isEqualTo(1L << 20);
        assertThat(config.data().directory()).isEqualTo(workingDirectory.resolve("data"));
        assertThat(config.auth().operatorKey()).isEmpty();
        assertThat(config.auth().bcryptCost()).isEqualTo(12);
        assertThat(config.auth().tokenTtl()).isEqualTo(Duration.ofMinutes(15));
        assertThat(config.data().idempotencyWindow()).isEqualTo(Duration.ofHours(24));
        assertThat(config.data().snapshotEveryEvents()).isEqualTo(1_000_000);
        assertThat(config.data().journalSegmentBytesMax()).isEqualTo(256L << 20);
        assertThat(config.mail().transport()).isEqualTo(MailTransportKind.FILE);
        assertThat(config.mail().from()).isEqualTo("eventbank <noreply@localhost>");
        assertThat(config.mail().fromAddress()).isEqualTo("noreply@localhost");
        assertThat(config.mail().smtp()).isEmpty();
        assertThat(config.mail().mailgun()).isEmpty();
        assertThat(config.propertiesFile()).isEmpty();
        assertThat(config.sourceOf(ConfigKey.HTTP_PORT)).contains(Source.defaultValue());
        assertThat(config.sourceOf(ConfigKey.OPERATOR_KEY)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "http.port          | 1001        | 1002        | 1003        | 8080",
        "auth.bcrypt_cost   | 5           | 6           | 7           | 12",
        "mail.from          | a@one.test  | b@two.test  | c@three.test | eventbank <noreply@localhost>",
        "data.dir           | one         | two         | three       | data",
        "idempotency.window | PT1H        | PT2H        | PT3H        | PT24H",
    })
    void theCommandLineBeatsTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefault(
            String key, String commandLine, String environment, String file, String defaultText) throws IOException {
        ConfigKey configKey = ConfigKey.byKey(key).orElseThrow();
        String variable = configKey.environmentVariable();
        Path properties = writeDefaultFile(key + "=" + file + "\n");

        Config all = load(Map.of(variable, environment), Map.of(key, commandLine));
        assertThat(raw(all, configKey)).isEqualTo(commandLine);
        assertThat(all.sourceOf(configKey)).contains(Source.commandLine());

        Config withoutCommandLine = load(Map.of(variable, environment), Map.of());
        assertThat(raw(withoutCommandLine, configKey)).isEqualTo(environment);
        assertThat(withoutCommandLine.sourceOf(configKey)).contains(Source.environment(variable));

        Config fileOnly = load(Map.of(), Map.of());
        assertThat(raw(fileOnly, configKey)).isEqualTo(file);
        assertThat(fileOnly.sourceOf(configKey)).contains(Source.file(properties));

        Files.delete(properties);
        Config none = load(Map.of(), Map.of());
        assertThat(raw(none, configKey)).isEqualTo(defaultText);
        assertThat(none.sourceOf(configKey)).contains(Source.defaultValue());
    }

    /** A key's typed value written back as the text the tests above set. */
    private String raw(Config config, ConfigKey key) {
        return switch (key) {
            case HTTP_PORT -> String.valueOf(config.http().port());
            case AUTH_BCRYPT_COST -> String.valueOf(config.auth().bcryptCost());
            case MAIL_FROM -> config.mail().from();
            case DATA_DIR -> workingDirectory.relativize(config.data().directory()).toString();
            case IDEMPOTENCY_WINDOW -> config.data().idempotencyWindow().toString();
            default -> throw new AssertionError(key);
        };
    }

    @Test
    void sourcesMixKeyByKey() throws IOException {
        Path file = writeDefaultFile("http.port=9001\nhttp.host=0.0.0.0\nauth.bcrypt_cost=10\n");
        Config config = load(Map.of("EVENTBANK_HTTP_PORT", "9002", "EVENTBANK_AUTH_TOKEN_TTL", "60"),
                Map.of("auth.bcrypt_cost", "4"));
        assertThat(config.http().port()).isEqualTo(9002);
        assertThat(config.http().host()).isEqualTo("0.0.0.0");
        assertThat(config.auth().bcryptCost()).isEqualTo(4);
        assertThat(config.auth().tokenTtl()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.sourceOf(ConfigKey.HTTP_HOST)).contains(Source.file(file));
        assertThat(config.sourceOf(ConfigKey.AUTH_TOKEN_TTL)).contains(Source.environment("EVENTBANK_AUTH_TOKEN_TTL"));
        assertThat(config.propertiesFile()).contains(file);
    }

    @Test
    void environmentNamesUpperCaseTheKeyAndTurnDotsAndHyphensIntoUnderscores() {
        assertThat(ConfigKey.HTTP_PORT.environmentVariable()).isEqualTo("EVENTBANK_HTTP_PORT");
        assertThat(ConfigKey.DATA_DIR.environmentVariable()).isEqualTo("EVENTBANK_DATA_DIR");
        assertThat(ConfigKey.AUTH_BCRYPT_COST.environmentVariable()).isEqualTo("EVENTBANK_AUTH_BCRYPT_COST");
        assertThat(ConfigKey.MAIL_MAILGUN_API_KEY.environmentVariable()).isEqualTo("EVENTBANK_MAIL_MAILGUN_API_KEY");
        assertThat(ConfigKey.HTTP_REQUEST_BODY_BYTES_MAX.environmentVariable())
                .isEqualTo("EVENTBANK_HTTP_REQUEST_BODY_BYTES_MAX");
        assertThat(ConfigKey.environmentVariableOf("some.odd-key")).isEqualTo("EVENTBANK_SOME_ODD_KEY");
        Set<String> names = new HashSet<>();
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(names.add(key.environmentVariable())).as("%s has a name of its own", key).isTrue();
            assertThat(key.key()).matches("[a-z]+(\\.[a-z_]+)+");
            assertThat(ConfigKey.byKey(key.key())).contains(key);
        }
    }

    @Test
    void theDataDirectoryVariableIsTheOneTheCommandLineToolsHonour() {
        Config config = load(Map.of("EVENTBANK_DATA_DIR", "/srv/bank"), Map.of());
        assertThat(config.data().directory()).isEqualTo(Path.of("/srv/bank"));
        assertThat(config.sourceOf(ConfigKey.DATA_DIR)).contains(Source.environment("EVENTBANK_DATA_DIR"));
    }

    @Test
    void otherVariablesAreIgnoredEvenWithThePrefix() {
        Config config = load(Map.of("EVENTBANK_HTTP_PROT", "nonsense", "EVENTBANK_DEBUG", "1",
                "HTTP_PORT", "1", "http.port", "2", "eventbank_http_port", "3", "PATH", "/usr/bin"), Map.of());
        assertThat(config.http().port()).isEqualTo(8080);
    }

    @Test
    void blankValuesInTheEnvironmentAndTheFileCountAsNotSet() throws IOException {
        writeDefaultFile("operator.key=\nhttp.port =   \nauth.bcrypt_cost=  6  \n");
        Config config = load(Map.of("EVENTBANK_AUTH_BCRYPT_COST", " ", "EVENTBANK_DATA_DIR", ""), Map.of());
        assertThat(config.auth().operatorKey()).isEmpty();
        assertThat(config.http().port()).isEqualTo(8080);
        assertThat(config.auth().bcryptCost()).as("stripped of the spaces a properties file keeps").isEqualTo(6);
        assertThat(config.data().directory()).isEqualTo(workingDirectory.resolve("data"));
    }

    @Test
    void aBlankValueOnTheCommandLineIsAnError() {
        assertThatThrownBy(() -> load(Map.of(), Map.of("http.port", " ")))
                .isInstanceOf(ConfigException.class).hasMessage("http.port is empty (from the command line)");
    }

    @Test
    void anUnknownKeyFromTheCommandLineIsAnError() {
        assertThatThrownBy(() -> load(Map.of(), Map.of("port", "80")))
                .isInstanceOf(ConfigException.class).hasMessage("unknown key port (from the command line)");
    }

    @Test
    void publicUrlDefaultsToLocalhostOnTheEffectivePort() throws IOException {
        assertThat(load(Map.of(), Map.of("http.port", "9100")).http().publicUrl())
                .isEqualTo(URI.create("http://localhost:9100"));
        assertThat(load(Map.of("EVENTBANK_HTTP_PORT", "9200"), Map.of()).http().publicUrl())
                .isEqualTo(URI.create("http://localhost:9200"));
        writeDefaultFile("http.port=9300\n");
        Config fromFile = load(Map.of(), Map.of());
        assertThat(fromFile.http().publicUrl()).isEqualTo(URI.create("http://localhost:9300"));
        assertThat(fromFile.sourceOf(ConfigKey.PUBLIC_URL)).contains(Source.derivedDefault("follows http.port"));
        assertThat(fromFile.describe())
                .contains("public.url                       = http://localhost:9300 (default, follows http.port)");
    }

    @Test
    void theKekFileFollowsTheDataDirectoryUnlessItIsSet() {
        Config byDefault = load(Map.of(), Map.of("data.dir", "bank"));
        assertThat(byDefault.data().kekFile()).isEqualTo(workingDirectory.resolve("bank/keys/kek"));
        assertThat(byDefault.sourceOf(ConfigKey.KEYS_KEK_FILE)).contains(Source.derivedDefault("follows data.dir"));
        Config set = load(Map.of("EVENTBANK_KEYS_KEK_FILE", "/etc/eventbank/kek"), Map.of("data.dir", "bank"));
        assertThat(set.data().kekFile()).isEqualTo(Path.of("/etc/eventbank/kek"));
        assertThat(set.sourceOf(ConfigKey.KEYS_KEK_FILE))
                .contains(Source.environment("EVENTBANK_KEYS_KEK_FILE"));
    }

    @Test
    void aPublicUrlThatIsSetWinsOverThePort() {
        Config config = load(Map.of("EVENTBANK_PUBLIC_URL", "https://bank.example/eventbank/"),
                Map.of("http.port", "9100"));
        assertThat(config.http().publicUrl()).as("without the trailing slash")
                .isEqualTo(URI.create("https://bank.example/eventbank"));
        assertThat(config.http().port()).isEqualTo(9100);
    }

    @Test
    void anExplicitConfigFileThatDoesNotExistIsAnError() {
        ConfigLoader loader = new ConfigLoader(Map.of(), workingDirectory);
        assertThatThrownBy(() -> loader.load(Path.of("missing.properties"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("the configuration file " + workingDirectory.resolve("missing.properties")
                        + " (from --config) does not exist");
    }

    @Test
    void anExplicitConfigFileIsReadInsteadOfTheOneInTheWorkingDirectory() throws IOException {
        writeDefaultFile("http.port=9001\nauth.bcrypt_cost=5\n");
        Files.createDirectories(workingDirectory.resolve("etc"));
        Path explicit = Files.writeString(workingDirectory.resolve("etc/bank.properties"), "http.port=9002\n");
        Config config = new ConfigLoader(Map.of(), workingDirectory).load(Path.of("etc/bank.properties"), Map.of());
        assertThat(config.http().port()).isEqualTo(9002);
        assertThat(config.auth().bcryptCost()).as("the other file is not read at all").isEqualTo(12);
        assertThat(config.propertiesFile()).contains(explicit);
        assertThat(config.sourceOf(ConfigKey.HTTP_PORT)).contains(Source.file(explicit));
    }

    @Test
    void aConfigFileThatIsADirectoryIsAnError() throws IOException {
        Files.createDirectories(workingDirectory.resolve("eventbank.properties"));
        assertThatThrownBy(() -> load(Map.of(), Map.of())).isInstanceOf(ConfigException.class)
                .hasMessage("the configuration file " + workingDirectory.resolve("eventbank.properties")
                        + " is a directory");
    }

    @Test
    void anUnknownKeyInTheFileIsAnErrorThatNamesKeyAndFileAndSuggestsTheKeyMeant() throws IOException {
        Path file = writeDefaultFile("http.prot=9000\n");
        assertThatThrownBy(() -> load(Map.of(), Map.of())).isInstanceOf(ConfigException.class)
                .hasMessage("unknown key http.prot in file " + file + "; did you mean http.port?");
    }

    @Test
    void unknownKeysAreAllReportedWithTheOtherProblems() throws IOException {
        Path file = writeDefaultFile("""
                # a comment
                EVENTBANK_HTTP_PORT=9000
                auth.bcrypt-cost=10
                colour=blue
                http.port=abc
                """);
        ConfigException thrown = catchThrowableOfType(ConfigException.class, () -> load(Map.of(), Map.of()));
        assertThat(thrown.problems()).containsExactlyInAnyOrder(
                "unknown key EVENTBANK_HTTP_PORT in file " + file + "; did you mean http.port? (the file takes "
                        + "keys, the environment takes EVENTBANK_HTTP_PORT)",
                "unknown key auth.bcrypt-cost in file " + file + "; did you mean auth.bcrypt_cost?",
                "unknown key colour in file " + file + "; the keys are listed in docs/CONFIGURATION.md",
                "http.port=abc (from file " + file + ") is not a port number 1-65535");
        assertThat(thrown.getMessage()).startsWith("4 problems in the configuration: ").doesNotContain("\n");
    }

    @Test
    void aKeyTwiceInTheFileIsAnError() throws IOException {
        Path file = writeDefaultFile("http.port=9000\nhttp.port=9001\n");
        assertThatThrownBy(() -> load(Map.of(), Map.of())).isInstanceOf(ConfigException.class)
                .hasMessage("key http.port appears more than once in file " + file);
    }

    @Test
    void theFileIsUtf8AndUnderstandsThePropertiesSyntax() throws IOException {
        writeDefaultFile("""
                ! another comment
                mail.from = Zoë's Bank <noreply@bank.example>
                http.host : localhost
                mail.transport file
                data.dir = /srv/\\
                  bank
                """);
        Config config = load(Map.of(), Map.of());
        assertThat(config.mail().from()).isEqualTo("Zoë's Bank <noreply@bank.example>");
        assertThat(config.http().host()).isEqualTo("localhost");
        assertThat(config.data().directory()).isEqualTo(Path.of("/srv/bank"));
    }

    @Test
    void aFileThatIsNotUtf8IsAnError() throws IOException {
        Path file = workingDirectory.resolve("eventbank.properties");
        Files.write(file, "mail.from=Zo\u00eb <a@b.test>\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> load(Map.of(), Map.of())).isInstanceOf(ConfigException.class)
                .hasMessage("the configuration file " + file + " is not valid UTF-8");
    }

    @Test
    void relativeDataDirectoriesAreRelativeToTheWorkingDirectory() {
        assertThat(load(Map.of(), Map.of("data.dir", "../elsewhere/./data")).data().directory())
                .isEqualTo(workingDirectory.getParent().resolve("elsewhere/data"));
        assertThat(load(Map.of(), Map.of("data.dir", "/var/lib/eventbank")).data().directory())
                .isEqualTo(Path.of("/var/lib/eventbank"));
    }
}
