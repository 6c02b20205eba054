package eventbank.server.readmodel;


/** The read models the HTTP API answers queries from, subscribed to the engine. */
public record ReadModels(AccountsReadModel accounts, StatementsReadModel statements, OperationsReadModel operations,
                         ReportsReadModel reports) {

    /** Every model, for metrics and health. */
    public java.util.List<eventbank.server.readmodel.ReadModel> all() {
        return java.util.List.of(accounts, statements, operations, reports);
    }
}
