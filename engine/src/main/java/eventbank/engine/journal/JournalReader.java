package eventbank.engine.journal;

import eventbank.core.Recorded;
import eventbank.engine.journal.JournalFormat.BatchHeader;
import eventbank.engine.journal.JournalFormat.SegmentHeader;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads the journal batch by batch, from any seq, checking every batch's checksums and, when
 * asked, the hash chain. It never writes: recovery decides what to do with a torn tail.
 *
 * <p>Damage is judged as TigerBeetle does: a batch that does not check out is a torn write only
 * when it is at the very end of the log (the last segment, with no sound batch header after
 * it), since only the last write can be torn by a crash. Anything else is corruption, and
 * reading stops with a {@link JournalCorruptException} that names the file and the offset.
 */
public final class JournalReader implements Journal.Reader {
    private static final int READ_AHEAD_BYTES = 1 << 20;

    /** One batch as read: its header, its body (valid until the next read) and where it was. */
    public record Batch(BatchHeader header, ByteBuffer body, Path file, long offset) {
        /** Decodes the batch's records in order; sealed personal fields read as null (see the other forEach). */
        public void forEach(Consumer<Recorded> consumer) {
            forEach(null, consumer);
        }

        /** Decodes the batch's records in order, sealed personal fields to be opened with {@code keys}. */
        public void forEach(PersonalKeys keys, Consumer<Recorded> consumer) {
            ByteBuffer records = body.duplicate();
            for (int index = 0; index < header.count(); index++) {
                consumer.accept(EventCodec.decode(records, header.firstSeq() + index, keys));
            }
            if (records.hasRemaining()) {
                throw new MalformedRecordException("batch at seq " + header.firstSeq() + " has bytes after its records");
            }
        }
    }

    /** The bytes at the end of the log that do not form a whole, sound batch. */
    public record TornTail(Path file, long offset, long length, String problem) {}

    private final Storage storage;
    private final Path directory;
    private final boolean verifyChain;
    /** The chain is recomputed only for batches after this seq (see {@link #recomputeChainAfter}). */
    private long recomputeChainAfterSeq;
    private final MessageDigest sha256 = JournalFormat.newSha256();
    private final ByteBuffer header = ByteBuffer.allocate(JournalFormat.BATCH_HEADER_BYTES);
    /**
     * Read-ahead: bytes of the current segment from {@link #windowStart}, read in large pieces.
     * A log of many small batches (a lightly loaded server commits one event per fsync) would
     * otherwise cost two small reads a batch, and a start or a replay would crawl. Bytes once
     * written are never changed, so the window stays valid; what it holds of a batch still being
     * written fails its checksum and is read again from the file (see {@link #damaged}).
     */
    private ByteBuffer window = ByteBuffer.allocate(READ_AHEAD_BYTES);
    private long windowStart = -1;

    private StorageFile file;
    private Path path;
    private long segmentFirstSeq;
    private long fileSize;
    private long offset;
    private long nextSeq = 1;
    private byte[] previousHash = JournalFormat.HASH_ZERO;
    private TornTail tornTail;
    /** The segments seen at the last listing of the directory, by first seq, ascending. */
    private List<Long> knownSegments;
    /** Set when damage turned out to be a batch still being written: read it again. */
    private boolean lookAgain;

    public JournalReader(Storage storage, Path directory, boolean verifyChain) {
        this.storage = storage;
        this.directory = directory;
        this.verifyChain = verifyChain;
    }

    /**
     * Recomputes the chain hash (SHA-256 of every body) only for batches after {@code seq}; the
     * batches up to it are still checked by their CRC32Cs, their seqs and the chain hashes their
     * headers record (which each segment header must continue). Recovery reads the batches a
     * snapshot covers this way: every accidental damage is found as {@code verify} finds it, at
     * a fraction of the cost (SHA-256 in a fresh JVM made a start from a snapshot 5× slower);
     * only a deliberate edit that fixes up both CRCs is left to {@code verify}, which recomputes
     * the chain from seq 1. Only with {@code verifyChain}.
     */
    public void recomputeChainAfter(long seq) {
        recomputeChainAfterSeq = seq;
    }

    /** The seq of the first event not read yet. */
    @Override
    public long nextSeq() {
        return nextSeq;
    }

    /** The chain hash of the last batch read or skipped: the journal's head hash at the end. */
    @Override
    public byte[] chainHash() {
        return previousHash.clone();
    }

    /** Where the log ends in bytes that are not a whole batch, or null. */
    @Override
    public TornTail tornTail() {
        return tornTail;
    }

    /** The segment being read and the offset of the next batch in it; for the writer to go on. */
    public Path segment() {
        return path;
    }

    public long offset() {
        return offset;
    }

    /**
     * Positions the reader on the batch that holds {@code afterSeq + 1}, skipping earlier batches
     * of its segment by their headers alone. When {@code afterSeq} ends a batch, {@link
     * #chainHash()} is then the chain hash as of {@code afterSeq}.
     *
     * <p>It starts in the segment that holds {@code afterSeq} itself, not the one that holds
     * {@code afterSeq + 1}: when {@code afterSeq} ends a segment, the reader skips to that
     * segment's end and {@link #next} then opens the following one as it would in a full read,
     * checking its header against the chain and judging a torn header as the end of the log. A
     * seek straight into a following segment whose header is torn would leave the reader with
     * no position and no chain hash (recovery then reported seq 0).
     */
    @Override
    public void seek(long afterSeq) throws IOException {
        closeFile();
        tornTail = null;
        nextSeq = 1;
        previousHash = JournalFormat.HASH_ZERO;
        List<Long> segments = segmentFirstSeqs();
        long chosen = -1;
        for (long first : segments) {
            if (first <= Math.max(afterSeq, 1)) {
                chosen = first;
            }
        }
        if (chosen < 0) {
            if (!segments.isEmpty()) {
                throw new JournalCorruptException(directory.resolve(JournalFormat.segmentName(segments.get(0))), 0,
                        "the journal does not start at seq 1");
            }
            nextSeq = 1;
            previousHash = JournalFormat.HASH_ZERO;
            if (afterSeq > 0) {
                throw new JournalCorruptException(directory, 0, "seq " + afterSeq + " is past the end of an empty journal");
            }
            return;
        }
        if (!openSegment(chosen)) {
            return;
        }
        while (true) {
            BatchHeader batch = readHeader();
            if (batch == null && lookAgain) {
                lookAgain = false;
                continue;
            }
            if (batch == null || batch.lastSeq() > afterSeq) {
                return;
            }
            long end = offset + JournalFormat.BATCH_HEADER_BYTES + batch.bodyLength();
            if (end > fileSize) {
                // A header whose body the file does not hold (a truncated segment): stay on it,
                // so that next() judges it as a torn write or as corruption, as a full read does.
                // Skipping past the file's end made the next read ask for a negative length.
                return;
            }
            offset = end;
            nextSeq = batch.lastSeq() + 1;
            previousHash = batch.chainHash();
        }
    }

    /**
     * The next batch, or null at the end of the log (see {@link #tornTail()}) or when its first
     * seq would be past {@code seqLimit} (a live journal's committed seq).
     */
    @Override
    public Batch next(long seqLimit) throws IOException {
        Batch batch = readBatch(seqLimit);
        while (batch == null && lookAgain) {
            lookAgain = false;
            batch = readBatch(seqLimit);
        }
        return batch;
    }

    private Batch readBatch(long seqLimit) throws IOException {
        if (tornTail != null || nextSeq > seqLimit) {
            return null;
        }
        if (file != null && offset == fileSize) {
            fileSize = file.size(); // a live journal grows
        }
        if ((file == null || offset == fileSize) && !advanceSegment()) {
            return null;
        }
        if (offset == fileSize && !advanceSegment()) {
            return null; // the segment just opened holds its header alone (see advanceSegment)
        }
        long start = offset;
        BatchHeader batch = readHeader();
        if (batch == null) {
            return null;
        }
        long end = start + JournalFormat.BATCH_HEADER_BYTES + batch.bodyLength();
        if (end > fileSize && end > (fileSize = file.size())) {
            return damaged(start, "the batch body is incomplete");
        }
        ByteBuffer body = bytesAt(start + JournalFormat.BATCH_HEADER_BYTES, batch.bodyLength());
        if (body.remaining() < batch.bodyLength()
                || JournalFormat.crc(body, 0, batch.bodyLength()) != batch.bodyCrc()) {
            return damaged(start, "the batch body fails its CRC32C");
        }
        if (verifyChain && batch.firstSeq() > recomputeChainAfterSeq) {
            byte[] expected = JournalFormat.chainHash(sha256, previousHash,
                    JournalFormat.hashedHeaderFields(header), body);
            if (!Arrays.equals(expected, batch.chainHash())) {
                throw new JournalCorruptException(path, start, "the hash chain is broken at seq " + batch.firstSeq());
            }
        }
        offset = end;
        nextSeq = batch.lastSeq() + 1;
        previousHash = batch.chainHash();
        return new Batch(batch, body, path, start);
    }

    @Override
    public void close() throws IOException {
        closeFile();
    }

    /** Reads and checks the header at the current offset; null when the log ends there. */
    private BatchHeader readHeader() throws IOException {
        if (offset >= fileSize) {
            return null;
        }
        ByteBuffer bytes = bytesAt(offset, JournalFormat.BATCH_HEADER_BYTES);
        // A copy: the body's read may move the window, and the chain hash needs the header.
        header.clear().put(bytes).flip();
        if (header.remaining() < JournalFormat.BATCH_HEADER_BYTES) {
            return damaged(offset, "the batch header is incomplete");
        }
        BatchHeader batch = JournalFormat.parseBatchHeader(header);
        if (batch == null) {
            return damaged(offset, "the batch header fails its CRC32C");
        }
        if (batch.firstSeq() != nextSeq || batch.count() <= 0) {
            throw new JournalCorruptException(path, offset,
                    "expected a batch starting at seq " + nextSeq + ", found seq " + batch.firstSeq()
                            + " with " + batch.count() + " events");
        }
        return batch;
    }

    /** Opens the segment that must hold {@link #nextSeq} when the current one is used up. */
    private boolean advanceSegment() throws IOException {
        // Listing the directory at every segment would make a long read quadratic in the
        // number of segments; the list seen last serves until it lacks the segment wanted.
        // The segment being read ended without a batch (only its header): the next seq's
        // segment is this one, and there is no other to go on to. At the end of the log that is
        // a segment just started; with a later segment after it, the events between are missing.
        boolean endedEmpty = file != null && segmentFirstSeq == nextSeq;
        if (knownSegments == null || endedEmpty || Collections.binarySearch(knownSegments, nextSeq) < 0) {
            knownSegments = segmentFirstSeqs();
        }
        List<Long> segments = knownSegments;
        if (endedEmpty || Collections.binarySearch(segments, nextSeq) < 0) {
            Long later = segments.stream().filter(first -> first > nextSeq).findFirst().orElse(null);
            if (later != null) {
                throw new JournalCorruptException(directory.resolve(JournalFormat.segmentName(later)), 0,
                        "events from seq " + nextSeq + " to " + (later - 1) + " are missing");
            }
            return false;
        }
        closeFile();
        return openSegment(nextSeq);
    }

    private boolean openSegment(long firstSeq) throws IOException {
        path = directory.resolve(JournalFormat.segmentName(firstSeq));
        file = storage.openReadOnly(path);
        windowStart = -1;
        segmentFirstSeq = firstSeq;
        fileSize = file.size();
        offset = 0;
        ByteBuffer segmentHeader = ByteBuffer.allocate(JournalFormat.SEGMENT_HEADER_BYTES);
        file.read(segmentHeader, 0);
        segmentHeader.flip();
        SegmentHeader parsed = JournalFormat.parseSegmentHeader(segmentHeader);
        if (parsed == null) {
            if (segmentHeader.remaining() == JournalFormat.SEGMENT_HEADER_BYTES
                    && segmentHeader.getLong(0) == JournalFormat.SEGMENT_MAGIC
                    && segmentHeader.getInt(JournalFormat.SEGMENT_HEADER_BYTES - 4)
                            == JournalFormat.crc(segmentHeader, 0, JournalFormat.SEGMENT_HEADER_BYTES - 4)) {
                // A sound header of another format version (written by a newer build) is no torn
                // write: judging it as one would move the whole segment to the quarantine.
                throw new JournalCorruptException(path, 0, "the segment is in format version "
                        + segmentHeader.getInt(8) + "; this build reads version " + JournalFormat.FORMAT_VERSION);
            }
            List<Long> now = segmentFirstSeqs(); // judged on a fresh listing, not a remembered one
            boolean last = now.isEmpty() || now.get(now.size() - 1) == firstSeq;
            if (!last) {
                throw new JournalCorruptException(path, 0, "the segment header is damaged");
            }
            // A header is forced before any batch is written after it: with a sound batch after
            // it, the header was whole once, and its damage is no torn write.
            long sound = findSoundHeaderAfter(0);
            if (sound >= 0) {
                throw new JournalCorruptException(path, 0, "the segment header is damaged, and a sound batch follows"
                        + " at offset " + sound);
            }
            tornTail = new TornTail(path, 0, fileSize, "the segment header is incomplete or damaged");
            return false;
        }
        if (parsed.firstSeq() != firstSeq) {
            throw new JournalCorruptException(path, 0, "the segment header says seq " + parsed.firstSeq());
        }
        if (firstSeq == nextSeq && verifyChain && !Arrays.equals(parsed.previousHash(), previousHash)) {
            throw new JournalCorruptException(path, 0, "the segment does not continue the hash chain");
        }
        previousHash = parsed.previousHash();
        nextSeq = firstSeq;
        offset = JournalFormat.SEGMENT_HEADER_BYTES;
        return true;
    }

    /**
     * Judges a batch that does not check out: a torn write when nothing sound follows it in the
     * last segment, corruption otherwise.
     */
    private <T> T damaged(long at, String problem) throws IOException {
        windowStart = -1; // whatever is judged next is read afresh from the file
        if (isSoundNow(at)) {
            // Beside a live writer, a reader may catch a batch while it is being written; by now
            // the writer finished it (and perhaps wrote more, or rolled to a new segment), so
            // judging the old bytes would call a healthy journal corrupt. Read it again.
            lookAgain = true;
            return null;
        }
        List<Long> segments = segmentFirstSeqs();
        boolean lastSegment = segments.isEmpty() || segments.get(segments.size() - 1) == segmentFirstSeq;
        if (!lastSegment) {
            throw new JournalCorruptException(path, at, problem + " in a segment that is not the last");
        }
        long sound = findSoundHeaderAfter(at);
        if (sound >= 0) {
            throw new JournalCorruptException(path, at, problem + ", and a sound batch follows at offset " + sound);
        }
        tornTail = new TornTail(path, at, fileSize - at, problem);
        return null;
    }

    /**
     * {@code length} bytes of the current segment from {@code position}, or fewer at its end:
     * a view of the read-ahead window, valid until the next read.
     */
    private ByteBuffer bytesAt(long position, int length) throws IOException {
        if (windowStart < 0 || position < windowStart || position + length > windowStart + window.limit()) {
            if (window.capacity() < length) {
                window = ByteBuffer.allocate(length);
            }
            window.clear();
            file.read(window, position);
            window.flip();
            windowStart = position;
        }
        int from = (int) (position - windowStart);
        return window.slice(from, Math.min(length, window.limit() - from));
    }

    /** Whether the batch at {@code at} reads back whole now: header, length and body checksum. */
    private boolean isSoundNow(long at) throws IOException {
        fileSize = file.size();
        ByteBuffer again = ByteBuffer.allocate(JournalFormat.BATCH_HEADER_BYTES);
        if (file.read(again, at) < JournalFormat.BATCH_HEADER_BYTES) {
            return false;
        }
        BatchHeader batch = JournalFormat.parseBatchHeader(again.flip());
        if (batch == null || at + JournalFormat.BATCH_HEADER_BYTES + batch.bodyLength() > fileSize) {
            return false;
        }
        ByteBuffer bodyAgain = ByteBuffer.allocate(batch.bodyLength());
        file.read(bodyAgain, at + JournalFormat.BATCH_HEADER_BYTES);
        return JournalFormat.crc(bodyAgain.flip(), 0, batch.bodyLength()) == batch.bodyCrc();
    }

    /** The offset of the first sound batch header after {@code at}, or -1. Slow; only on damage. */
    private long findSoundHeaderAfter(long at) throws IOException {
        ByteBuffer rest = ByteBuffer.allocate((int) Math.min(fileSize - at, Integer.MAX_VALUE - 8));
        file.read(rest, at);
        rest.flip();
        for (int position = 1; position + JournalFormat.BATCH_HEADER_BYTES <= rest.limit(); position++) {
            if (rest.getInt(position) == JournalFormat.BATCH_MAGIC
                    && JournalFormat.parseBatchHeader(rest.slice(position, JournalFormat.BATCH_HEADER_BYTES)) != null) {
                return at + position;
            }
        }
        return -1;
    }

    private List<Long> segmentFirstSeqs() throws IOException {
        return storage.list(directory).stream().map(JournalFormat::firstSeqOf).filter(first -> first > 0).sorted().toList();
    }

    private void closeFile() throws IOException {
        if (file != null) {
            file.close();
            file = null;
        }
    }
}
