package eventbank.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/CONFIGURATION.md lists every key, with its environment variable, and no key that does not exist. */
class ConfigDocumentationTest {
    /** Tests run in the module's directory; the docs are beside it. */
    private static final Path DOCUMENT = Path.of("..", "docs", "CONFIGURATION.md");

    @Test
    void everyKeyHasARowWithItsEnvironmentVariable() throws IOException {
        List<String> rows = Files.readAllLines(DOCUMENT).stream().filter(line -> line.startsWith("| `")).toList();
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(rows).as("the row of %s", key)
                    .anyMatch(row -> row.startsWith("| `" + key.key() + "` |")
                            && row.contains("| `" + key.environmentVariable() + "` |"));
        }
        assertThat(rows).hasSize(ConfigKey.values().length);
    }

    @Test
    void everyPlainDefaultIsTheOneInTheTable() throws IOException {
        List<String> rows = Files.readAllLines(DOCUMENT);
        for (ConfigKey key : ConfigKey.values()) {
            key.defaultText().filter(text -> !text.equals("data")).ifPresent(text ->
                    assertThat(rows).as("the default of %s", key)
                            .anyMatch(row -> row.startsWith("| `" + key.key() + "` | `" + text + "`")));
        }
    }
}
