package eventbank.testkit;

import eventbank.engine.EngineConfig;
import eventbank.server.BankService;
import eventbank.server.Main;
import eventbank.server.cli.EventbankCommand;
import java.time.Clock;

/**
 * <b>Test only.</b> The {@code eventbank} command line with the engine's storage (the journal's,
 * and the read models' and the outbox's, which use the same) wrapped in a {@link
 * FaultInjectingStorage} when the system property {@value FaultInjectingStorage#PROPERTY} names a
 * fault: the entry point of the fault harness (bench) and of {@code ServeFailStopTest}. Without
 * the property it runs as {@link Main} does. The server's own {@link Main} never reads
 * the property, so no configuration of a real server can turn the faults on.
 *
 * <pre>
 * java -Deventbank.faults=journal-fsync@40 -cp ... eventbank.testkit.FaultInjectingMain serve --data-dir data
 * </pre>
 */
public final class FaultInjectingMain {
    private FaultInjectingMain() {}

    public static void main(String[] args) {
        Main.run(EventbankCommand.commandLine(System.getenv(), (config, console) -> BankService.start(config,
                withFaults(config.engineConfig()), config.http().host(), config.http().port(), console,
                Clock.systemUTC())), args);
    }

    /** {@code engine} with its storage wrapped in the fault the system property names, if any. */
    static EngineConfig withFaults(EngineConfig engine) {
        return engine.toBuilder()
                .storage(FaultInjectingStorage.fromSystemProperty(engine.storage(), engine.dataDirectory()),
                        engine.lockDataDirectory())
                .build();
    }
}
