package eventbank.server.http;

import eventbank.server.readmodel.AccountsReadModel;
import eventbank.server.readmodel.OperationsReadModel;
import eventbank.server.readmodel.StatementsReadModel;

/** The read models the HTTP API answers queries from, subscribed to the engine. */
public record ReadModels(AccountsReadModel accounts, StatementsReadModel statements, OperationsReadModel operations) {}
