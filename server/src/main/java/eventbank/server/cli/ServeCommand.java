package eventbank.server.cli;

import eventbank.server.log.BatchingConsoleAppender;
import eventbank.server.config.Config;
import eventbank.server.config.ConfigException;
import eventbank.server.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code eventbank serve}: the bank on HTTP. Each option overrides its configuration key (which
 * the environment and the properties file set otherwise; DESIGN.md, "Configuration"). SIGTERM
 * (or Ctrl-C) stops it cleanly: no new requests, the outbox stops, the batch in flight is
 * finished and the journal closed, exit 0; exit 1 when the journal had failed (fail-stop).
 */
@Command(name = "serve", sortOptions = false,
        description = "Runs the bank's HTTP API (mail goes to DATA_DIR/outbox/ as .eml files unless mail.transport"
                + " says smtp or mailgun).",
        footer = {"", "Exit codes: 0 stopped cleanly, 1 start failed or the journal had failed (fail-stop),",
                "2 usage or configuration error, 3 data directory locked or unreadable."})
public final class ServeCommand implements Callable<Integer> {
    /** Starts the server {@code serve} runs: the command line knows it by this alone. */
    @FunctionalInterface
    public interface Starter {
        /**
         * Starts the bank on {@code config}; the file mail transport prints verification links to
         * {@code console}.
         */
        Running start(Config config, PrintStream console) throws IOException;
    }

    /** A started server: where it listens, whether its journal failed, and how to stop it. */
    public interface Running extends AutoCloseable {
        int port();

        /** Why the journal failed and the server stopped taking changes (fail-stop), or null. */
        Throwable journalFailure();
    }

    private final Map<String, String> environment;
    private final Starter server;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The properties file (default: ./eventbank.properties when present).")
    private Path configFile;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "data.dir: where the journal and all lives.")
    private String dataDirectory;

    @Option(names = "--port", paramLabel = "PORT", description = "http.port (default 8080).")
    private String port;

    @Option(names = "--host", paramLabel = "HOST", description = "http.host (default 127.0.0.1).")
    private String host;

    @Mixin
    private HelpOption help;

    ServeCommand(Map<String, String> environment, Starter server) {
        this.environment = environment;
        this.server = server;
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> overrides = new HashMap<>();
        if (dataDirectory != null) {
            overrides.put("data.dir", dataDirectory);
        }
        if (port != null) {
            overrides.put("http.port", port);
        }
        if (host != null) {
            overrides.put("http.host", host);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Config config;
        try {
            config = new ConfigLoader(environment, Path.of("").toAbsolutePath()).load(configFile, overrides);
        } catch (ConfigException e) {
            err.println("eventbank serve: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        PrintStream console = new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                out.write(b);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                out.write(new String(bytes, offset, length, StandardCharsets.UTF_8));
                out.flush();
            }
        }, true, StandardCharsets.UTF_8);
        Running service = server.start(config, console);
        // After the start, so that a refused start (data directory locked) is one line; after the
        // start's log lines too, which the log writes a batch at a time.
        BatchingConsoleAppender.flushAll();
        err.println(config.describe());
        err.flush();
        String host = config.http().host();
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        out.println("eventbank: serving on http://" + shownHost + ":" + service.port()
                + " (data directory " + config.data().directory().toAbsolutePath().normalize()
                + "); stop with Ctrl-C or SIGTERM");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            int exitCode = ExitCodes.OK;
            try {
                // Read before closing: a server that failed stop must not end as if all were
                // well, or a supervisor that trusts exit 0 would never hear of it.
                Throwable failure = service.journalFailure();
                service.close();
                if (failure == null) {
                    out.println("eventbank: stopped cleanly");
                } else {
                    err.println("eventbank serve: stopped after the journal failed (" + failure + "); every"
                            + " acknowledged change is on disk: fix the cause, then start again");
                    exitCode = ExitCodes.CHECK_FAILED;
                }
            } catch (Exception e) {
                err.println("eventbank serve: the shutdown failed: " + e);
                exitCode = ExitCodes.CHECK_FAILED;
            } finally {
                BatchingConsoleAppender.flushAll(); // halt runs no other hook: the log's last lines first
                out.flush();
                err.flush();
                stopped.countDown();
            }
            // A signal would otherwise end the JVM with 128+signal; a clean stop is exit 0.
            Runtime.getRuntime().halt(exitCode);
        }, "eventbank-shutdown"));
        stopped.await();
        return ExitCodes.OK;
    }
}
