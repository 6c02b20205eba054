package eventbank.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal on real files: appending, reading back, rollover, seeking, torn tails, damage. */
class FileJournalTest {

    private static final long SEGMENT_BYTES_LARGE = 64L << 20;
    private static final long SEGMENT_BYTES_SMALL = 2048;

    @TempDir
    Path temporary;

    private final Storage storage = new FileStorage();
    private Path directory;
    /** The chain hash after each batch, by the batch's last seq. */
    private final Map<Long, byte[]> hashAtSeq = new HashMap<>();
    /** The last seq of each batch appended, in order. */
    private final List<Long> batchEnds = new ArrayList<>();

    @BeforeEach
    void setUp() {
        directory = temporary.resolve("journal");
        hashAtSeq.put(0L, JournalFormat.HASH_ZERO);
    }

    // ---- Appending and reading back ----

    @Test
    void batchesAppendedAreReadBackInOrderAfterReopening() throws IOException {
        byte[] head;
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            assertThat(journal.lastSeq()).isZero();
            assertThat(journal.headHash()).isEqualTo(JournalFormat.HASH_ZERO);
            appendBatches(journal, 1, 1, 1, 2, 3, 7, 1, 20);
            assertThat(journal.lastSeq()).isEqualTo(35);
            head = journal.headHash();
        }

        List<Recorded> events = new ArrayList<>();
        try (Journal journal = open(SEGMENT_BYTES_LARGE, events)) {
            assertThat(journal.lastSeq()).isEqualTo(35);
            assertThat(journal.headHash()).isEqualTo(head);
            assertThat(journal.recovery().tornTail()).isNull();
            assertThat(journal.recovery().quarantineFile()).isNull();
        }
        assertThat(events).isEqualTo(expected(1, 35));
        assertThat(segments()).containsExactly(JournalFormat.segmentName(1));
    }

    @Test
    void anEmptyJournalOpensAndAppendsFromSeqOne() throws IOException {
        List<Recorded> events = new ArrayList<>();
        try (Journal journal = open(SEGMENT_BYTES_LARGE, events)) {
            assertThat(events).isEmpty();
            assertThatThrownBy(() -> appendBatch(journal, 2, 1)).isInstanceOf(IllegalStateException.class);
            appendBatch(journal, 1, 3);
        }
        try (Journal journal = open(SEGMENT_BYTES_LARGE, events)) {
            assertThat(journal.lastSeq()).isEqualTo(3);
        }
        assertThat(events).isEqualTo(expected(1, 3));
    }

    @Test
    void segmentsRollOverAndAreReadAcross() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 60, new Random(1));
        }
        long lastSeq = batchEnds.get(batchEnds.size() - 1);
        List<String> segments = segments();
        assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
        assertThat(segments.get(0)).isEqualTo(JournalFormat.segmentName(1));
        for (String name : segments) {
            byte[] bytes = Files.readAllBytes(directory.resolve(name));
            JournalFormat.SegmentHeader header = JournalFormat.parseSegmentHeader(ByteBuffer.wrap(bytes));
            assertThat(header).as(name).isNotNull();
            assertThat(header.firstSeq()).isEqualTo(JournalFormat.firstSeqOf(name));
            assertThat(header.previousHash()).as(name).isEqualTo(hashAtSeq.get(header.firstSeq() - 1));
            // A segment only exceeds its limit when it holds a single batch that is larger.
            int batches = batchOffsets(directory.resolve(name)).size();
            assertThat(bytes.length <= SEGMENT_BYTES_SMALL || batches == 1).as(name).isTrue();
        }

        List<Recorded> events = new ArrayList<>();
        try (Journal journal = open(SEGMENT_BYTES_SMALL, events)) {
            assertThat(journal.lastSeq()).isEqualTo(lastSeq);
            appendBatch(journal, lastSeq + 1, 5);
        }
        events.clear();
        try (Journal journal = open(SEGMENT_BYTES_SMALL, events)) {
            assertThat(journal.lastSeq()).isEqualTo(lastSeq + 5);
        }
        assertThat(events).isEqualTo(expected(1, lastSeq + 5));
    }

    @Test
    void theReaderSeeksToAnyBatchAndReadsOnAcrossSegments() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 40, new Random(2));
        }
        long lastSeq = batchEnds.get(batchEnds.size() - 1);
        List<Long> positions = new ArrayList<>(batchEnds);
        positions.add(0, 0L);
        for (long afterSeq : positions) {
            try (JournalReader reader = new JournalReader(storage, directory, true)) {
                reader.seek(afterSeq);
                assertThat(reader.nextSeq()).as("after seq %d", afterSeq).isEqualTo(afterSeq + 1);
                assertThat(reader.chainHash()).as("after seq %d", afterSeq).isEqualTo(hashAtSeq.get(afterSeq));
                assertThat(readAll(reader)).as("after seq %d", afterSeq).isEqualTo(expected(afterSeq + 1, lastSeq));
                assertThat(reader.tornTail()).isNull();
            }
        }
    }

    @Test
    void seekingIntoTheMiddleOfABatchPositionsOnThatBatch() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 5, 5, 5);
        }
        try (JournalReader reader = new JournalReader(storage, directory, true)) {
            reader.seek(7);
            JournalReader.Batch batch = reader.next(Long.MAX_VALUE);
            assertThat(batch.header().firstSeq()).isEqualTo(6);
            assertThat(batch.header().count()).isEqualTo(5);
            assertThat(batch.file()).isEqualTo(directory.resolve(JournalFormat.segmentName(1)));
            assertThat(batch.offset()).isEqualTo(batchOffsets(batch.file()).get(1));
        }
    }

    @Test
    void theReaderStopsAtTheSeqLimit() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 5, 5, 5);
        }
        try (JournalReader reader = new JournalReader(storage, directory, true)) {
            reader.seek(0);
            assertThat(reader.next(10).header().firstSeq()).isEqualTo(1);
            assertThat(reader.next(10).header().firstSeq()).isEqualTo(6);
            assertThat(reader.next(10)).isNull();
            assertThat(reader.next(11).header().firstSeq()).isEqualTo(11);
        }
    }

    // ---- Snapshots ----

    @Test
    void recoveryStartsFromASnapshotPositionWithTheRightHash() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 40, new Random(3));
        }
        long lastSeq = batchEnds.get(batchEnds.size() - 1);
        long snapshotSeq = batchEnds.get(batchEnds.size() / 2);

        List<Recorded> events = new ArrayList<>();
        try (Journal journal = FileJournal.recover(storage, directory, SEGMENT_BYTES_SMALL, snapshotSeq,
                hashAtSeq.get(snapshotSeq), batch -> batch.forEach(events::add))) {
            assertThat(journal.lastSeq()).isEqualTo(lastSeq);
            assertThat(journal.headHash()).isEqualTo(hashAtSeq.get(lastSeq));
            appendBatch(journal, lastSeq + 1, 2);
        }
        assertThat(events).isEqualTo(expected(snapshotSeq + 1, lastSeq));

        events.clear();
        try (Journal journal = open(SEGMENT_BYTES_SMALL, events)) {
            assertThat(journal.lastSeq()).isEqualTo(lastSeq + 2);
        }
        assertThat(events).isEqualTo(expected(1, lastSeq + 2));
    }

    @Test
    void aSnapshotAtTheEndOfTheLogRecoversNothingMore() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 20, new Random(4));
        }
        long lastSeq = batchEnds.get(batchEnds.size() - 1);
        List<Recorded> events = new ArrayList<>();
        try (Journal journal = FileJournal.recover(storage, directory, SEGMENT_BYTES_SMALL, lastSeq,
                hashAtSeq.get(lastSeq), batch -> batch.forEach(events::add))) {
            assertThat(journal.lastSeq()).isEqualTo(lastSeq);
        }
        assertThat(events).isEmpty();
    }

    @Test
    void aSnapshotWithTheWrongHashIsRefused() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 20, new Random(5));
        }
        long snapshotSeq = batchEnds.get(10);
        byte[] wrong = hashAtSeq.get(snapshotSeq).clone();
        wrong[0] ^= 1;

        assertThatThrownBy(() -> FileJournal.recover(storage, directory, SEGMENT_BYTES_SMALL, snapshotSeq, wrong,
                batch -> {}))
                .isInstanceOf(SnapshotMismatchException.class)
                .hasMessageContaining("seq " + snapshotSeq);
        // The hash of another seq is just as wrong.
        assertThatThrownBy(() -> FileJournal.recover(storage, directory, SEGMENT_BYTES_SMALL, snapshotSeq,
                hashAtSeq.get(batchEnds.get(9)), batch -> {}))
                .isInstanceOf(SnapshotMismatchException.class);
    }

    @Test
    void aSnapshotPastTheEndOfTheLogIsRefused() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 5, 5);
        }
        assertThatThrownBy(() -> FileJournal.recover(storage, directory, SEGMENT_BYTES_LARGE, 15, hashAtSeq.get(10L),
                batch -> {}))
                .isInstanceOf(SnapshotMismatchException.class);
    }

    // ---- Torn writes ----

    @Test
    void aTornLastBatchIsQuarantinedAndCutOff() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4, 5, 6);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        long lastBatch = batchOffsets(segment).get(3);
        byte[] whole = Files.readAllBytes(segment);
        for (long cut : List.of(lastBatch + 1, lastBatch + JournalFormat.BATCH_HEADER_BYTES - 1,
                lastBatch + JournalFormat.BATCH_HEADER_BYTES + 10, (long) whole.length - 1)) {
            Files.write(segment, Arrays.copyOf(whole, (int) cut));
            deleteQuarantine();

            List<Recorded> events = new ArrayList<>();
            try (Journal journal = open(SEGMENT_BYTES_LARGE, events)) {
                assertThat(journal.lastSeq()).as("cut at %d", cut).isEqualTo(12);
                assertThat(journal.headHash()).isEqualTo(hashAtSeq.get(12L));
                Journal.Recovery recovery = journal.recovery();
                assertThat(recovery.tornTail().file()).isEqualTo(segment);
                assertThat(recovery.tornTail().offset()).isEqualTo(lastBatch);
                assertThat(recovery.tornTail().length()).isEqualTo(cut - lastBatch);
                Path quarantined = directory.resolve(FileJournal.QUARANTINE_DIRECTORY)
                        .resolve(JournalFormat.segmentName(1) + "@" + lastBatch + ".torn");
                assertThat(recovery.quarantineFile()).isEqualTo(quarantined);
                assertThat(Files.readAllBytes(quarantined))
                        .isEqualTo(Arrays.copyOfRange(whole, (int) lastBatch, (int) cut));
            }
            assertThat(Files.size(segment)).isEqualTo(lastBatch);
            assertThat(events).isEqualTo(expected(1, 12));
        }
    }

    @Test
    void afterATornBatchAppendingContinuesAndAThirdOpenReadsEverything() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4, 5, 6);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        long lastBatch = batchOffsets(segment).get(3);
        truncate(segment, lastBatch + 30);

        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            assertThat(journal.recovery().tornTail()).isNotNull();
            assertThat(journal.lastSeq()).isEqualTo(12);
            appendBatches(journal, 13, 2, 9);
        }
        List<Recorded> events = new ArrayList<>();
        try (Journal journal = open(SEGMENT_BYTES_LARGE, events)) {
            assertThat(journal.recovery().tornTail()).isNull();
            assertThat(journal.lastSeq()).isEqualTo(23);
            assertThat(journal.headHash()).isEqualTo(hashAtSeq.get(23L));
        }
        assertThat(events).isEqualTo(expected(1, 23));
    }

    @Test
    void garbageAfterTheLastBatchIsQuarantined() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        long end = Files.size(segment);
        byte[] garbage = new byte[1000];
        new Random(6).nextBytes(garbage);
        appendBytes(segment, garbage);

        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            assertThat(journal.lastSeq()).isEqualTo(7);
            assertThat(journal.recovery().tornTail().offset()).isEqualTo(end);
            assertThat(Files.readAllBytes(journal.recovery().quarantineFile())).isEqualTo(garbage);
            appendBatch(journal, 8, 3);
        }
        // Zeros, as a file system that extended the file but never wrote its blocks leaves them.
        appendBytes(segment, new byte[100]);
        List<Recorded> events = new ArrayList<>();
        try (Journal journal = open(SEGMENT_BYTES_LARGE, events)) {
            assertThat(journal.lastSeq()).isEqualTo(10);
            assertThat(journal.recovery().tornTail().length()).isEqualTo(100);
        }
        assertThat(events).isEqualTo(expected(1, 10));
        assertThat(storage.list(directory.resolve(FileJournal.QUARANTINE_DIRECTORY))).hasSize(2);
    }

    @Test
    void aTornSegmentHeaderRemovesTheSegment() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(7));
        }
        List<String> segments = segments();
        String last = segments.get(segments.size() - 1);
        long lastFirstSeq = JournalFormat.firstSeqOf(last);
        truncate(directory.resolve(last), 40);

        List<Recorded> events = new ArrayList<>();
        try (Journal journal = open(SEGMENT_BYTES_SMALL, events)) {
            assertThat(journal.lastSeq()).isEqualTo(lastFirstSeq - 1);
            assertThat(journal.headHash()).isEqualTo(hashAtSeq.get(lastFirstSeq - 1));
            assertThat(journal.recovery().tornTail().offset()).isZero();
            assertThat(journal.recovery().quarantineFile().getFileName().toString()).isEqualTo(last + "@0.torn");
            assertThat(segments()).doesNotContain(last);
            appendBatch(journal, lastFirstSeq, 4);
        }
        assertThat(events).isEqualTo(expected(1, lastFirstSeq - 1));
        events.clear();
        try (Journal journal = open(SEGMENT_BYTES_SMALL, events)) {
            assertThat(journal.lastSeq()).isEqualTo(lastFirstSeq + 3);
        }
        assertThat(events).isEqualTo(expected(1, lastFirstSeq + 3));
    }

    @Test
    void aTornSegmentHeaderAfterASnapshotKeepsTheEventsBeforeIt() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(8));
        }
        List<String> segments = segments();
        String last = segments.get(segments.size() - 1);
        long lastFirstSeq = JournalFormat.firstSeqOf(last);
        truncate(directory.resolve(last), 40);

        // A snapshot taken at the end of the segment before the torn one.
        long snapshotSeq = lastFirstSeq - 1;
        List<Recorded> events = new ArrayList<>();
        try (Journal journal = FileJournal.recover(storage, directory, SEGMENT_BYTES_SMALL, snapshotSeq,
                hashAtSeq.get(snapshotSeq), batch -> batch.forEach(events::add))) {
            assertThat(journal.lastSeq()).isEqualTo(snapshotSeq);
            assertThat(journal.headHash()).isEqualTo(hashAtSeq.get(snapshotSeq));
            assertThat(journal.recovery().tornTail().offset()).isZero();
            appendBatch(journal, snapshotSeq + 1, 3);
        }
        assertThat(events).isEmpty();
        try (Journal journal = open(SEGMENT_BYTES_SMALL, events)) {
            assertThat(journal.lastSeq()).isEqualTo(snapshotSeq + 3);
        }
        assertThat(events).isEqualTo(expected(1, snapshotSeq + 3));
    }

    // ---- Corruption ----

    @Test
    void aFlippedBitInTheBodyOfABatchInTheMiddleIsCorruption() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4, 5, 6);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        long middle = batchOffsets(segment).get(1);
        flipBit(segment, middle + JournalFormat.BATCH_HEADER_BYTES + 17, 3);

        assertCorruptAt(segment, middle);
    }

    @Test
    void aFlippedBitInTheHeaderOfABatchInTheMiddleIsCorruption() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4, 5, 6);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        long middle = batchOffsets(segment).get(2);
        // Every field of the header: magic, length, first seq, count, body CRC, hash, CRC.
        for (int at : List.of(0, 5, 15, 19, 22, 40, 58, 63)) {
            flipBit(segment, middle + at, at % 8);
            assertCorruptAt(segment, middle);
            flipBit(segment, middle + at, at % 8);
        }
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            assertThat(journal.lastSeq()).isEqualTo(18);
        }
    }

    @Test
    void aDamagedLastBatchOfASegmentThatIsNotTheLastIsCorruption() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(9));
        }
        Path first = directory.resolve(segments().get(0));
        List<Long> offsets = batchOffsets(first);
        long lastBatch = offsets.get(offsets.size() - 1);
        flipBit(first, Files.size(first) - 1, 0);
        assertCorruptAt(first, lastBatch);

        // Cut short, as a torn write would leave it: still corruption, since later segments exist.
        truncate(first, Files.size(first) - 1);
        assertCorruptAt(first, lastBatch);
    }

    @Test
    void aDamagedSegmentHeaderThatIsNotTheLastIsCorruption() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(10));
        }
        Path second = directory.resolve(segments().get(1));
        flipBit(second, 20, 1);
        assertCorruptAt(second, 0);
    }

    @Test
    void aLastSegmentOfAnotherFormatVersionIsRefusedNotQuarantined() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        byte[] bytes = Files.readAllBytes(segment);
        ByteBuffer header = ByteBuffer.wrap(bytes);
        header.putInt(8, JournalFormat.FORMAT_VERSION + 1);
        header.putInt(60, JournalFormat.crc(header, 0, JournalFormat.SEGMENT_HEADER_BYTES - 4));
        Files.write(segment, bytes);

        assertThatThrownBy(() -> open(SEGMENT_BYTES_LARGE, new ArrayList<>()))
                .isInstanceOfSatisfying(JournalCorruptException.class, corrupt -> {
                    assertThat(corrupt.file()).isEqualTo(segment);
                    assertThat(corrupt.offset()).isZero();
                })
                .hasMessageContaining("format version " + (JournalFormat.FORMAT_VERSION + 1));
        assertThat(Files.readAllBytes(segment)).isEqualTo(bytes);
        assertThat(directory.resolve(FileJournal.QUARANTINE_DIRECTORY)).doesNotExist();
    }

    @Test
    void aMissingMiddleSegmentIsCorruption() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(11));
        }
        List<String> segments = segments();
        assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
        Files.delete(directory.resolve(segments.get(1)));

        assertThatThrownBy(() -> open(SEGMENT_BYTES_SMALL, new ArrayList<>()))
                .isInstanceOfSatisfying(JournalCorruptException.class, corrupt -> {
                    assertThat(corrupt.file()).isEqualTo(directory.resolve(segments.get(2)));
                    assertThat(corrupt.offset()).isZero();
                })
                .hasMessageContaining("missing");
    }

    @Test
    void aMissingFirstSegmentIsCorruption() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(12));
        }
        Files.delete(directory.resolve(segments().get(0)));

        assertThatThrownBy(() -> open(SEGMENT_BYTES_SMALL, new ArrayList<>()))
                .isInstanceOf(JournalCorruptException.class);
    }

    @Test
    void aBatchChangedWithBothChecksumsFixedBreaksTheHashChain() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_LARGE, new ArrayList<>())) {
            appendBatches(journal, 1, 3, 4, 5, 6);
        }
        Path segment = directory.resolve(JournalFormat.segmentName(1));
        long middle = batchOffsets(segment).get(1);
        byte[] bytes = Files.readAllBytes(segment);
        ByteBuffer file = ByteBuffer.wrap(bytes);
        int bodyLength = file.getInt((int) middle + 4);
        // The lowest byte of the first record's time: length, type and version come before it.
        int changed = (int) middle + JournalFormat.BATCH_HEADER_BYTES + 2 + 1 + 1 + 7;
        bytes[changed] ^= 0x01;
        ByteBuffer batch = file.slice((int) middle, JournalFormat.BATCH_HEADER_BYTES + bodyLength);
        batch.putInt(20, JournalFormat.crc(batch, JournalFormat.BATCH_HEADER_BYTES, bodyLength));
        batch.putInt(60, JournalFormat.crc(batch, 0, JournalFormat.BATCH_HEADER_BYTES - 4));
        Files.write(segment, bytes);

        // Both checksums hold, so a reader that does not check the chain reads the forgery.
        try (JournalReader reader = new JournalReader(storage, directory, false)) {
            reader.seek(0);
            List<Recorded> forged = readAll(reader);
            assertThat(forged).hasSize(18);
            assertThat(forged).isNotEqualTo(expected(1, 18));
        }
        assertThatThrownBy(() -> open(SEGMENT_BYTES_LARGE, new ArrayList<>()))
                .isInstanceOfSatisfying(JournalCorruptException.class, corrupt -> {
                    assertThat(corrupt.file()).isEqualTo(segment);
                    assertThat(corrupt.offset()).isEqualTo(middle);
                })
                .hasMessageContaining("hash chain");
    }

    @Test
    void aSegmentHeaderChangedWithItsChecksumFixedBreaksTheHashChain() throws IOException {
        try (Journal journal = open(SEGMENT_BYTES_SMALL, new ArrayList<>())) {
            appendRandomBatches(journal, 30, new Random(13));
        }
        Path second = directory.resolve(segments().get(1));
        byte[] bytes = Files.readAllBytes(second);
        ByteBuffer header = ByteBuffer.wrap(bytes);
        bytes[30] ^= 0x40; // inside the previous chain hash
        header.putInt(60, JournalFormat.crc(header, 0, JournalFormat.SEGMENT_HEADER_BYTES - 4));
        Files.write(second, bytes);

        assertThatThrownBy(() -> open(SEGMENT_BYTES_SMALL, new ArrayList<>()))
                .isInstanceOfSatisfying(JournalCorruptException.class, corrupt -> {
                    assertThat(corrupt.file()).isEqualTo(second);
                    assertThat(corrupt.offset()).isZero();
                })
                .hasMessageContaining("hash chain");
    }

    // ---- Helpers ----

    private Journal open(long segmentBytesMax, List<Recorded> events) throws IOException {
        return FileJournal.recover(storage, directory, segmentBytesMax, 0, null, batch -> batch.forEach(events::add));
    }

    private void assertCorruptAt(Path file, long offset) {
        assertThatThrownBy(() -> open(SEGMENT_BYTES_LARGE, new ArrayList<>()))
                .isInstanceOfSatisfying(JournalCorruptException.class, corrupt -> {
                    assertThat(corrupt.file()).isEqualTo(file);
                    assertThat(corrupt.offset()).isEqualTo(offset);
                    assertThat(corrupt.getMessage()).contains(file.toString()).contains("offset " + offset);
                });
        assertThat(directory.resolve(FileJournal.QUARANTINE_DIRECTORY)).doesNotExist();
    }

    private void appendBatches(Journal journal, long firstSeq, int... counts) throws IOException {
        long seq = firstSeq;
        for (int count : counts) {
            appendBatch(journal, seq, count);
            seq += count;
        }
    }

    private void appendRandomBatches(Journal journal, int batches, Random random) throws IOException {
        long seq = journal.lastSeq() + 1;
        for (int index = 0; index < batches; index++) {
            int count = 1 + random.nextInt(12);
            appendBatch(journal, seq, count);
            seq += count;
        }
    }

    private void appendBatch(Journal journal, long firstSeq, int count) throws IOException {
        journal.append(batch(firstSeq, count), firstSeq, count);
        journal.force();
        long lastSeq = firstSeq + count - 1;
        hashAtSeq.put(lastSeq, journal.headHash());
        batchEnds.add(lastSeq);
    }

    /** A batch buffer as the sequencer builds one: room for the header, then the records. */
    static ByteBuffer batch(long firstSeq, int count) {
        ByteBuffer buffer = ByteBuffer.allocate(JournalFormat.BATCH_HEADER_BYTES + count * EventCodec.RECORD_BYTES_MAX);
        buffer.position(JournalFormat.BATCH_HEADER_BYTES);
        for (long seq = firstSeq; seq < firstSeq + count; seq++) {
            EventCodec.encode(buffer, timeOf(seq), eventOf(seq));
        }
        return buffer.flip();
    }

    /** The event written at a seq: every type, with and without an idempotency key. */
    static Event eventOf(long seq) {
        long account = 1_000_000_000_000_000L + seq;
        Idempotency key = seq % 3 == 0 ? new Idempotency("key-" + seq, "fingerprint-" + seq) : null;
        return switch ((int) (seq % 4)) {
            case 0 -> new Event.AccountOpened(account, "user" + seq + "@example.com", "$2a$04$hash" + seq, 100_000, key);
            case 1 -> new Event.AccountVerified(account);
            case 2 -> new Event.MoneyTransferred(account, account + 1, seq, key);
            default -> new Event.MoneyWithdrawn(account, seq * 7, key);
        };
    }

    static long timeOf(long seq) {
        return 1_795_687_200_000_000L + seq * 1_000;
    }

    static List<Recorded> expected(long fromSeq, long toSeq) {
        List<Recorded> events = new ArrayList<>();
        for (long seq = fromSeq; seq <= toSeq; seq++) {
            events.add(new Recorded(seq, timeOf(seq), eventOf(seq)));
        }
        return events;
    }

    private static List<Recorded> readAll(JournalReader reader) throws IOException {
        List<Recorded> events = new ArrayList<>();
        JournalReader.Batch batch;
        while ((batch = reader.next(Long.MAX_VALUE)) != null) {
            batch.forEach(events::add);
        }
        return events;
    }

    private List<String> segments() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(path -> path.getFileName().toString())
                    .filter(name -> name.endsWith(JournalFormat.SEGMENT_SUFFIX)).sorted().toList();
        }
    }

    /** The offsets of the batches in a segment, found by their headers' body lengths. */
    private static List<Long> batchOffsets(Path segment) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(segment));
        List<Long> offsets = new ArrayList<>();
        int offset = JournalFormat.SEGMENT_HEADER_BYTES;
        while (offset + JournalFormat.BATCH_HEADER_BYTES <= bytes.limit()) {
            offsets.add((long) offset);
            offset += JournalFormat.BATCH_HEADER_BYTES + bytes.getInt(offset + 4);
        }
        return offsets;
    }

    private static void flipBit(Path file, long offset, int bit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) offset] ^= (byte) (1 << bit);
        Files.write(file, bytes);
    }

    private static void truncate(Path file, long size) throws IOException {
        Files.write(file, Arrays.copyOf(Files.readAllBytes(file), (int) size));
    }

    private static void appendBytes(Path file, byte[] more) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        byte[] longer = Arrays.copyOf(bytes, bytes.length + more.length);
        System.arraycopy(more, 0, longer, bytes.length, more.length);
        Files.write(file, longer);
    }

    private void deleteQuarantine() throws IOException {
        Path quarantine = directory.resolve(FileJournal.QUARANTINE_DIRECTORY);
        if (Files.exists(quarantine)) {
            try (Stream<Path> files = Files.list(quarantine)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
        }
    }
}
