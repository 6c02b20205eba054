package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Idempotency;
import eventbank.engine.write.Outcome;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statements model's checkpoint and entries file across restarts: a start from the
 * checkpoint answers as a rebuild from seq 0 does; a checkpoint of another journal, or with an
 * entries file shorter than it says or ending in another record, is set aside and the model
 * rebuilt; the records written after a checkpoint (a crash before the next) are cut off and
 * applied again.
 */
class StatementsCheckpointTest {
    @TempDir
    Path data;

    /** Every account's whole statement (read page by page), history and entry count. */
    record Answers(Map<Long, List<StatementEntry>> statements, Map<Long, List<HistoryItem>> histories,
                   Map<Long, Integer> counts) {

        static Answers of(ReadModelBank bank, List<Long> accounts) {
            Map<Long, List<StatementEntry>> statements = new LinkedHashMap<>();
            Map<Long, List<HistoryItem>> histories = new LinkedHashMap<>();
            Map<Long, Integer> counts = new LinkedHashMap<>();
            for (long account : accounts) {
                statements.put(account, bank.wholeStatement(account, 7));
                histories.put(account, bank.statements.history(account));
                counts.put(account, bank.statements.entryCount(account));
            }
            return new Answers(statements, histories, counts);
        }
    }

    private static Path checkpointOf(Path data) {
        return data.resolve("readmodels").resolve("statements.checkpoint");
    }

    private static Path entriesOf(Path data) {
        return data.resolve("readmodels").resolve(StatementEntriesFile.NAME);
    }

    @Test
    void aRestartFromTheCheckpointAnswersAsARebuildFromSeqZero() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        List<Long> accounts = new ArrayList<>();
        Answers rebuilt = historyAndAnswers(data, clock, accounts, 400);
        assertThat(checkpointOf(data)).exists();
        assertThat(entriesOf(data)).exists();
        Answers continued;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            // The stop wrote a checkpoint of everything: nothing is applied again.
            assertThat(bank.statements.restoredSeq()).isEqualTo(bank.engine.committedSeq());
            assertThat(bank.statements.restoreProblem()).isNull();
            assertThat(Answers.of(bank, accounts)).isEqualTo(rebuilt);
            movements(bank, accounts, 400, 150);
            bank.awaitReadModels();
            continued = Answers.of(bank, accounts);
        }
        Files.delete(checkpointOf(data));
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).as("rebuilt from seq 0").isZero();
            assertThat(bank.statements.restoreProblem()).isNull();
            assertThat(Answers.of(bank, accounts)).isEqualTo(continued);
        }
    }

    /**
     * Two accounts with a deeper spine than a row holds ({@link StatementRows}: 32,753 entries
     * each, 1 + (2^1 - 1) + ... + (2^14 - 1), make a spine of 15 records) restart from the
     * checkpoint with the same answers, and go on as a rebuild from seq 0 does.
     */
    @Test
    void accountsWithDeepSpinesRestartFromTheCheckpoint() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        List<Long> accounts = new ArrayList<>();
        Answers before;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            openAccounts(bank, accounts);
            transfersBetweenTheFirstTwo(bank, accounts, 32_753);
            bank.awaitReadModels();
            before = Answers.of(bank, accounts);
            assertThat(before.counts().get(accounts.get(0))).isEqualTo(32_753);
        }
        Answers continued;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).isEqualTo(bank.engine.committedSeq());
            assertThat(bank.statements.restoreProblem()).isNull();
            assertThat(Answers.of(bank, accounts)).isEqualTo(before);
            transfersBetweenTheFirstTwo(bank, accounts, 2_000);
            bank.awaitReadModels();
            continued = Answers.of(bank, accounts);
        }
        Files.delete(checkpointOf(data));
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).as("rebuilt from seq 0").isZero();
            assertThat(Answers.of(bank, accounts)).isEqualTo(continued);
        }
    }

    /** {@code count} transfers of a cent back and forth between the first two accounts, submitted a thousand at a time. */
    private static void transfersBetweenTheFirstTwo(ReadModelBank bank, List<Long> accounts, int count) {
        for (int done = 0; done < count; done += 1_000) {
            List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
            for (int i = done; i < Math.min(count, done + 1_000); i++) {
                outcomes.add(bank.engine.submit(new Command.TransferMoney(accounts.get(i % 2), accounts.get(1 - i % 2),
                        1, null)));
            }
            for (CompletableFuture<Outcome> outcome : outcomes) {
                assertThat(outcome.join()).isInstanceOf(Outcome.Committed.class);
            }
        }
    }

    @Test
    void recordsWrittenAfterTheCheckpointAreCutOffAndAppliedAgain() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        List<Long> accounts = new ArrayList<>();
        Path saved = data.resolve("saved.checkpoint");
        long savedSeq;
        Answers before;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            openAccounts(bank, accounts);
            movements(bank, accounts, 0, 230);
            bank.awaitReadModels(); // no batch comes after: the checkpoint stays as it is
            savedSeq = bank.statements.checkpointSeq();
            assertThat(savedSeq).isPositive();
            Files.copy(checkpointOf(data), saved);
            movements(bank, accounts, 230, 200);
            bank.awaitReadModels();
            assertThat(bank.engine.committedSeq()).isGreaterThan(savedSeq + 200);
            before = Answers.of(bank, accounts);
        }
        // A crash after the saved checkpoint: the entries file holds the records after it (and
        // half a record, torn), the checkpoint is the older one.
        Files.copy(saved, checkpointOf(data), StandardCopyOption.REPLACE_EXISTING);
        long recordsBefore = Files.size(entriesOf(data)) / StatementEntriesFile.RECORD_BYTES;
        Files.write(entriesOf(data), new byte[StatementEntriesFile.RECORD_BYTES / 2], StandardOpenOption.APPEND);
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).isEqualTo(savedSeq);
            assertThat(bank.statements.restoreProblem()).isNull();
            assertThat(Answers.of(bank, accounts)).isEqualTo(before);
            assertThat(bank.statements.checkpointSeq()).isGreaterThan(savedSeq);
        }
        assertThat(Files.size(entriesOf(data))).as("the same records again, the torn one gone")
                .isEqualTo(recordsBefore * StatementEntriesFile.RECORD_BYTES);
    }

    @Test
    void anEntriesFileShorterThanItsCheckpointSaysIsSetAsideAndRebuilt() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        List<Long> accounts = new ArrayList<>();
        Answers before = historyAndAnswers(data, clock, accounts, 300);
        try (FileChannel file = FileChannel.open(entriesOf(data), StandardOpenOption.WRITE)) {
            file.truncate(file.size() - 3L * StatementEntriesFile.RECORD_BYTES);
        }
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).isZero();
            assertThat(bank.statements.restoreProblem()).contains("statements.entries").contains("fewer than");
            assertThat(Answers.of(bank, accounts)).isEqualTo(before);
        }
        assertThat(data.resolve("readmodels").resolve("statements.checkpoint.unusable")).exists();
    }

    @Test
    void anEntriesFileEndingInAnotherRecordIsSetAsideAndRebuilt() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        List<Long> accounts = new ArrayList<>();
        Answers before = historyAndAnswers(data, clock, accounts, 300);
        try (FileChannel file = FileChannel.open(entriesOf(data), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer seq = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            long lastRecord = file.size() - StatementEntriesFile.RECORD_BYTES;
            file.read(seq, lastRecord);
            file.write(seq.putLong(0, seq.getLong(0) - 1).clear(), lastRecord);
        }
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).isZero();
            assertThat(bank.statements.restoreProblem()).contains("ends with seq");
            assertThat(Answers.of(bank, accounts)).isEqualTo(before);
        }
    }

    @Test
    void aCheckpointOfAnotherJournalIsNotUsed() throws Exception {
        Path other = data.resolve("other");
        Path mine = data.resolve("mine");
        try (ReadModelBank bank = ReadModelBank.start(other, ReadModelBank.newClock())) {
            List<Long> accounts = new ArrayList<>();
            openAccounts(bank, accounts);
            movements(bank, accounts, 1_000, 100); // other amounts, a shorter history
            bank.awaitReadModels();
        }
        AtomicLong clock = ReadModelBank.newClock();
        List<Long> accounts = new ArrayList<>();
        Answers before = historyAndAnswers(mine, clock, accounts, 200);
        Files.copy(checkpointOf(other), checkpointOf(mine), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(entriesOf(other), entriesOf(mine), StandardCopyOption.REPLACE_EXISTING);
        try (ReadModelBank bank = ReadModelBank.start(mine, clock)) {
            bank.awaitReadModels();
            assertThat(bank.statements.restoredSeq()).isZero();
            assertThat(bank.statements.restoreProblem()).contains("chain hash");
            assertThat(Answers.of(bank, accounts)).isEqualTo(before);
        }
    }

    /** A history of {@code count} movements in {@code directory}, stopped (so checkpointed), and its answers. */
    private static Answers historyAndAnswers(Path directory, AtomicLong clock, List<Long> accounts, int count)
            throws IOException, InterruptedException {
        try (ReadModelBank bank = ReadModelBank.start(directory, clock)) {
            openAccounts(bank, accounts);
            movements(bank, accounts, 0, count);
            bank.awaitReadModels();
            return Answers.of(bank, accounts);
        }
    }

    /** Six accounts, five verified: the last never moves money. */
    private static void openAccounts(ReadModelBank bank, List<Long> accounts) {
        for (int i = 0; i < 6; i++) {
            accounts.add(bank.open("user" + i + "@example.com", null));
        }
        for (int i = 0; i < 5; i++) {
            bank.verify(accounts.get(i));
        }
    }

    /** {@code count} transfers among the five verified accounts, and a withdrawal every seventh. */
    private static void movements(ReadModelBank bank, List<Long> accounts, int from, int count) {
        for (int i = from; i < from + count; i++) {
            long debit = accounts.get(i % 5);
            long credit = accounts.get((i % 5 + 1 + (i / 5) % 4) % 5);
            bank.transfer(debit, credit, 1 + i % 40, i % 3 == 0 ? new Idempotency("t-" + i, "f") : null);
            if (i % 7 == 0) {
                bank.withdraw(debit, 1 + i % 11, null);
            }
        }
    }
}
