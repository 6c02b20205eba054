package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.server.config.ConfigLoader;
import eventbank.server.BankService;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eventbank serve}'s refusals (its start and stop run for real in the README walk-through). */
class ServeCommandTest {
    @TempDir
    Path temp;

    @Test
    void aLockedDataDirectoryIsExitCode3WithOneLine() throws Exception {
        Path data = temp.resolve("data");
        var config = new ConfigLoader(Map.of(), temp).load(null, Map.of("data.dir", data.toString(),
                "auth.bcrypt_cost", "4"));
        try (BankService running = BankService.start(config, "127.0.0.1", 0,
                new PrintStream(OutputStream.nullOutputStream()))) {
            Cli.Run run = Cli.run("serve", "--data-dir", data.toString(), "--port", "1");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.DATA_DIRECTORY);
            assertThat(run.err().lines().toList()).as(run.toString()).hasSize(1);
            assertThat(run.err()).contains("locked");
        }
    }

    @Test
    void aBadPortIsAUsageError() {
        Cli.Run run = Cli.run("serve", "--data-dir", temp.resolve("data").toString(), "--port", "0");
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("http.port");
    }

    @Test
    void serveIsListedInTheHelp() {
        Cli.Run run = Cli.run("serve", "--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--data-dir").contains("--port").contains("--host").contains("--config");
    }
}
