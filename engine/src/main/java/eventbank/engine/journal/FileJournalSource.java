package eventbank.engine.journal;

import eventbank.core.Recorded;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The segment files of a journal directory as a {@link JournalSource}. It holds no open file
 * between calls. A batch being written (or torn) at the end is just the end: readers stop before
 * it and report it as their torn tail.
 */
public final class FileJournalSource implements JournalSource {
    private final Storage storage;
    private final Path directory;

    public FileJournalSource(Storage storage, Path journalDirectory) {
        this.storage = storage;
        this.directory = journalDirectory;
    }

    public Path directory() {
        return directory;
    }

    @Override
    public JournalReader newReader(boolean verifyChain) {
        return new JournalReader(storage, directory, verifyChain);
    }

    @Override
    public boolean isEmpty() throws IOException {
        return segmentFirstSeqs().isEmpty();
    }

    @Override
    public long lastSeq() throws IOException {
        if (isEmpty()) {
            return 0;
        }
        try (JournalReader reader = newReader(false)) {
            reader.seek(Long.MAX_VALUE);
            return reader.nextSeq() - 1;
        }
    }

    /**
     * Binary-searches the segments by the time of their first event (one small read per probe),
     * then scans the one segment that holds the answer linearly, batch by batch, stopping at the
     * first event after the instant; so it costs at most about one segment's read.
     */
    @Override
    public long seqAtTimeMicros(long timeMicros) throws IOException {
        List<Long> segments = segmentFirstSeqs();
        // The last segment whose first event is at or before the instant holds the answer (or,
        // when it ends before the instant, its last event is the answer).
        int low = 0;
        int high = segments.size() - 1;
        int found = -1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            long first = firstEventTime(segments.get(middle), middle == segments.size() - 1);
            if (first <= timeMicros) {
                found = middle;
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        if (found < 0) {
            return 0;
        }
        try (JournalReader reader = newReader(false)) {
            return JournalSource.lastSeqAtOrBefore(reader, segments.get(found), timeMicros);
        }
    }

    /** Files record no head apart from their last batch. */
    @Override
    public Head recordedHead() {
        return null;
    }

    /**
     * The time of a segment's first event, read straight from its first batch; for the last
     * segment, {@link Long#MAX_VALUE} when it has no whole batch yet (just rolled over, or being
     * written). Damage in any other segment is corruption.
     */
    private long firstEventTime(long firstSeq, boolean last) throws IOException {
        Path path = directory.resolve(JournalFormat.segmentName(firstSeq));
        try (StorageFile file = storage.openReadOnly(path)) {
            int headers = JournalFormat.SEGMENT_HEADER_BYTES + JournalFormat.BATCH_HEADER_BYTES;
            ByteBuffer bytes = ByteBuffer.allocate(headers);
            String problem = null;
            JournalFormat.BatchHeader batch = null;
            if (file.read(bytes, 0) < headers) {
                problem = "the segment holds no whole batch header";
            } else {
                JournalFormat.SegmentHeader segment =
                        JournalFormat.parseSegmentHeader(bytes.slice(0, JournalFormat.SEGMENT_HEADER_BYTES));
                batch = JournalFormat.parseBatchHeader(
                        bytes.slice(JournalFormat.SEGMENT_HEADER_BYTES, JournalFormat.BATCH_HEADER_BYTES));
                if (segment == null || segment.firstSeq() != firstSeq) {
                    problem = "the segment header is damaged";
                } else if (batch == null || batch.firstSeq() != firstSeq || batch.count() <= 0) {
                    problem = "the first batch header is damaged";
                }
            }
            if (problem == null) {
                ByteBuffer body = ByteBuffer.allocate(batch.bodyLength());
                if (file.read(body, headers) < batch.bodyLength()) {
                    problem = "the first batch body is incomplete";
                } else if (JournalFormat.crc(body.flip(), 0, batch.bodyLength()) != batch.bodyCrc()) {
                    problem = "the first batch body fails its CRC32C";
                } else {
                    Recorded recorded = EventCodec.decode(body, firstSeq);
                    return recorded.timeMicros();
                }
            }
            if (last) {
                return Long.MAX_VALUE;
            }
            throw new JournalCorruptException(path, JournalFormat.SEGMENT_HEADER_BYTES,
                    problem + " in a segment that is not the last");
        }
    }

    private List<Long> segmentFirstSeqs() throws IOException {
        return storage.list(directory).stream().map(JournalFormat::firstSeqOf).filter(first -> first > 0)
                .sorted().toList();
    }
}
