package eventbank.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.EngineConfig;
import eventbank.engine.storage.FileStorage;
import eventbank.server.config.ConfigLoader;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault storage is reached only through the testkit: with {@code -Deventbank.faults} set, the
 * server's own configuration still runs the engine on plain files, and only the wrapping that
 * {@link FaultInjectingMain} applies puts the faults in.
 */
class FaultInjectingMainTest {
    @TempDir
    Path temporary;

    @Test
    void theServersConfigurationIgnoresThePropertyAndOnlyTheTestkitWrapsTheStorage() throws Exception {
        String before = System.getProperty(FaultInjectingStorage.PROPERTY);
        System.setProperty(FaultInjectingStorage.PROPERTY, "journal-fsync@3");
        try {
            EngineConfig served = new ConfigLoader(Map.of(), temporary)
                    .load(null, Map.of("data.dir", temporary.resolve("data").toString())).engineConfig();
            assertThat(served.storage()).isInstanceOf(FileStorage.class);
            EngineConfig faulty = FaultInjectingMain.withFaults(served);
            assertThat(faulty.storage()).isInstanceOf(FaultInjectingStorage.class);
            assertThat(faulty.toBuilder().storage(served.storage(), served.lockDataDirectory()).build())
                    .as("nothing else changed").isEqualTo(served);
        } finally {
            if (before == null) {
                System.clearProperty(FaultInjectingStorage.PROPERTY);
            } else {
                System.setProperty(FaultInjectingStorage.PROPERTY, before);
            }
        }
        assertThat(FaultInjectingMain.withFaults(EngineConfig.defaults(temporary)).storage())
                .as("without the property").isInstanceOf(FileStorage.class);
    }
}
