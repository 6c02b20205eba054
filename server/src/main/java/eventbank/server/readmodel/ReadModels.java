package eventbank.server.readmodel;

import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.engine.subscription.Subscriber;
import java.nio.file.Path;
import java.util.List;

/**
 * The read models the HTTP API answers queries from, subscribed to the engine through {@link
 * #subscribers}.
 */
public record ReadModels(AccountsReadModel accounts, StatementsReadModel statements, OperationsReadModel operations,
                         ReportsReadModel reports) {
    /** The names of the models that keep checkpoints, which are their files' names. */
    private static final List<String> CHECKPOINTED = List.of("accounts", "operations", "reports", "statements");

    /** Every model, keeping checkpoints as {@code checkpoints} says, with the engine's idempotency window. */
    public static ReadModels of(Checkpoints checkpoints, long idempotencyWindowMicros) {
        return new ReadModels(new AccountsReadModel(checkpoints), new StatementsReadModel(checkpoints),
                new OperationsReadModel(checkpoints, idempotencyWindowMicros), new ReportsReadModel(checkpoints));
    }

    /** Every model's checkpoint as durable proof of a committed seq, for recovery (see {@code DurableEvidence}). */
    public static List<DurableEvidence.Source> evidence(Storage storage, Path dataDirectory) {
        return CHECKPOINTED.stream().map(model -> ReadModel.evidence(storage, dataDirectory, model)).toList();
    }

    /**
     * Starts loading every model's checkpoint, each on a thread of its own ({@link
     * ReadModel#preload}): a server calls this before the engine recovers, and each model checks
     * what it loaded against the journal when its subscription starts.
     */
    public void preload() {
        all().forEach(ReadModel::preload);
    }

    /** Every model, for metrics and health. */
    public List<ReadModel> all() {
        return List.of(accounts, statements, operations, reports);
    }

    /**
     * What to subscribe: one {@link ReadModelFeed} for every model, so that each batch is read
     * and decoded once for all of them. Each model starts from its own checkpoint and is handed
     * only the events after it.
     */
    public List<Subscriber> subscribers() {
        return List.of(new ReadModelFeed(all()));
    }
}
