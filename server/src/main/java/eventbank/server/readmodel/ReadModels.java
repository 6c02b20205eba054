package eventbank.server.readmodel;

import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.engine.subscription.Subscriber;
import java.nio.file.Path;
import java.util.List;

/**
 * The read models the HTTP API answers queries from, subscribed to the engine through {@link
 * #subscribers}: one {@link #feed} for the three that live in memory, and the reports model on
 * its own.
 */
public record ReadModels(AccountsReadModel accounts, StatementsReadModel statements, OperationsReadModel operations,
                         ReportsReadModel reports) {
    /** The names of the models that keep checkpoints, which are their files' names. */
    private static final List<String> CHECKPOINTED = List.of("reports");

    /** Every model, keeping checkpoints as {@code checkpoints} says, with the engine's idempotency window. */
    public static ReadModels of(Checkpoints checkpoints, long idempotencyWindowMicros) {
        return new ReadModels(new AccountsReadModel(), new StatementsReadModel(),
                new OperationsReadModel(idempotencyWindowMicros), new ReportsReadModel(checkpoints));
    }

    /** Every model's checkpoint as durable proof of a committed seq, for recovery (see {@code DurableEvidence}). */
    public static List<DurableEvidence.Source> evidence(Storage storage, Path dataDirectory) {
        return CHECKPOINTED.stream().map(model -> ReadModel.evidence(storage, dataDirectory, model)).toList();
    }

    /** Every model, for metrics and health. */
    public List<ReadModel> all() {
        return List.of(accounts, statements, operations, reports);
    }

    /**
     * One subscriber that feeds the models that live in memory only (accounts, statements,
     * operations), each batch read and decoded once for the three: they all start at seq 0.
     */
    public ReadModelFeed feed() {
        return new ReadModelFeed(List.of(accounts, statements, operations));
    }

    /**
     * What to subscribe: a new {@link #feed} and the reports model, which keeps a subscription of
     * its own. It starts from its checkpoint and so is ready long before a rebuild of the others
     * from seq 0 is done; and its queries over every account (inactive users) hold its lock
     * long, which would stall the feed's other models if it were one of them.
     */
    public List<Subscriber> subscribers() {
        return List.of(feed(), reports);
    }
}
