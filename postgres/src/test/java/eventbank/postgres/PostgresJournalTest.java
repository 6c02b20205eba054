package eventbank.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.engine.journal.BatchNotRecordedException;
import eventbank.engine.journal.CommitOutcomeUnknownException;
import eventbank.engine.journal.FileJournal;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFencedException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.SnapshotMismatchException;
import eventbank.engine.recovery.RecoveryRefusedException;
import eventbank.engine.storage.FileStorage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal in a real PostgreSQL: the same bytes and batches as the file journal, the chain
 * across reopening, the fence between two writers, and commits that must not count as durable.
 */
class PostgresJournalTest {
    /** Small segments, so that the file journal's batches spread over several files. */
    private static final long SEGMENT_BYTES_SMALL = 4096;
    private static final Journal.EndCheck NO_END_CHECK = (lastSeq, headHash, tornTail) -> { };

    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path temporary;

    private final Batches batches = new Batches(20261206);

    @Test
    void batchesAreStoredAndReadBackAsTheFileJournalWritesThem() throws Exception {
        try (FileJournal file = openFile(); PostgresJournal database = open("node-a")) {
            batches.appendRandom(40, file, database);
            assertThat(database.lastSeq()).isEqualTo(file.lastSeq());
            assertThat(database.headHash()).isEqualTo(file.headHash());
            assertThat(rowBytes()).isEqualTo(segmentBatchBytes());

            long last = file.lastSeq();
            for (long afterSeq : new long[] {0, 1, 2, 7, last / 2, last - 1, last, last + 3}) {
                for (long seqLimit : new long[] {last / 3, Long.MAX_VALUE}) {
                    assertThat(read(database.newReader(), afterSeq, seqLimit))
                            .as("from seq %d up to %d", afterSeq, seqLimit)
                            .isEqualTo(read(file.newReader(), afterSeq, seqLimit));
                }
            }
        }
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet storage = statement.executeQuery("SELECT attstorage FROM pg_attribute"
                     + " WHERE attrelid = 'eventbank_batches'::regclass AND attname = 'batch'")) {
            storage.next();
            assertThat(storage.getString(1)).as("stored uncompressed").isEqualTo("e");
        }
    }

    @Test
    void reopeningFindsTheHeadAndTheChainGoesOn() throws Exception {
        try (FileJournal file = openFile()) {
            try (PostgresJournal database = open("node-a")) {
                batches.appendRandom(5, file, database);
            }
            long snapshotSeq;
            byte[] snapshotHash;
            long durableSeq;
            List<JournalReader.Batch> replayed = new ArrayList<>();
            try (PostgresJournal database = PostgresJournal.open(postgres.config("node-a"), 0, null, replayed::add,
                    NO_END_CHECK)) {
                assertThat(replayed).hasSize(5);
                assertThat(database.recovery().lastSeq()).isEqualTo(file.lastSeq());
                assertThat(database.recovery().headHash()).isEqualTo(file.headHash());
                assertThat(database.epoch()).isEqualTo(2);
                batches.appendRandom(2, file, database);
                snapshotSeq = file.lastSeq();
                snapshotHash = file.headHash();
                batches.appendRandom(3, file, database);
            }
            replayed.clear();
            try (PostgresJournal database = PostgresJournal.open(postgres.config("node-a"), snapshotSeq, snapshotHash,
                    replayed::add, NO_END_CHECK)) {
                assertThat(replayed).hasSize(3);
                assertThat(replayed.get(0).header().firstSeq()).isEqualTo(snapshotSeq + 1);
                assertThat(database.recovery().lastSeq()).isEqualTo(file.lastSeq());
                assertThat(database.headHash()).isEqualTo(file.headHash());
                batches.appendRandom(1, file, database);
                durableSeq = file.lastSeq();
                batches.appendRandom(1, file, database);
                assertThat(database.headHash()).isEqualTo(file.headHash());
            }
            assertThatThrownBy(() -> PostgresJournal.open(postgres.config("node-a"), snapshotSeq,
                    JournalFormat.HASH_ZERO, batch -> { }, NO_END_CHECK)).isInstanceOf(SnapshotMismatchException.class);
            // Known clean: every batch but the last, which no later commit followed.
            assertThat(head()).isEqualTo("epoch 3, seq " + file.lastSeq() + ", durable " + durableSeq + ", hash "
                    + HexFormat.of().formatHex(file.headHash()) + ", led by node-a");
        }
    }

    @Test
    void aStartTheEndCheckRefusesLeavesTheHeadAsItWas() throws Exception {
        try (PostgresJournal database = open("node-a")) {
            batches.appendRandom(3, database);
        }
        String before = head();
        Journal.EndCheck refuse = (lastSeq, headHash, tornTail) -> {
            throw new RecoveryRefusedException("a snapshot says seq " + (lastSeq + 10) + " was committed");
        };
        assertThatThrownBy(() -> PostgresJournal.open(postgres.config("node-b"), 0, null, batch -> { }, refuse))
                .isInstanceOf(RecoveryRefusedException.class);
        assertThat(head()).isEqualTo(before);
    }

    @Test
    void aDamagedOrMissingRowStopsTheOpeningAndIsNamed() throws Exception {
        try (PostgresJournal database = open("node-a")) {
            batches.append(2, database);
            batches.append(3, database);
            batches.append(1, database);
        }
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement()) {
            // A byte of the second batch's body flipped: its body CRC fails.
            statement.execute("UPDATE eventbank_batches SET batch = set_byte(batch, 70, 255 - get_byte(batch, 70))"
                    + " WHERE first_seq = 3");
            assertThatThrownBy(() -> open("node-a")).isInstanceOf(JournalCorruptException.class)
                    .hasMessageContaining("eventbank_batches").hasMessageContaining("row of seq 3")
                    .hasMessageContaining("CRC32C");
            statement.execute("UPDATE eventbank_batches SET batch = set_byte(batch, 70, 255 - get_byte(batch, 70))"
                    + " WHERE first_seq = 3");
            statement.execute("DELETE FROM eventbank_batches WHERE first_seq = 3");
            assertThatThrownBy(() -> open("node-a")).isInstanceOf(JournalCorruptException.class)
                    .hasMessageContaining("expected a batch starting at seq 3, found seq 6");
        }
        assertThat(head()).startsWith("epoch 1, seq 6,");
    }

    @Test
    void aSecondWriterFencesTheFirstAndNothingOfTheFirstsNextBatchIsStored() throws Exception {
        try (PostgresJournal first = open("node-a")) {
            batches.append(3, first);
            try (PostgresJournal second = open("node-b")) {
                assertThat(second.epoch()).isEqualTo(first.epoch() + 1);
                assertThat(second.recovery().lastSeq()).isEqualTo(3);
                String afterTakeover = head();

                assertThatThrownBy(() -> batches.append(2, first)).isInstanceOf(JournalFencedException.class)
                        .hasMessageContaining("epoch 2").hasMessageContaining("node-b");
                assertThat(rowFirstSeqs()).containsExactly(1L);
                assertThat(head()).isEqualTo(afterTakeover);

                batches.append(4, second);
                assertThat(rowFirstSeqs()).containsExactly(1L, 4L);
            }
        }
    }

    @Test
    void aTakeoverEndsTheSessionOfALeaderStoppedInTheMiddleOfABatch() throws Exception {
        // The first writer's own idle timeout (half its lease) would end its session only after
        // 30 s: here the second writer's takeover does, after waiting 200 ms for the lock.
        PostgresJournalConfig firstConfig = postgres.config("node-a").withLease(Duration.ofSeconds(60),
                Duration.ofSeconds(1));
        PostgresJournalConfig secondConfig = postgres.config("node-b").withLease(Duration.ofSeconds(2),
                Duration.ofMillis(200));
        try (PostgresJournal first = PostgresJournal.open(firstConfig, 0, null, batch -> { }, NO_END_CHECK)) {
            batches.append(3, first);
            batches.appendUnforced(2, first); // holds the head's row lock, uncommitted
            try (PostgresJournal second = PostgresJournal.open(secondConfig, 0, null, batch -> { }, NO_END_CHECK)) {
                assertThat(second.recovery().lastSeq()).isEqualTo(3);
                assertThatThrownBy(first::force).isInstanceOf(CommitOutcomeUnknownException.class);
                assertThat(rowFirstSeqs()).containsExactly(1L);
                batches.append(1, second);
                assertThat(rowFirstSeqs()).containsExactly(1L, 4L);
            }
        }
    }

    /**
     * A commit waiting for a synchronous standby (one that never comes) and cancelled returns a
     * warning, not an error: the batch is committed on this server, perhaps on no other. The
     * journal reads it back and acknowledges it (force returns) only once a later commit returned
     * cleanly: while no standby answers, each confirming commit waits too, and a cancelled one is
     * tried again; once the server no longer waits for a standby, the next one returns.
     */
    @Test
    void aCommitThatReturnsAWarningIsAcknowledgedOnlyOnceALaterCommitReturnsCleanly() throws Exception {
        try (PostgresJournal journal = open("node-a"); Connection admin = postgres.connect();
             Statement statement = admin.createStatement()) {
            batches.append(2, journal);
            try {
                statement.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
                reloadConfiguration(statement, "nobody");
                batches.appendUnforced(3, journal);
                CompletableFuture<Throwable> commit = CompletableFuture.supplyAsync(() -> {
                    try {
                        journal.force();
                        return null;
                    } catch (IOException e) {
                        return e;
                    }
                });
                int batchCommit = cancelSynchronousReplicationWait(statement, "node-a", 0);
                assertThat(rowFirstSeqs()).as("committed here all the same").containsExactly(1L, 3L);
                int firstConfirmation = cancelSynchronousReplicationWait(statement, "node-a", batchCommit);
                assertThat(firstConfirmation).as("read back in a new session").isNotEqualTo(batchCommit);
                awaitSynchronousReplicationWait(statement, "node-a", firstConfirmation);
                assertThat(commit).as("not acknowledged while no standby holds it").isNotDone();
                assertThat(head()).contains("seq 5, durable 2,");

                statement.execute("ALTER SYSTEM RESET synchronous_standby_names");
                reloadConfiguration(statement, "");
                assertThat(commit.get(30, TimeUnit.SECONDS)).as("acknowledged").isNull();
                batches.append(1, journal);
                assertThat(rowFirstSeqs()).as("the writer goes on").containsExactly(1L, 3L, 6L);
                assertThat(head()).contains("seq 6, durable 5,");
            } finally {
                statement.execute("ALTER SYSTEM RESET synchronous_standby_names");
                reloadConfiguration(statement, "");
            }
        }
    }

    /**
     * A commit whose session ends under it (the server process killed: the outcome unknown) is
     * read back; its batch is not in the journal, so the journal says so, and none of it is
     * acknowledged.
     */
    @Test
    void aCommitWhoseSessionEndsIsReadBackAndFoundMissing() throws Exception {
        try (PostgresJournal journal = open("node-b"); Connection admin = postgres.connect();
             Statement statement = admin.createStatement()) {
            batches.append(2, journal);
            batches.appendUnforced(3, journal);
            try (ResultSet ended = statement.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE application_name = 'node-b'")) {
                assertThat(ended.next()).isTrue();
                assertThat(ended.getBoolean(1)).isTrue();
            }
            assertThatThrownBy(journal::force).isInstanceOf(BatchNotRecordedException.class)
                    .hasMessageContaining("after seq 2 up to seq 5 are not in the journal");
            assertThat(rowFirstSeqs()).containsExactly(1L);
            assertThat(head()).contains("seq 2, durable 0,");
        }
    }

    private PostgresJournal open(String nodeName) throws IOException {
        return PostgresJournal.open(postgres.config(nodeName), 0, null, batch -> { }, NO_END_CHECK);
    }

    private FileJournal openFile() throws IOException {
        return FileJournal.recover(new FileStorage(), temporary.resolve("journal"), SEGMENT_BYTES_SMALL, 0, null,
                batch -> { });
    }

    /** Every batch a reader hands out from {@code afterSeq} up to {@code seqLimit}, as text to compare. */
    private static List<String> read(Journal.Reader reader, long afterSeq, long seqLimit) throws IOException {
        List<String> read = new ArrayList<>();
        try (reader) {
            reader.seek(afterSeq);
            JournalReader.Batch batch;
            while ((batch = reader.next(seqLimit)) != null) {
                byte[] body = new byte[batch.body().remaining()];
                batch.body().duplicate().get(body);
                read.add(batch.header().firstSeq() + "+" + batch.header().count() + " "
                        + HexFormat.of().formatHex(batch.header().chainHash()) + " " + HexFormat.of().formatHex(body));
            }
            read.add("next " + reader.nextSeq());
        }
        return read;
    }

    /** The file journal's batches, byte for byte: its segments without their headers, in order. */
    private byte[] segmentBatchBytes() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Stream<Path> files = Files.list(temporary.resolve("journal"))) {
            List<Path> segments = files.filter(path -> path.toString().endsWith(JournalFormat.SEGMENT_SUFFIX))
                    .sorted().toList();
            assertThat(segments).as("segments").hasSizeGreaterThan(2);
            for (Path segment : segments) {
                byte[] all = Files.readAllBytes(segment);
                bytes.write(all, JournalFormat.SEGMENT_HEADER_BYTES, all.length - JournalFormat.SEGMENT_HEADER_BYTES);
            }
        }
        return bytes.toByteArray();
    }

    private byte[] rowBytes() throws SQLException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT batch FROM eventbank_batches ORDER BY first_seq")) {
            while (rows.next()) {
                bytes.writeBytes(rows.getBytes(1));
            }
        }
        return bytes.toByteArray();
    }

    private List<Long> rowFirstSeqs() throws SQLException {
        List<Long> seqs = new ArrayList<>();
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT first_seq FROM eventbank_batches ORDER BY first_seq")) {
            while (rows.next()) {
                seqs.add(rows.getLong(1));
            }
        }
        return seqs;
    }

    private String head() throws SQLException {
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet head = statement.executeQuery("SELECT epoch, last_seq, durable_seq, chain_hash, leader_name,"
                     + " format_version FROM eventbank_head")) {
            assertThat(head.next()).isTrue();
            String text = "epoch " + head.getLong(1) + ", seq " + head.getLong(2) + ", durable " + head.getLong(3)
                    + ", hash " + HexFormat.of().formatHex(head.getBytes(4)) + ", led by "
                    + head.getString(5);
            assertThat(head.getInt(6)).isEqualTo(JournalFormat.FORMAT_VERSION);
            assertThat(head.next()).as("one row").isFalse();
            return text;
        }
    }

    /**
     * Reloads the server's configuration and waits until a new session sees {@code expected}:
     * the server has then read it, and signalled every session to read it before its next
     * statement.
     */
    private void reloadConfiguration(Statement statement, String expected) throws Exception {
        statement.execute("SELECT pg_reload_conf()");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Connection fresh = postgres.connect(); Statement show = fresh.createStatement();
                 ResultSet value = show.executeQuery("SHOW synchronous_standby_names")) {
                value.next();
                if (value.getString(1).equals(expected)) {
                    return;
                }
            }
            assertThat(System.nanoTime()).as("the configuration reloaded").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /**
     * Waits until a session of {@code applicationName} other than the server process {@code
     * notPid} waits for a synchronous standby, then cancels that wait; answers its process id.
     */
    private static int cancelSynchronousReplicationWait(Statement statement, String applicationName, int notPid)
            throws Exception {
        int pid = awaitSynchronousReplicationWait(statement, applicationName, notPid);
        try (ResultSet cancelled = statement.executeQuery("SELECT pg_cancel_backend(" + pid + ")")) {
            cancelled.next();
            assertThat(cancelled.getBoolean(1)).isTrue();
        }
        return pid;
    }

    /** Waits until a session of {@code applicationName} but {@code notPid} waits for a synchronous standby; its pid. */
    private static int awaitSynchronousReplicationWait(Statement statement, String applicationName, int notPid)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (ResultSet waiting = statement.executeQuery("SELECT pid FROM pg_stat_activity WHERE application_name"
                    + " = '" + applicationName + "' AND wait_event = 'SyncRep' AND pid <> " + notPid)) {
                if (waiting.next()) {
                    return waiting.getInt(1);
                }
            }
            assertThat(System.nanoTime()).as("a commit waits for a standby").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
