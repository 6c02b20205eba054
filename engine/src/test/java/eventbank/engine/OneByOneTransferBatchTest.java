package eventbank.engine;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.Limits;
import eventbank.core.Rejection;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.SequencerLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Batches decided one by one ({@link Command.TransferMoneyOneByOne}) through the engine: one
 * submission and one reply per batch, and yet the same events in the journal and the same outcome
 * for every transfer as the transfers sent alone, one after the other, to another engine; all the
 * events of a batch in one commit batch.
 */
class OneByOneTransferBatchTest {
    private static final byte[] SERVER_KEY = "one-by-one-batch-test-server-key-0123456789".getBytes();
    private static final Path DATA = Path.of("/simulated/one-by-one");
    private static final long SEED = 91L;
    /**
     * One instant for every command: the engine stamps each command with the clock, and the
     * transfers sent alone are several commands where the batch is one. With the clock standing
     * still their events are stamped alike and the two journals can be compared byte for byte.
     */
    private static final long NOW_MICROS = 1_795_651_200_000_000L;

    private static EngineConfig config(Storage storage, SequencerLimits limits) {
        return EngineConfig.builder(DATA).storage(storage, false).serverKey(SERVER_KEY)
                .clock(() -> NOW_MICROS).snapshots(0, 1, 1).sequencerLimits(limits).build();
    }

    /**
     * Twelve accounts, the last three not verified; then the ninth (index 8) empties itself into
     * the first and closes, and the last, unverified, closes forfeiting its bonus.
     */
    private static long[] setUp(Engine engine) throws Exception {
        long[] accounts = SequencerTest.openAccounts(engine, null, 12, 3);
        List<Command> closing = List.of(
                new Command.TransferMoney(accounts[8], accounts[0], Limits.OPENING_BALANCE_DEFAULT, null),
                new Command.CloseAccount(accounts[8]),
                new Command.CloseAccount(accounts[11]));
        for (Command command : closing) {
            assertThat(engine.submit(command).get(20, TimeUnit.SECONDS)).as(command.toString())
                    .isInstanceOf(Outcome.Committed.class);
        }
        return accounts;
    }

    @Test
    void eachTransferIsAnsweredAndRecordedAsIfItHadBeenSentAlone() throws Exception {
        SimulatedStorage batchStorage = new SimulatedStorage();
        SimulatedStorage aloneStorage = new SimulatedStorage();
        ReferenceSequencer reference = new ReferenceSequencer(SERVER_KEY, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT,
                () -> NOW_MICROS, () -> 0);
        int mixed = 0;
        int refusedParts = 0;
        try (Engine batches = Engine.start(config(batchStorage, SequencerLimits.DEFAULT));
             Engine alone = Engine.start(config(aloneStorage, SequencerLimits.DEFAULT))) {
            long[] accounts = setUp(batches);
            assertThat(setUp(alone)).isEqualTo(accounts);
            JournalContents.replay(batchStorage, DATA, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT).events()
                    .forEach(recorded -> reference.bank.evolve(recorded));
            CommandMix mix = new CommandMix(SEED, new HmacVerificationCodes(SERVER_KEY));
            for (long account : accounts) {
                mix.accounts().add(account);
            }
            SplittableRandom random = new SplittableRandom(SEED);
            for (int round = 0; round < 60; round++) {
                // A few batches in flight at once, so that they share chunks and commit batches.
                List<Command.TransferMoneyOneByOne> sent = new ArrayList<>();
                List<CompletableFuture<Outcome>> batchReplies = new ArrayList<>();
                List<CompletableFuture<Outcome>> aloneReplies = new ArrayList<>();
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    // Mostly from a verified account; sometimes from an unverified or a closed one.
                    long from = accounts[random.nextInt(100) < 90 ? random.nextInt(8) : 8 + random.nextInt(4)];
                    int size = random.nextInt(10) == 0 ? 100 + random.nextInt(900) : 1 + random.nextInt(30);
                    Command.TransferMoneyOneByOne batch =
                            (Command.TransferMoneyOneByOne) mix.transferEach(reference.bank, from, size);
                    sent.add(batch);
                    batchReplies.add(batches.submit(batch));
                    for (Command.Transfer transfer : batch.transfers()) {
                        aloneReplies.add(alone.submit(new Command.TransferMoney(from, transfer.toAccountNumber(),
                                transfer.amount(), null)));
                    }
                }
                int next = 0;
                for (int b = 0; b < sent.size(); b++) {
                    Outcome outcome = batchReplies.get(b).get(20, TimeUnit.SECONDS);
                    String where = "round " + round + ", batch " + b;
                    assertThat(outcome).as(where).isEqualTo(reference.step(sent.get(b)));
                    Outcome.CommittedOneByOne committed = (Outcome.CommittedOneByOne) outcome;
                    List<Outcome> aloneOutcomes = new ArrayList<>();
                    for (int k = 0; k < sent.get(b).transfers().size(); k++) {
                        aloneOutcomes.add(aloneReplies.get(next++).get(20, TimeUnit.SECONDS));
                    }
                    assertThat(committed.parts()).as(where).isEqualTo(aloneOutcomes);
                    assertThat(committed.balance()).as(where).isEqualTo(reference.bank.balanceOf(
                            sent.get(b).fromAccountNumber()));
                    long refused = committed.parts().stream().filter(Outcome.Rejected.class::isInstance).count();
                    refusedParts += (int) refused;
                    if (refused > 0 && refused < committed.parts().size()) {
                        mixed++;
                    }
                }
            }
            assertThat(batches.committedSeq()).isEqualTo(alone.committedSeq()).isEqualTo(reference.bank.lastSeq());
        }
        assertThat(mixed).as("batches with refused and recorded transfers").isGreaterThan(20);
        assertThat(refusedParts).as("refused transfers").isGreaterThan(100);
        JournalContents.Replay batchJournal = JournalContents.replay(batchStorage, DATA,
                Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
        JournalContents.Replay aloneJournal = JournalContents.replay(aloneStorage, DATA,
                Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
        assertThat(batchJournal.events()).isEqualTo(aloneJournal.events());
        assertThat(batchJournal.bank().stateDigest()).isEqualTo(aloneJournal.bank().stateDigest())
                .isEqualTo(reference.bank.stateDigest());
        assertThat(batchJournal.bank().checkInvariant()).isNull();
    }

    @Test
    void theEventsOfEveryBatchLandInOneCommitBatch() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        // Small chunks, so that a batch often does not fit after the commands before it, and two
        // of them at most in a commit batch: the journal's 1 MB or so make more than ten.
        SequencerLimits limits = new SequencerLimits(65_536, 1_024, 48 * 1024, 2);
        List<long[]> batchSeqs = new ArrayList<>();
        try (Engine engine = Engine.start(config(storage, limits))) {
            long[] accounts = SequencerTest.openAccounts(engine, null, 20, 0);
            SplittableRandom random = new SplittableRandom(SEED);
            List<CompletableFuture<Outcome>> futures = new ArrayList<>();
            List<Command> commands = new ArrayList<>();
            for (int round = 0; round < 60; round++) {
                for (int i = random.nextInt(200); i > 0; i--) {
                    Command single = new Command.TransferMoney(accounts[random.nextInt(10)],
                            accounts[10 + random.nextInt(10)], 1, null);
                    commands.add(single);
                    futures.add(engine.submit(single));
                }
                int size = random.nextInt(100) < 30 ? Limits.BATCH_TRANSFERS_MAX : 1 + random.nextInt(300);
                List<Command.Transfer> transfers = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    transfers.add(new Command.Transfer(accounts[10 + i % 10], 1));
                }
                Command batch = new Command.TransferMoneyOneByOne(accounts[random.nextInt(10)], transfers);
                commands.add(batch);
                futures.add(engine.submit(batch));
            }
            for (int i = 0; i < futures.size(); i++) {
                Outcome outcome = futures.get(i).get(60, TimeUnit.SECONDS);
                if (commands.get(i) instanceof Command.TransferMoneyOneByOne batch) {
                    Outcome.CommittedOneByOne committed = (Outcome.CommittedOneByOne) outcome;
                    assertThat(committed.parts()).hasSize(batch.transfers().size())
                            .allMatch(Outcome.Committed.class::isInstance);
                    long first = ((Outcome.Committed) committed.parts().get(0)).seq();
                    for (int k = 0; k < committed.parts().size(); k++) {
                        assertThat(((Outcome.Committed) committed.parts().get(k)).seq()).isEqualTo(first + k);
                    }
                    assertThat(committed.seq()).isEqualTo(first + batch.transfers().size() - 1);
                    batchSeqs.add(new long[] {first, committed.seq()});
                } else {
                    assertThat(outcome).isInstanceOf(Outcome.Committed.class);
                }
            }
        }
        TreeMap<Long, Long> journalBatches = new TreeMap<>();
        try (JournalReader reader = new JournalReader(storage, DATA.resolve("journal"), true)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                journalBatches.put(batch.header().firstSeq(), batch.header().lastSeq());
            }
        }
        assertThat(journalBatches.size()).as("commit batches").isGreaterThan(10);
        for (long[] seqs : batchSeqs) {
            var holding = journalBatches.floorEntry(seqs[0]);
            assertThat(holding).isNotNull();
            assertThat(holding.getValue()).as("the commit batch holding seqs %d..%d", seqs[0], seqs[1])
                    .isGreaterThanOrEqualTo(seqs[1]);
        }
    }

    @Test
    void aBatchWithEveryTransferRefusedRecordsNothingAndTellsTheBalance() throws Exception {
        try (Engine engine = Engine.start(config(new SimulatedStorage(), SequencerLimits.DEFAULT))) {
            long[] accounts = setUp(engine);
            long head = engine.committedSeq();
            Command refused = new Command.TransferMoneyOneByOne(accounts[1], List.of(
                    new Command.Transfer(accounts[8], 1),                // closed
                    new Command.Transfer(accounts[10], 1),               // not verified
                    new Command.Transfer(accounts[1], 1),                // to itself
                    new Command.Transfer(accounts[2], Limits.OPENING_BALANCE_DEFAULT + 1)));
            assertThat(engine.submit(refused).get(20, TimeUnit.SECONDS)).isEqualTo(new Outcome.CommittedOneByOne(head,
                    List.of(new Outcome.Rejected(Rejection.RECIPIENT_CLOSED),
                            new Outcome.Rejected(Rejection.RECIPIENT_NOT_VERIFIED),
                            new Outcome.Rejected(Rejection.SAME_ACCOUNT),
                            new Outcome.Rejected(Rejection.INSUFFICIENT_FUNDS)),
                    Limits.OPENING_BALANCE_DEFAULT));
            assertThat(engine.submit(new Command.TransferMoneyOneByOne(accounts[1], List.of()))
                    .get(20, TimeUnit.SECONDS)).isEqualTo(new Outcome.Rejected(Rejection.BATCH_SIZE_INVALID));
            assertThat(engine.committedSeq()).isEqualTo(head);
        }
    }
}
