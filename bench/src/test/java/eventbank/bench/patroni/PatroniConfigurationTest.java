package eventbank.bench.patroni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Patroni configuration the bench runs is the one docs/OPERATIONS.md shows, and the one
 * {@link PatroniPair} expects: no Patroni is started here, only the files are read.
 */
class PatroniConfigurationTest {
    private static final Path CONFIG = Path.of("patroni");
    private static final Path OPERATIONS = Path.of("../docs/OPERATIONS.md");

    @Test
    void theOperationsGuideShowsTheFilesAsTheyAre() throws Exception {
        String guide = Files.readString(OPERATIONS);
        assertThat(guide).contains("```yaml\n" + Files.readString(CONFIG.resolve("pg1.yml")) + "```");
        assertThat(guide).contains("```yaml\n" + Files.readString(CONFIG.resolve("etcd.yml")) + "```");
    }

    /** What the guide says: pg2.yml differs from pg1.yml only in its name, ports and directories. */
    @Test
    void theSecondMemberDiffersFromTheFirstOnlyInNamePortsAndDirectories() throws Exception {
        String first = Files.readString(CONFIG.resolve("pg1.yml"));
        String second = Files.readString(CONFIG.resolve("pg2.yml"));
        String expected = first.replace("name: pg1", "name: pg2").replace("58008", "58009").replace("55431", "55432")
                .replace("/pg1", "/pg2").replace("member pg1 of", "member pg2 of")
                .replace("pg2.yml is the same", "pg1.yml is the same");
        assertThat(second).isEqualTo(expected);
    }

    @Test
    void thePairAcceptsTheFilesAndRefusesOnesThatNameOtherPorts(@TempDir Path other) throws Exception {
        PatroniPair.checkConfiguration(CONFIG);
        for (String file : new String[] {"etcd.yml", "pg1.yml", "pg2.yml"}) {
            Files.copy(CONFIG.resolve(file), other.resolve(file));
        }
        Files.writeString(other.resolve("pg2.yml"), Files.readString(other.resolve("pg2.yml"))
                .replace("55432", "55433"));
        assertThatThrownBy(() -> PatroniPair.checkConfiguration(other)).hasMessageContaining("pg2.yml")
                .hasMessageContaining("55432");
    }
}
