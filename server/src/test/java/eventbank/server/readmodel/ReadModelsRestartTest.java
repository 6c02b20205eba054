package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Idempotency;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart gives the same views as before it, and as models rebuilt from seq 0 on the same
 * journal: the models start from their checkpoints (written at a clean stop, or earlier, with
 * the events after them replayed), or, when the accounts and operations models' checkpoints are
 * damaged or another journal's, set them aside and rebuild.
 */
class ReadModelsRestartTest {
    /** The models that keep checkpoints in this test, by their files' names. */
    private static final List<String> CHECKPOINTED = List.of("accounts", "operations");

    @TempDir
    Path data;

    /** Everything the accounts, statements and operations models answer, at one seq. */
    record Views(AccountsReadModel.Snapshot accounts, AccountsReadModel.Totals totals,
                 List<Optional<AccountView>> byEmail, Map<Long, List<StatementEntry>> statements,
                 List<Operation> operations, List<Optional<Operation>> found, List<Optional<Operation>> replayed) {

        static Views of(ReadModelBank bank) {
            return of(bank.accounts, bank.statements, bank.operations, bank.clock.get());
        }

        /** Lookups by email in upper case, and of every operation by its key, live at {@code nowMicros}. */
        static Views of(AccountsReadModel accountsModel, StatementsReadModel statementsModel,
                        OperationsReadModel operationsModel, long nowMicros) {
            AccountsReadModel.Snapshot accounts = accountsModel.snapshot();
            List<Optional<AccountView>> byEmail = new ArrayList<>();
            Map<Long, List<StatementEntry>> statements = new LinkedHashMap<>();
            for (AccountView account : accounts.accounts()) {
                byEmail.add(accountsModel.accountByEmail(account.email().toUpperCase(java.util.Locale.ROOT)));
                statements.put(account.accountNumber(),
                        ReadModelBank.wholeStatement(statementsModel, account.accountNumber(), 100));
            }
            List<Operation> operations = operationsModel.operations();
            List<Optional<Operation>> found = new ArrayList<>();
            List<Optional<Operation>> replayed = new ArrayList<>();
            for (Operation operation : operations) {
                found.add(operationsModel.find(operation.scope(), operation.idempotencyKey(), nowMicros));
                replayed.add(operationsModel.replayed(operation.scope(), operation.idempotencyKey(), operation.seq()));
            }
            return new Views(accounts, accountsModel.totals(), byEmail, statements, operations, found, replayed);
        }
    }

    /**
     * The views of models that live in memory only, subscribed to the bank's engine now and so
     * rebuilt from seq 0, once they hold every committed event.
     */
    private static Views rebuiltFromSeqZero(ReadModelBank bank) throws InterruptedException {
        AccountsReadModel accounts = new AccountsReadModel();
        StatementsReadModel statements = new StatementsReadModel();
        OperationsReadModel operations = new OperationsReadModel(bank.operations.windowMicros());
        bank.engine.subscribe(new ReadModelFeed(List.of(accounts, statements, operations)));
        long seq = bank.engine.committedSeq();
        for (ReadModel model : List.<ReadModel>of(accounts, statements, operations)) {
            assertThat(model.awaitSeq(seq, ReadModelBank.CATCH_UP)).as("%s rebuilt", model.name()).isTrue();
            assertThat(model.restoredSeq()).isZero();
        }
        return Views.of(accounts, statements, operations, bank.clock.get());
    }

    /**
     * Six accounts (keyed openings among them, one left unverified, emails in capitals and in
     * lower case and beyond ASCII), then transfers and
     * withdrawals among the first five, a third of them under keys: more than a segment of
     * 64 KiB and several snapshots for {@code transfers} of 1,500. Answers the accounts.
     */
    private static List<Long> history(ReadModelBank bank, String prefix, int transfers) {
        List<Long> accounts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Idempotency key = i % 2 == 0 ? new Idempotency(prefix + "open-" + i, "f") : null;
            // In capitals, in lower case, and beyond ASCII (whose İ takes a byte more in lower case).
            String email = switch (i % 3) {
                case 0 -> "User" + i + "@Example.com";
                case 1 -> "user" + i + "@example.com";
                default -> "Zoë.İnce" + i + "@Example.com";
            };
            accounts.add(bank.open(prefix + email, key));
        }
        for (int i = 0; i < 5; i++) {
            bank.verify(accounts.get(i)); // the last one stays unverified
        }
        moreHistory(bank, accounts, prefix, transfers);
        return accounts;
    }

    private static void moreHistory(ReadModelBank bank, List<Long> accounts, String prefix, int transfers) {
        for (int i = 0; i < transfers; i++) {
            long from = accounts.get(i % 5);
            long to = accounts.get((i % 5 + 1 + (i / 5) % 4) % 5); // never the same account
            Idempotency key = i % 3 == 0 ? new Idempotency(prefix + "t-" + i, "f") : null;
            bank.transfer(from, to, 1 + i % 40, key);
            if (i % 7 == 0) {
                bank.withdraw(from, 1 + i % 11, i % 2 == 0 ? new Idempotency(prefix + "w-" + i, "f") : null);
            }
        }
    }

    @Test
    void aRestartStartsFromTheCheckpointsOfACleanStopAndGivesTheSameViews() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        Views before;
        List<Long> accounts;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            accounts = history(bank, "", 1_500);
            bank.awaitReadModels();
            before = Views.of(bank);
            assertThat(before.accounts().appliedSeq()).isEqualTo(bank.engine.committedSeq());
            assertThat(bank.engine.startSnapshotSeq()).isZero();
        }
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            assertThat(bank.engine.startSnapshotSeq()).as("the engine starts from a snapshot").isPositive();
            bank.awaitReadModels();
            for (ReadModel model : List.<ReadModel>of(bank.accounts, bank.operations)) {
                assertThat(model.restoredSeq()).as("%s replays nothing", model.name())
                        .isEqualTo(bank.engine.committedSeq());
                assertThat(model.restoreProblem()).isNull();
            }
            Views after = Views.of(bank);
            assertThat(after).isEqualTo(before).isEqualTo(rebuiltFromSeqZero(bank));
            assertThat(after.operations()).isNotEmpty();
            assertThat(after.found()).allMatch(Optional::isPresent);
            assertThat(after.totals().balanced()).isTrue();

            // And the models go on from there.
            long alice = accounts.get(0);
            long balance = bank.accounts.account(alice).orElseThrow().balance();
            long seq = bank.withdraw(alice, 1, new Idempotency("after-restart", "f")).seq();
            long carol = bank.open("carol@example.com", new Idempotency("open-carol", "f"));
            bank.awaitReadModels();
            assertThat(bank.accounts.account(alice).orElseThrow().balance()).isEqualTo(balance - 1);
            StatementEntry newest = bank.statements.page(alice, 1, null).entries().get(0);
            assertThat(newest).isEqualTo(new StatementEntry(seq, newest.timeMicros(), StatementEntry.Type.WITHDRAWAL,
                    1, null, balance - 1));
            assertThat(bank.operations.replayed(alice, "after-restart", seq)).isPresent();
            assertThat(bank.accounts.accountByEmail("Carol@example.com").orElseThrow().accountNumber())
                    .isEqualTo(carol);
            assertThat(Views.of(bank)).isEqualTo(rebuiltFromSeqZero(bank));
        }
    }

    /**
     * No clean stop: checkpoints from earlier in the history (as a crash leaves them) are used,
     * and the events after them replayed to the same views.
     */
    @Test
    void theEventsAfterACheckpointAreReplayedToTheSameViews() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        Path earlier = Files.createDirectories(data.resolve("earlier"));
        Path bankData = data.resolve("bank");
        long earlierSeq;
        Views before;
        try (ReadModelBank bank = ReadModelBank.start(bankData, clock)) {
            history(bank, "", 300);
            bank.awaitReadModels();
            earlierSeq = bank.engine.committedSeq();
        }
        copyCheckpoints(bankData, earlier); // of the clean stop, at earlierSeq
        try (ReadModelBank bank = ReadModelBank.start(bankData, clock)) {
            bank.awaitReadModels();
            List<Long> accounts = bank.accounts.snapshot().accounts().stream().map(AccountView::accountNumber).toList();
            moreHistory(bank, accounts, "later-", 400);
            bank.open("late@example.com", new Idempotency("open-late", "f"));
            bank.awaitReadModels();
            before = Views.of(bank);
        }
        copyCheckpoints(earlier, bankData);
        try (ReadModelBank bank = ReadModelBank.start(bankData, clock)) {
            bank.awaitReadModels();
            for (ReadModel model : List.<ReadModel>of(bank.accounts, bank.operations)) {
                assertThat(model.restoredSeq()).as(model.name()).isEqualTo(earlierSeq)
                        .isLessThan(bank.engine.committedSeq());
                assertThat(model.restoreProblem()).isNull();
            }
            assertThat(Views.of(bank)).isEqualTo(before).isEqualTo(rebuiltFromSeqZero(bank));
        }
    }

    @Test
    void aDamagedCheckpointIsSetAsideAndTheModelsRebuiltToTheSameViews() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        Views before;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            history(bank, "", 300);
            bank.awaitReadModels();
            before = Views.of(bank);
        }
        for (String model : CHECKPOINTED) {
            Path file = ModelCheckpoint.pathOf(data, model);
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 0x10;
            Files.write(file, bytes);
        }
        assertSetAsideAndRebuilt(data, clock, "CRC32C", before);
    }

    /**
     * A checkpoint holds the model's index tables as they are, so its CRCs guard them and a load
     * checks what one pass can: here the accounts checkpoint's last slot (of the email index) is
     * made to name a row that is not there, and the payload's CRC made to match, as a bug in a
     * writer would leave it. The load refuses it, and the model is rebuilt to the same views.
     */
    @Test
    void aCheckpointWhoseIndexNamesNoRowIsSetAsideThoughItsCrcsHold() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        Views before;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            history(bank, "", 300);
            bank.awaitReadModels();
            before = Views.of(bank);
        }
        Path file = ModelCheckpoint.pathOf(data, "accounts");
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        int payloadEnd = bytes.capacity() - 4;
        bytes.putLong(payloadEnd - 8, 0x7FFF_FFFF_7FFF_FFFFL); // a hash code, and row 2^31 - 2
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), ModelCheckpoint.HEADER_BYTES, payloadEnd - ModelCheckpoint.HEADER_BYTES);
        bytes.putInt(payloadEnd, (int) crc.getValue());
        Files.write(file, bytes.array());

        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.accounts.restoredSeq()).isZero();
            assertThat(bank.accounts.restoreProblem()).contains("cannot be used")
                    .contains("an email is indexed at row 2147483646");
            assertThat(file.resolveSibling(file.getFileName() + ModelCheckpoint.SET_ASIDE_SUFFIX)).exists();
            assertThat(bank.operations.restoredSeq()).isEqualTo(bank.engine.committedSeq());
            assertThat(Views.of(bank)).isEqualTo(before);
        }
    }

    /**
     * The accounts model restored from its checkpoint while the others rebuild from seq 0: the
     * feed resolves the events the accounts model had applied before by looking their accounts
     * up in it (FeedBatch), and the others, fed those rows, come to the same views.
     */
    @Test
    void modelsRebuiltBesideARestoredAccountsModelFindTheirAccountsByItsRows() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        Views before;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            history(bank, "", 300);
            bank.awaitReadModels();
            before = Views.of(bank);
        }
        for (String model : List.of("operations", "statements", "reports")) {
            Files.delete(ModelCheckpoint.pathOf(data, model));
        }
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.accounts.restoredSeq()).isEqualTo(bank.engine.committedSeq());
            for (ReadModel model : List.<ReadModel>of(bank.statements, bank.operations, bank.reports)) {
                assertThat(model.restoredSeq()).as(model.name()).isZero();
                assertThat(model.appliedSeq()).as(model.name()).isEqualTo(bank.engine.committedSeq());
            }
            assertThat(Views.of(bank)).isEqualTo(before);
            List<Long> accounts = bank.accounts.snapshot().accounts().stream().map(AccountView::accountNumber).toList();
            moreHistory(bank, accounts, "later-", 50);
            bank.open("late@example.com", null);
            bank.awaitReadModels();
            assertThat(Views.of(bank)).isEqualTo(rebuiltFromSeqZero(bank));
        }
    }

    @Test
    void aCheckpointOfAnotherJournalIsSetAsideAndTheModelsRebuiltToTheSameViews() throws Exception {
        Path other = data.resolve("other");
        Path mine = data.resolve("mine");
        try (ReadModelBank bank = ReadModelBank.start(other, ReadModelBank.newClock())) {
            history(bank, "other-", 200); // a shorter history: its checkpoints lie within mine
            bank.awaitReadModels();
        }
        AtomicLong clock = ReadModelBank.newClock();
        Views before;
        try (ReadModelBank bank = ReadModelBank.start(mine, clock)) {
            history(bank, "", 300);
            bank.awaitReadModels();
            before = Views.of(bank);
        }
        copyCheckpoints(other, mine);
        assertSetAsideAndRebuilt(mine, clock, "chain hash", before);
    }

    /**
     * A start on {@code data}, whose checkpoints cannot be used: each model says why, sets its
     * checkpoint aside, and rebuilds from seq 0 to the views {@code before}.
     */
    private static void assertSetAsideAndRebuilt(Path data, AtomicLong clock, String why, Views before)
            throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            for (ReadModel model : List.<ReadModel>of(bank.accounts, bank.operations)) {
                assertThat(model.restoredSeq()).as(model.name()).isZero();
                assertThat(model.restoreProblem()).as(model.name()).contains(why);
                Path file = ModelCheckpoint.pathOf(data, model.name());
                assertThat(file.resolveSibling(file.getFileName() + ModelCheckpoint.SET_ASIDE_SUFFIX)).exists();
            }
            assertThat(Views.of(bank)).isEqualTo(before);
        }
    }

    /** Keys restored from a checkpoint expire as those applied from the journal do. */
    @Test
    void restoredKeysExpire() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        long alice;
        long seq;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            alice = bank.openVerified("alice@example.com");
            long bob = bank.openVerified("bob@example.com");
            seq = bank.transfer(alice, bob, 5, new Idempotency("pay", "f")).seq();
            bank.awaitReadModels();
        }
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.operations.restoredSeq()).isEqualTo(bank.engine.committedSeq());
            long used = bank.operations.replayed(alice, "pay", seq).orElseThrow().timeMicros();
            bank.clock.set(used + bank.operations.windowMicros() + OperationsReadModel.RETAINED_BEYOND_WINDOW_MICROS
                    + ReadModelBank.SECOND_MICROS);
            bank.withdraw(alice, 1, null);
            bank.awaitReadModels();
            assertThat(bank.operations.replayed(alice, "pay", seq)).isEmpty();
            assertThat(bank.operations.size()).isZero();
        }
    }

    private static void copyCheckpoints(Path from, Path to) throws IOException {
        for (String model : CHECKPOINTED) {
            Path target = ModelCheckpoint.pathOf(to, model);
            Files.createDirectories(target.getParent());
            Files.copy(ModelCheckpoint.pathOf(from, model), target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
