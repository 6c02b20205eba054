package eventbank.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.engine.keys.KeysFencedException;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.keys.PersonalKeysException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key store of a cluster in a real PostgreSQL ({@link PostgresKeyTable}): one header for
 * every node, slots written only at the journal's writer epoch, a rotation that replaces every
 * row in one transaction and is refused while a leader's lease holds.
 */
class PostgresKeyTableTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path temp;

    @BeforeEach
    void schema() throws Exception {
        Schema.migrate(postgres.config("setup"));
    }

    @Test
    void theFirstWriterMakesTheHeaderAndEveryNodeWithTheSameKekOpensWhatItSealed() throws Exception {
        Path kek = temp.resolve("kek");
        assertThatThrownBy(() -> openReader(kek)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining("holds no header yet: start a writer first");
        byte[] sealed;
        try (PersonalKeys writer = PersonalKeys.open(new PostgresKeyTable(postgres.config("a")), kek, true)) {
            writer.leadAt(0);
            sealed = writer.sealNew(0, 1_000_000_000_000_001L, "alice@example.com", "$2a$hash");
            writer.force();
        }
        assertThat(kek).exists();
        try (PersonalKeys other = PersonalKeys.open(new PostgresKeyTable(postgres.config("b")), kek, true)) {
            assertThat(other.open(0, 1_000_000_000_000_001L, sealed).email()).isEqualTo("alice@example.com");
            assertThat(other.storedEmailDigest(0, 1_000_000_000_000_001L)).isEqualTo(other.emailDigest("ALICE@example.com"));
        }
        // A node with a KEK of its own is refused, not given a store of its own.
        Path another = temp.resolve("another-kek");
        assertThatThrownBy(() -> PersonalKeys.open(new PostgresKeyTable(postgres.config("c")), another, true))
                .isInstanceOf(PersonalKeysException.class).hasMessageContaining("does not exist");
        assertThat(another).doesNotExist();
    }

    @Test
    void aDeposedLeaderWritesNoKey() throws Exception {
        Path kek = temp.resolve("kek");
        try (PersonalKeys keys = PersonalKeys.open(new PostgresKeyTable(postgres.config("a")), kek, true)) {
            keys.leadAt(3); // the head is at epoch 0: another leader holds it, or none
            keys.sealNew(7, 1_000_000_000_000_007L, "bob@example.com", "$2a$hash");
            assertThatThrownBy(keys::force).isInstanceOf(KeysFencedException.class)
                    .hasMessageContaining("writer epoch 0, not at this leader's 3");
            assertThat(slotRows()).isZero();
            keys.leadAt(0);
            keys.sealNew(7, 1_000_000_000_000_007L, "bob@example.com", "$2a$hash");
            keys.force();
            assertThat(slotRows()).isOne();
        }
    }

    @Test
    void aRotationReplacesEveryKeyAndIsRefusedWhileALeaseHolds() throws Exception {
        Path kek = temp.resolve("kek");
        byte[] sealed;
        try (PersonalKeys keys = PersonalKeys.open(new PostgresKeyTable(postgres.config("a")), kek, true)) {
            keys.leadAt(0);
            sealed = keys.sealNew(0, 1_000_000_000_000_001L, "alice@example.com", "$2a$hash");
            keys.sealNew(1, 1_000_000_000_000_002L, "bob@example.com", "$2a$hash");
            keys.force();
            keys.erase(1, 1_000_000_000_000_002L);
        }
        byte[] oldKek = Files.readAllBytes(kek);
        PersonalKeys stale = PersonalKeys.open(new PostgresKeyTable(postgres.config("stale")), kek, false);
        try (stale; Connection connection = postgres.connect(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE eventbank_head SET leader_name = 'a',"
                    + " lease_expires_at = clock_timestamp() + interval '1 hour'");
            assertThatThrownBy(() -> PersonalKeys.rotate(new PostgresKeyTable(postgres.config("rotate")), kek))
                    .isInstanceOf(IOException.class).hasMessageContaining("stop every node");
            assertThat(Files.readAllBytes(kek)).as("nothing changed").isEqualTo(oldKek);
            statement.executeUpdate("UPDATE eventbank_head SET lease_expires_at = clock_timestamp() - interval '1 second'");

            PersonalKeys.RotationReport report = PersonalKeys.rotate(new PostgresKeyTable(postgres.config("rotate")), kek);
            assertThat(report.liveKeys()).isOne();
            assertThat(report.erasedSlots()).isOne();
            assertThat(Files.readAllBytes(kek)).isNotEqualTo(oldKek);
            assertThat(kek.resolveSibling("kek.new")).doesNotExist();
            try (ResultSet head = statement.executeQuery("SELECT epoch FROM eventbank_head")) {
                head.next();
                assertThat(head.getLong(1)).as("a leader of the old epoch is fenced").isOne();
            }
            // A node still running with the old KEK, even leading at the new epoch, writes no key under it.
            stale.leadAt(1);
            stale.sealNew(5, 1_000_000_000_000_005L, "carol@example.com", "$2a$hash");
            assertThatThrownBy(stale::force).isInstanceOf(KeysFencedException.class)
                    .hasMessageContaining("holds another header");
            assertThat(slotRows()).isEqualTo(2);
        }
        try (PersonalKeys keys = PersonalKeys.open(new PostgresKeyTable(postgres.config("b")), kek, false)) {
            assertThat(keys.open(0, 1_000_000_000_000_001L, sealed).email()).isEqualTo("alice@example.com");
            assertThat(keys.isErased(1, 1_000_000_000_000_002L)).isTrue();
        }
        // The old KEK, kept aside (a backup's), no longer opens the store.
        Path kept = temp.resolve("old-kek");
        Files.write(kept, oldKek);
        assertThatThrownBy(() -> openReader(kept)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining("holds keys wrapped by key-encryption key");
    }

    private static PersonalKeys openReader(Path kek) throws IOException {
        return PersonalKeys.open(new PostgresKeyTable(postgres.config("reader")), kek, false);
    }

    private static long slotRows() throws Exception {
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT count(*) FROM eventbank_data_keys")) {
            rows.next();
            return rows.getLong(1);
        }
    }
}
