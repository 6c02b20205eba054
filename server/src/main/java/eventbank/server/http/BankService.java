package eventbank.server.http;

import eventbank.engine.Engine;
import eventbank.server.config.Config;
import eventbank.server.mail.FileMailTransport;
import eventbank.server.mail.MailTransport;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.OutboxSettings;
import eventbank.server.readmodel.AccountsReadModel;
import eventbank.server.readmodel.OperationsReadModel;
import eventbank.server.readmodel.ReportsReadModel;
import eventbank.server.readmodel.StatementsReadModel;
import java.io.IOException;
import java.io.PrintStream;

/**
 * Everything {@code serve} runs, started in order (engine, read models, outbox, HTTP) and closed
 * in reverse: HTTP stops taking requests, the outbox stops, the engine finishes the batch in
 * flight and releases the data directory.
 */
public final class BankService implements AutoCloseable {
    private final Engine engine;
    private final ReadModels readModels;
    private final Outbox outbox;
    private final BankServer server;

    private BankService(Engine engine, ReadModels readModels, Outbox outbox, BankServer server) {
        this.engine = engine;
        this.readModels = readModels;
        this.outbox = outbox;
        this.server = server;
    }

    /**
     * Starts the bank on {@code config}, listening on {@code port} (0: any free port; the
     * configuration's own http.port is at least 1). The file mail transport prints
     * verification links to {@code console}. SMTP and Mailgun come with the mail issue.
     */
    public static BankService start(Config config, String host, int port, PrintStream console) throws IOException {
        Engine engine = Engine.start(config.engineConfig());
        Outbox outbox = null;
        try {
            ReadModels readModels = new ReadModels(new AccountsReadModel(), new StatementsReadModel(),
                    new OperationsReadModel(config.idempotencyWindowMicros()),
                    new ReportsReadModel(engine.config().storage(), config.dataDirectory(), engine::committedSeq,
                            ReportsReadModel.CHECKPOINT_EVERY_EVENTS_DEFAULT));
            for (eventbank.server.readmodel.ReadModel model : readModels.all()) {
                engine.subscribe(model);
            }
            MailTransport transport = switch (config.mailTransport()) {
                case FILE -> new FileMailTransport(Outbox.directoryOf(config.dataDirectory()),
                        engine.config().storage(), console);
                default -> throw new IllegalArgumentException("mail.transport=" + config.mailTransport()
                        + " is not available yet; use file");
            };
            outbox = Outbox.of(engine, transport, OutboxSettings.of(config.publicUrl().toString(), config.mailFrom()));
            engine.subscribe(outbox);
            BankServer server = new BankServer(engine, readModels, config).start(host, port);
            return new BankService(engine, readModels, outbox, server);
        } catch (RuntimeException e) {
            if (outbox != null) {
                outbox.close();
            }
            try {
                engine.close();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    public Engine engine() {
        return engine;
    }

    public ReadModels readModels() {
        return readModels;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            server.close();
        } finally {
            outbox.close();
            engine.close();
        }
    }
}
