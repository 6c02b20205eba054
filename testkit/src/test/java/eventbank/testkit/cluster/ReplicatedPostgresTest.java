package eventbank.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The harness of the PostgreSQL failover tests does what it says: a commit waits for the
 * synchronous standby (stopped, the standby holds the commit back); after the primary's machine
 * is lost, the promoted standby has every commit the primary returned, and a new standby, on the
 * killed primary's port, is in sync with it.
 */
class ReplicatedPostgresTest {
    private static final String DATABASE = "harness";

    @Test
    void aSynchronousStandbyHoldsEveryCommitThroughTheLossOfThePrimary() throws Exception {
        try (ReplicatedPostgres postgres = ReplicatedPostgres.start(ReplicatedPostgres.Replication.SYNCHRONOUS)) {
            postgres.createDatabase(DATABASE);
            ReplicatedPostgres.Instance first = postgres.primary();
            ReplicatedPostgres.Instance standby = postgres.synchronousStandby();
            try (Connection connection = primaryOf(postgres);
                 Statement statement = connection.createStatement()) {
                statement.execute("CREATE TABLE committed (n int PRIMARY KEY)");
                statement.execute("INSERT INTO committed SELECT generate_series(1, 100)");
            }

            postgres.stopStandby(standby);
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> insert(postgres, 101));
            awaitSyncRepWait(first);
            assertThat(waiting).isNotDone();
            postgres.continueStandby(standby);
            waiting.get(60, TimeUnit.SECONDS);

            postgres.killPrimary();
            assertThat(first.running()).isFalse();
            postgres.awaitReplayed(standby);
            postgres.promote(standby);
            assertThat(postgres.primary()).isSameAs(standby);
            insert(postgres, 102);
            assertThat(count(standby)).isEqualTo(102);

            ReplicatedPostgres.Instance next = postgres.addStandby(ReplicatedPostgres.Replication.SYNCHRONOUS);
            assertThat(next.port()).as("the new standby takes the killed primary's port").isEqualTo(first.port());
            insert(postgres, 103);
            postgres.awaitReplayed(next);
            assertThat(count(next)).isEqualTo(103);
        }
    }

    /** Waits until a session of {@code primary} waits for the synchronous standby (wait event SyncRep). */
    private static void awaitSyncRepWait(ReplicatedPostgres.Instance primary) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Connection connection = DriverManager.getConnection(primary.url(DATABASE));
             Statement statement = connection.createStatement()) {
            while (true) {
                try (ResultSet waits = statement.executeQuery("SELECT count(*) FROM pg_stat_activity"
                        + " WHERE wait_event = 'SyncRep'")) {
                    waits.next();
                    if (waits.getInt(1) > 0) {
                        return;
                    }
                }
                assertThat(System.nanoTime() - deadline).as("a commit waits for the stopped standby").isNegative();
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }
    }

    private static Connection primaryOf(ReplicatedPostgres postgres) throws SQLException {
        return DriverManager.getConnection(postgres.url(DATABASE) + "&targetServerType=primary");
    }

    private static void insert(ReplicatedPostgres postgres, int n) {
        try (Connection connection = primaryOf(postgres);
             Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO committed VALUES (" + n + ")");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long count(ReplicatedPostgres.Instance instance) throws SQLException {
        try (Connection connection = DriverManager.getConnection(instance.url(DATABASE));
             Statement statement = connection.createStatement();
             ResultSet count = statement.executeQuery("SELECT count(*) FROM committed")) {
            count.next();
            return count.getLong(1);
        }
    }
}
