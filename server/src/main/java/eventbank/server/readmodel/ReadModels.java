package eventbank.server.readmodel;

import java.util.List;

/** The read models the HTTP API answers queries from, subscribed to the engine through one {@link #feed}. */
public record ReadModels(AccountsReadModel accounts, StatementsReadModel statements, OperationsReadModel operations,
                         ReportsReadModel reports) {

    /** Every model, for metrics and health. */
    public List<ReadModel> all() {
        return List.of(accounts, statements, operations, reports);
    }

    /** One subscriber that feeds every model, each batch read and decoded once: subscribe it, not the models. */
    public ReadModelFeed feed() {
        return new ReadModelFeed(all());
    }
}
