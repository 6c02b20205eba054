package eventbank.postgres;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Creates the journal's tables, or brings them up to this build's version, with Flyway's
 * migrations in {@code eventbank/postgres/migration}. Flyway locks the schema while it migrates,
 * so nodes starting together migrate once; its history is the table {@code eventbank_schema_history}.
 */
final class Schema {
    static final String HISTORY_TABLE = "eventbank_schema_history";

    private Schema() {}

    /**
     * Migrates, on the primary (a multi-host URL may name standbys first); a database that cannot be
     * reached, or a migration that fails, is a {@link JournalDatabaseException}.
     */
    static void migrate(PostgresJournalConfig config) throws JournalDatabaseException {
        PGSimpleDataSource primary = new PGSimpleDataSource();
        primary.setURL(config.url());
        if (config.user() != null) {
            primary.setUser(config.user());
        }
        if (config.password() != null) {
            primary.setPassword(config.password());
        }
        primary.setTargetServerType("primary");
        primary.setApplicationName(config.nodeName());
        try {
            Flyway.configure()
                    .dataSource(primary)
                    .locations("classpath:eventbank/postgres/migration")
                    .table(HISTORY_TABLE)
                    .load()
                    .migrate();
        } catch (FlywayException e) {
            // Flyway's messages go on over several lines of details (SQL state, error code).
            String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new JournalDatabaseException("creating or migrating the journal's tables in " + config.shownUrl()
                    + " failed: " + message, e);
        }
    }
}
