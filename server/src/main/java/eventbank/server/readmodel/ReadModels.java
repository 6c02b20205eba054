package eventbank.server.readmodel;

import eventbank.engine.subscription.Subscriber;
import java.util.List;

/**
 * The read models the HTTP API answers queries from, subscribed to the engine through {@link
 * #subscribers}: one {@link #feed} for the three that live in memory, and the reports model on
 * its own.
 */
public record ReadModels(AccountsReadModel accounts, StatementsReadModel statements, OperationsReadModel operations,
                         ReportsReadModel reports) {

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
