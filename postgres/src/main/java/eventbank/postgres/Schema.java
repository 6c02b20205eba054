package eventbank.postgres;

import org.flywaydb.core.Flyway;

/**
 * Creates the journal's tables, or brings them up to this build's version, with Flyway's
 * migrations in {@code eventbank/postgres/migration}. Flyway locks the schema while it migrates,
 * so nodes starting together migrate once; its history is the table {@code eventbank_schema_history}.
 */
final class Schema {
    static final String HISTORY_TABLE = "eventbank_schema_history";

    private Schema() {}

    static void migrate(PostgresJournalConfig config) {
        Flyway.configure()
                .dataSource(config.url(), config.user(), config.password())
                .locations("classpath:eventbank/postgres/migration")
                .table(HISTORY_TABLE)
                .load()
                .migrate();
    }
}
