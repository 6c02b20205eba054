package eventbank.engine;

import eventbank.core.BankCommandPolicy;
import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.core.Rejection;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.SequencerLimits;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;


/**
 * All-or-none batches through the engine: every event of one command lands in one chunk, hence
 * in one commit batch of the journal, whatever was decided before it; a refused batch records
 * nothing and names the transfer; a retry with the same key is answered with the first seq.
 */
class AtomicTransferBatchTest {
    private static final byte[] SERVER_KEY = "atomic-batch-test-server-key-0123456789abcdef".getBytes();
    private static final Path DATA = Path.of("/simulated/atomic");
    private static final long SEED = 77L;

    private static EngineConfig config(Storage storage, SequencerLimits limits) {
        return EngineConfig.builder(DATA).storage(storage, false).serverKey(SERVER_KEY)
                .clock(new HistoryClock(SEED)).snapshots(0, 1, 1).sequencerLimits(limits).build();
    }

    @Test
    void aKeylessTransferRecordHasTheSizeTheSequencerReservesForIt() {
        ByteBuffer buffer = ByteBuffer.allocate(EventCodec.RECORD_BYTES_MAX);
        EventCodec.encode(buffer, 1, new Event.MoneyTransferred(Limits.ACCOUNT_NUMBER_MAX, Limits.ACCOUNT_NUMBER_MIN,
                Limits.AMOUNT_MAX, null));
        assertThat(buffer.position()).isEqualTo(EventCodec.KEYLESS_TRANSFER_RECORD_BYTES);
        BankCommandPolicy policy = EngineConfig.defaults(DATA).commandPolicy();
        assertThat(policy.batchTransfersMax(SequencerLimits.DEFAULT.chunkBytesMax()))
                .isEqualTo(Limits.BATCH_TRANSFERS_MAX);
        assertThat(policy.recordBytesMax(batch(1, Limits.BATCH_TRANSFERS_MAX)))
                .isLessThanOrEqualTo(SequencerLimits.DEFAULT.chunkBytesMax());
    }

    @Test
    void theEventsOfEveryBatchLandInOneCommitBatch() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        // Small chunks, so that a batch often does not fit after the commands before it.
        SequencerLimits limits = new SequencerLimits(65_536, 1_024, 48 * 1024, 4);
        List<long[]> batchSeqs = new ArrayList<>();
        long[] accounts;
        try (Engine engine = Engine.start(config(storage, limits))) {
            accounts = SequencerTest.openAccounts(engine, null, 20, 0);
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
                Command batch = new Command.TransferMoneyAtomically(accounts[random.nextInt(10)],
                        transfersTo(accounts, size), random.nextBoolean() ? new Idempotency("k" + round, "fp") : null);
                commands.add(batch);
                futures.add(engine.submit(batch));
            }
            for (int i = 0; i < futures.size(); i++) {
                Outcome outcome = futures.get(i).get(60, TimeUnit.SECONDS);
                assertThat(outcome).as(commands.get(i).toString().substring(0, 60))
                        .isInstanceOf(Outcome.Committed.class);
                if (commands.get(i) instanceof Command.TransferMoneyAtomically batch) {
                    Outcome.Committed committed = (Outcome.Committed) outcome;
                    assertThat(committed.events()).hasSize(batch.transfers().size());
                    List<Recorded> events = committed.events();
                    for (int k = 0; k < events.size(); k++) {
                        Event.MoneyTransferred event = (Event.MoneyTransferred) events.get(k).event();
                        assertThat(event.toAccountNumber()).isEqualTo(batch.transfers().get(k).toAccountNumber());
                        assertThat(event.idempotency()).isEqualTo(k == 0 ? batch.idempotency() : null);
                        assertThat(events.get(k).seq()).isEqualTo(events.get(0).seq() + k);
                    }
                    batchSeqs.add(new long[] {events.get(0).seq(), committed.seq()});
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
    void aRefusedBatchRecordsNothingAndARetryIsAnsweredWithTheFirstSeq() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        try (Engine engine = Engine.start(config(storage, SequencerLimits.DEFAULT))) {
            long[] accounts = SequencerTest.openAccounts(engine, null, 4, 1);
            long seq = engine.committedSeq();
            Command overdraws = new Command.TransferMoneyAtomically(accounts[0], List.of(
                    new Command.Transfer(accounts[1], 60_000), new Command.Transfer(accounts[2], 40_000),
                    new Command.Transfer(accounts[1], 1)), null);
            assertThat(engine.submit(overdraws).get(20, TimeUnit.SECONDS))
                    .isEqualTo(new Outcome.Rejected(Rejection.INSUFFICIENT_FUNDS, 2));
            Command toUnverified = new Command.TransferMoneyAtomically(accounts[0], List.of(
                    new Command.Transfer(accounts[1], 1), new Command.Transfer(accounts[3], 1)), null);
            assertThat(engine.submit(toUnverified).get(20, TimeUnit.SECONDS))
                    .isEqualTo(new Outcome.Rejected(Rejection.RECIPIENT_NOT_VERIFIED, 1));
            assertThat(engine.submit(batch(accounts[0], 0)).get(20, TimeUnit.SECONDS))
                    .isEqualTo(new Outcome.Rejected(Rejection.BATCH_SIZE_INVALID, -1));
            assertThat(engine.committedSeq()).isEqualTo(seq);

            Idempotency key = new Idempotency("all", "fp-all");
            Command all = new Command.TransferMoneyAtomically(accounts[0], List.of(
                    new Command.Transfer(accounts[1], 60_000), new Command.Transfer(accounts[2], 40_000)), key);
            Outcome.Committed committed = (Outcome.Committed) engine.submit(all).get(20, TimeUnit.SECONDS);
            assertThat(committed.seq()).isEqualTo(seq + 2);
            assertThat(committed.balance()).isZero();
            assertThat(engine.submit(all).get(20, TimeUnit.SECONDS)).isEqualTo(new Outcome.Replayed(seq + 1));
            assertThat(engine.committedSeq()).isEqualTo(seq + 2);
        }
    }

    @Test
    void aBatchLargerThanAChunkHoldsIsRefusedWithoutStoppingTheEngine() throws Exception {
        SimulatedStorage storage = new SimulatedStorage();
        SequencerLimits limits = new SequencerLimits(1_024, 16, EventCodec.RECORD_BYTES_MAX * 2, 2);
        try (Engine engine = Engine.start(config(storage, limits))) {
            long[] accounts = SequencerTest.openAccounts(engine, null, 3, 0);
            int fits = engine.config().commandPolicy().batchTransfersMax(limits.chunkBytesMax());
            Command tooLarge = new Command.TransferMoneyAtomically(accounts[0], transfersTo(new long[] {accounts[1]},
                    fits + 1), null);
            assertThat(engine.submit(tooLarge).get(20, TimeUnit.SECONDS))
                    .isEqualTo(new Outcome.Rejected(Rejection.BATCH_SIZE_INVALID));
            Command largest = new Command.TransferMoneyAtomically(accounts[0], transfersTo(new long[] {accounts[1]},
                    fits), null);
            assertThat(engine.submit(largest).get(20, TimeUnit.SECONDS)).isInstanceOf(Outcome.Committed.class);
        }
    }

    private static Command.TransferMoneyAtomically batch(long from, int size) {
        return new Command.TransferMoneyAtomically(from, transfersTo(new long[] {from + 1}, size), null);
    }

    /** One cent to each of the accounts from index 10 on (or to the only one), round robin. */
    private static List<Command.Transfer> transfersTo(long[] accounts, int size) {
        List<Command.Transfer> transfers = new ArrayList<>(size);
        int first = accounts.length > 10 ? 10 : 0;
        for (int i = 0; i < size; i++) {
            transfers.add(new Command.Transfer(accounts[first + i % (accounts.length - first)], 1));
        }
        return transfers;
    }
}
