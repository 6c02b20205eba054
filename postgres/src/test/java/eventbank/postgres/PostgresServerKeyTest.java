package eventbank.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cluster's server key in a real PostgreSQL: made once by the first writer, the same for every node. */
class PostgresServerKeyTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @Test
    void nodesStartingTogetherAllGetTheOneKeyTheFirstMade() throws Exception {
        assertThat(PostgresServerKey.load(postgres.config("reader"))).as("none before the schema").isEmpty();
        int nodes = 4;
        ExecutorService starting = Executors.newFixedThreadPool(nodes);
        try {
            List<Callable<byte[]>> starts = IntStream.range(0, nodes).<Callable<byte[]>>mapToObj(node ->
                    () -> PostgresServerKey.loadOrCreate(postgres.config("node-" + node))).toList();
            List<Future<byte[]>> keys = starting.invokeAll(starts);
            byte[] first = keys.get(0).get();
            assertThat(first).hasSize(PostgresServerKey.KEY_BYTES);
            for (Future<byte[]> key : keys) {
                assertThat(key.get()).isEqualTo(first);
            }
            assertThat(PostgresServerKey.loadOrCreate(postgres.config("later"))).isEqualTo(first);
            assertThat(PostgresServerKey.load(postgres.config("reader"))).hasValueSatisfying(
                    key -> assertThat(key).isEqualTo(first));
        } finally {
            starting.shutdownNow();
        }
    }

    @Test
    void storeReplacesTheKeyAndRefusesAShortOne() throws Exception {
        byte[] made = PostgresServerKey.loadOrCreate(postgres.config("node-a"));
        byte[] migrated = "a server key of thirty-two bytes, and more".getBytes();
        PostgresServerKey.store(postgres.config("migrate"), migrated);
        assertThat(PostgresServerKey.loadOrCreate(postgres.config("node-a"))).isEqualTo(migrated).isNotEqualTo(made);
        assertThatThrownBy(() -> PostgresServerKey.store(postgres.config("migrate"), new byte[31]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
