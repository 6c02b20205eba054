package eventbank.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Bank;
import eventbank.core.Event;
import eventbank.engine.cluster.ClusterNode;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.MalformedRecordException;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.write.Sequencer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that follows the journal in PostgreSQL and meets what it cannot apply: an event type
 * this build does not know. It stops rather than misapply it, at start or while it follows.
 */
class ClusterNodeTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final byte UNKNOWN_TYPE = 99;

    @TempDir
    Path temp;

    @Test
    void aFollowerThatMeetsAnUnknownEventTypeStopsWithoutApplyingIt() throws Exception {
        try (PostgresJournal writer = PostgresJournal.open(postgres.config("writer"), 0, null, batch -> { },
                (seq, hash, torn) -> { })) {
            append(writer, opened(1_000_000_000_000_001L));
            publishDurable(writer);
            AtomicLong followed = new AtomicLong();
            try (ClusterNode reader = ClusterNode.start(new PostgresSharedJournal(postgres.config("reader"), false),
                    snapshots(), settings("reader"), host(followed))) {
                assertThat(reader.committedSeq()).isEqualTo(1);

                append(writer, record(UNKNOWN_TYPE));
                append(writer, opened(1_000_000_000_000_002L));
                publishDurable(writer);
                Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
                while (reader.failure() == null && Instant.now().isBefore(deadline)) {
                    Thread.sleep(10);
                }
                assertThat(reader.failure()).isInstanceOf(MalformedRecordException.class)
                        .hasMessageContaining("unknown event type " + UNKNOWN_TYPE);
                assertThat(reader.committedSeq()).as("nothing at or after the unknown event is shown").isEqualTo(1);
                assertThat(reader.status().problem()).startsWith("the node stopped");
            }

            // And a node that starts on that journal refuses to start.
            assertThatThrownBy(() -> ClusterNode.start(new PostgresSharedJournal(postgres.config("late"), false),
                    snapshots(), settings("late"), host(followed)))
                    .isInstanceOf(MalformedRecordException.class);
        }
    }

    @Test
    void aWriterRefusesToLeadWhilePostgresqlIsNotDurableEnoughAndSaysWhy() throws Exception {
        ClusterNode.Settings writer = new ClusterNode.Settings("writer", "http://writer.test", true,
                Duration.ofSeconds(1), Duration.ofMillis(20), Duration.ofHours(1).toNanos() / 1_000);
        PostgresSharedJournal shared = new PostgresSharedJournal(postgres.config("writer"), true);
        shared.migrate();
        try (ClusterNode node = ClusterNode.start(shared, snapshots(), writer, host(new AtomicLong()))) {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
            while (node.status().problem() == null && Instant.now().isBefore(deadline)) {
                Thread.sleep(10);
            }
            assertThat(node.status().problem()).contains("no synchronous standby");
            assertThat(node.role()).isEqualTo(ClusterNode.Role.STANDBY);
            assertThat(node.leading()).isFalse();
            try (PostgresSharedJournal look = new PostgresSharedJournal(postgres.config("look"), false)) {
                assertThat(look.head().epoch()).as("it never took the journal over").isZero();
            }
        }
    }

    /** A database whose commits do not wait for their WAL (synchronous_commit off) is refused too, standby or not. */
    @Test
    void aWriterRefusesToLeadWhileCommitsDoNotWaitForTheirWal() throws Exception {
        try (Connection admin = postgres.connect(); Statement statement = admin.createStatement()) {
            statement.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off',"
                    + " current_database()); END $$");
        }
        ClusterNode.Settings writer = new ClusterNode.Settings("writer", "http://writer.test", true,
                Duration.ofSeconds(1), Duration.ofMillis(20), Duration.ofHours(1).toNanos() / 1_000);
        PostgresSharedJournal shared = new PostgresSharedJournal(postgres.config("writer"), false);
        shared.migrate();
        try (ClusterNode node = ClusterNode.start(shared, snapshots(), writer, host(new AtomicLong()))) {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
            while (node.status().problem() == null && Instant.now().isBefore(deadline)) {
                Thread.sleep(10);
            }
            assertThat(node.status().problem()).contains("synchronous_commit off");
            assertThat(node.leading()).isFalse();
        }
    }

    private SnapshotStore snapshots() {
        return new SnapshotStore(new FileStorage(), temp.resolve("snapshots"), eventbank.core.EmailDigests.ephemeral());
    }

    private static ClusterNode.Settings settings(String name) {
        return new ClusterNode.Settings(name, "http://" + name + ".test", false, Duration.ofSeconds(1),
                Duration.ofMillis(20), Duration.ofHours(1).toNanos() / 1_000);
    }

    private static ClusterNode.Host host(AtomicLong followed) {
        return new ClusterNode.Host() {
            @Override
            public Sequencer lead(Bank bank, Journal journal, long epoch) {
                throw new AssertionError("a reader never leads");
            }

            @Override
            public void followed(long seq) {
                followed.set(seq);
            }

            @Override
            public void diverged() {
                throw new AssertionError("the journal keeps its history in these tests");
            }
        };
    }

    /** Makes every committed batch visible to followers, as the leader's heartbeat does. */
    private static void publishDurable(PostgresJournal writer) throws IOException {
        try (PostgresSharedJournal shared = new PostgresSharedJournal(postgres.config("heartbeat"), false)) {
            assertThat(shared.renewLease(writer.epoch(), writer.lastSeq())).isTrue();
        }
    }

    private static ByteBuffer opened(long accountNumber) {
        ByteBuffer records = ByteBuffer.allocate(EventCodec.RECORD_BYTES_MAX);
        EventCodec.encode(records, 1_700_000_000_000_000L, new Event.AccountOpened(accountNumber,
                "someone@example.com", "$2a$04$" + "x".repeat(53), 100_000, null));
        return records.flip();
    }

    /** A record as a later build might write it: a type this build does not know, with no fields. */
    private static ByteBuffer record(byte type) {
        ByteBuffer records = ByteBuffer.allocate(12);
        records.putShort((short) 10).put(type).put((byte) 1).putLong(1_700_000_000_000_000L);
        return records.flip();
    }

    private static void append(PostgresJournal writer, ByteBuffer records) throws IOException {
        ByteBuffer batch = ByteBuffer.allocateDirect(JournalFormat.BATCH_HEADER_BYTES + records.remaining());
        batch.position(JournalFormat.BATCH_HEADER_BYTES).put(records).flip();
        writer.append(batch, writer.lastSeq() + 1, 1);
        writer.force();
    }
}
