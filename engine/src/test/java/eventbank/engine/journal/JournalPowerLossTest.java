package eventbank.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.storage.SimulatedStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Power losses at random points, on a simulated disk that keeps only what was forced (and, when
 * the crash tears, a random prefix of what was written since). Whatever the crash leaves,
 * recovery must give back every forced event, a prefix of what was written and nothing
 * half-there after it, and the journal must go on from there and survive the next crash.
 */
class JournalPowerLossTest {

    private static final int SEEDS = 300;
    private static final Path DIRECTORY = Path.of("/data/journal");
    private static final long[] SEGMENT_BYTES_MAX = {512, 4096, 64L << 20};

    /** How often the interesting cases came up over all seeds, so the test shows it tried them. */
    private static final class Coverage {
        int tornTails;
        int unforcedEventsKept;
        int forcedEventsOnly;
        int segmentsMax;
    }

    private final Coverage coverage = new Coverage();

    @Test
    void everyForcedEventSurvivesAPowerLossAndTheLogGoesOn() {
        for (long seed = 0; seed < SEEDS; seed++) {
            try {
                run(seed);
            } catch (IOException | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
        }
        assertThat(coverage.tornTails).as("recoveries that quarantined a torn tail").isGreaterThan(SEEDS / 10);
        assertThat(coverage.unforcedEventsKept).as("recoveries that kept unforced events").isGreaterThan(SEEDS / 10);
        assertThat(coverage.forcedEventsOnly).as("recoveries that kept just the forced events")
                .isGreaterThan(SEEDS / 10);
        assertThat(coverage.segmentsMax).as("the most segments one journal had").isGreaterThan(3);
    }

    private void run(long seed) throws IOException {
        Random random = new Random(seed);
        SimulatedStorage storage = new SimulatedStorage();
        long segmentBytesMax = SEGMENT_BYTES_MAX[random.nextInt(SEGMENT_BYTES_MAX.length)];
        History history = new History(random);

        // The first life: from an empty journal to a power loss.
        Journal first = recoverAndCheck(storage, segmentBytesMax, history, seed, "first open");
        assertThat(first.lastSeq()).as("seed %d: a new journal", seed).isZero();
        history.appendRandomBatches(first, 1 + random.nextInt(40));
        storage.crash(seed, random.nextBoolean());

        // The second life: recover, append more, lose power again.
        Journal second = recoverAndCheck(storage, segmentBytesMax, history, seed, "after the first crash");
        history.appendRandomBatches(second, 1 + random.nextInt(20));
        storage.crash(seed + 1_000_000, random.nextBoolean());

        // The third life: recover; then a crash right after recovery changes nothing, since
        // recovery made its own changes (the quarantine, the cut) durable.
        Journal third = recoverAndCheck(storage, segmentBytesMax, history, seed, "after the second crash");
        long recovered = third.lastSeq();
        byte[] head = third.headHash();
        storage.crash(seed + 2_000_000, true);
        Journal fourth = recoverAndCheck(storage, segmentBytesMax, history, seed,
                "after a crash right after recovery");
        assertThat(fourth.lastSeq()).as("seed %d: the end after a crash with nothing written", seed)
                .isEqualTo(recovered);
        assertThat(fourth.headHash()).as("seed %d: the head hash", seed).isEqualTo(head);
        assertThat(fourth.recovery().tornTail()).as("seed %d: a torn tail after recovery", seed).isNull();
        fourth.close();
    }

    /**
     * Recovers the journal and checks it against what was written and forced; afterwards the
     * history is cut to what was recovered, since the next life continues from there.
     */
    private Journal recoverAndCheck(SimulatedStorage storage, long segmentBytesMax, History history, long seed,
                                           String when) throws IOException {
        List<Recorded> events = new ArrayList<>();
        Journal journal = FileJournal.recover(storage, DIRECTORY, segmentBytesMax, 0, null,
                batch -> batch.forEach(events::add));
        String context = "seed " + seed + ", " + when;
        long lastSeq = journal.lastSeq();

        assertThat(lastSeq).as("%s: the recovered end against the forced end", context)
                .isGreaterThanOrEqualTo(history.forcedSeq);
        assertThat(lastSeq).as("%s: the recovered end against the written end", context)
                .isLessThanOrEqualTo(history.written.size());
        assertThat(events).as("%s: the recovered events are a prefix of the written ones", context)
                .isEqualTo(history.written.subList(0, (int) lastSeq));
        for (int index = 0; index < events.size(); index++) {
            assertThat(events.get(index).seq()).as("%s: seqs are contiguous", context).isEqualTo(index + 1);
        }
        assertThat(journal.headHash()).as("%s: the head hash", context)
                .isEqualTo(lastSeq == 0 ? JournalFormat.HASH_ZERO : history.hashAtSeq.get((int) lastSeq - 1));
        Journal.Recovery recovery = journal.recovery();
        if (recovery.tornTail() != null) {
            assertThat(storage.durableNames(DIRECTORY.resolve(FileJournal.QUARANTINE_DIRECTORY)))
                    .as("%s: the quarantine file is durable", context)
                    .contains(recovery.quarantineFile().getFileName().toString());
            assertThat(storage.durableBytes(recovery.quarantineFile())).as("%s: the quarantined bytes", context)
                    .hasSize((int) recovery.tornTail().length());
        }
        assertNothingAfterTheEnd(storage, lastSeq, context);

        if (recovery.tornTail() != null) {
            coverage.tornTails++;
        }
        if (lastSeq > history.forcedSeq) {
            coverage.unforcedEventsKept++;
        } else if (history.written.size() > lastSeq) {
            coverage.forcedEventsOnly++;
        }
        coverage.segmentsMax = Math.max(coverage.segmentsMax, storage.list(DIRECTORY).size());
        history.cutTo(lastSeq);
        return journal;
    }

    /** A second reader finds the same end, no torn bytes, and no segment beyond the end. */
    private void assertNothingAfterTheEnd(SimulatedStorage storage, long lastSeq, String context)
            throws IOException {
        try (JournalReader reader = new JournalReader(storage, DIRECTORY, true)) {
            reader.seek(0);
            while (reader.next(Long.MAX_VALUE) != null) {
                // read to the end
            }
            assertThat(reader.tornTail()).as("%s: torn bytes left after recovery", context).isNull();
            assertThat(reader.nextSeq() - 1).as("%s: the end a second reader finds", context).isEqualTo(lastSeq);
        }
        for (String name : storage.list(DIRECTORY)) {
            long firstSeq = JournalFormat.firstSeqOf(name);
            if (firstSeq < 0) {
                continue;
            }
            // A segment made for a batch the crash lost holds its header and nothing more.
            assertThat(firstSeq).as("%s: segment %s", context, name).isLessThanOrEqualTo(lastSeq + 1);
            if (firstSeq == lastSeq + 1) {
                assertThat(storage.bytes(DIRECTORY.resolve(name))).as("%s: segment %s", context, name)
                        .hasSize(JournalFormat.SEGMENT_HEADER_BYTES);
            }
        }
    }

    /** What was written, what was forced, and the chain hash after each seq's batch. */
    private static final class History {
        final Random random;
        final List<Recorded> written = new ArrayList<>();
        /** The chain hash as of each seq, at index seq - 1; for seqs inside a batch, its batch's. */
        final List<byte[]> hashAtSeq = new ArrayList<>();
        long forcedSeq;
        long timeMicros = 1_795_687_200_000_000L;

        History(Random random) {
            this.random = random;
        }

        void appendRandomBatches(Journal journal, int batches) throws IOException {
            for (int index = 0; index < batches; index++) {
                appendRandomBatch(journal);
                if (random.nextInt(3) == 0) {
                    journal.force();
                    forcedSeq = journal.lastSeq();
                }
            }
        }

        private void appendRandomBatch(Journal journal) throws IOException {
            long firstSeq = journal.lastSeq() + 1;
            int count = 1 + random.nextInt(random.nextInt(4) == 0 ? 30 : 5);
            ByteBuffer batch = ByteBuffer.allocate(
                    JournalFormat.BATCH_HEADER_BYTES + count * EventCodec.RECORD_BYTES_MAX);
            batch.position(JournalFormat.BATCH_HEADER_BYTES);
            List<Recorded> records = new ArrayList<>();
            for (int index = 0; index < count; index++) {
                timeMicros += random.nextInt(1_000);
                Event event = randomEvent();
                EventCodec.encode(batch, timeMicros, event);
                records.add(new Recorded(firstSeq + index, timeMicros, event));
            }
            journal.append(batch.flip(), firstSeq, count);
            written.addAll(records);
            byte[] hash = journal.headHash();
            for (int index = 0; index < count; index++) {
                hashAtSeq.add(hash);
            }
        }

        private Event randomEvent() {
            long account = Limits.ACCOUNT_NUMBER_MIN
                    + random.nextLong(Limits.ACCOUNT_NUMBER_MAX - Limits.ACCOUNT_NUMBER_MIN);
            Idempotency key = random.nextBoolean()
                    ? new Idempotency("key-" + random.nextInt(1_000_000), "fp-" + Long.toHexString(random.nextLong()))
                    : null;
            return switch (random.nextInt(4)) {
                case 0 -> new Event.AccountOpened(account, "user" + random.nextInt(1000) + "@exämple.com",
                        "$2a$04$" + Long.toHexString(random.nextLong()), Limits.OPENING_BALANCE_DEFAULT, key);
                case 1 -> new Event.AccountVerified(account);
                case 2 -> new Event.MoneyTransferred(account, account + 1, 1 + random.nextLong(Limits.AMOUNT_MAX), key);
                default -> new Event.MoneyWithdrawn(account, 1 + random.nextLong(Limits.AMOUNT_MAX), key);
            };
        }

        /** Forgets what the crash lost: the next life appends after {@code lastSeq}. */
        void cutTo(long lastSeq) {
            written.subList((int) lastSeq, written.size()).clear();
            hashAtSeq.subList((int) lastSeq, hashAtSeq.size()).clear();
            forcedSeq = lastSeq;
        }
    }
}
