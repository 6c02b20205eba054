package eventbank.engine.journal;

import eventbank.engine.journal.JournalReader.TornTail;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The {@link Journal} in segment files: appends sealed batches to the newest segment and forces
 * them to disk. Only the sequencer's journal thread writes to it. It is opened by {@link
 * #recover}, which reads the log from a snapshot's position to its end, checks it, and moves a
 * torn last write out of the way before anything new is appended.
 */
public final class FileJournal implements Journal {
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());
    public static final String QUARANTINE_DIRECTORY = "quarantine";

    /**
     * The name of the file made ready to become the next segment. A rollover renames it, so it
     * needs no new file descriptor: a process out of them (a flood of connections) must not fail
     * the journal. Other names in the journal directory are ignored by readers.
     */
    public static final String NEXT_SEGMENT_FILE_NAME = "next-segment";

    private final Storage storage;
    private final Path directory;
    private final long segmentBytesMax;
    private final MessageDigest sha256 = JournalFormat.newSha256();
    private final Recovery recovery;
    /** The journal directory, held open for the fsync that makes a new segment's name durable. */
    private final Storage.Directory directoryHandle;
    private StorageFile current;
    private long currentSize;
    /** The file that becomes the next segment; null until it could be made (see {@link #prepareNext}). */
    private StorageFile next;
    private long lastSeq;
    private byte[] headHash;

    private FileJournal(Storage storage, Path directory, long segmentBytesMax, Recovery recovery,
                    Path currentPath, long currentSize) throws IOException {
        this.storage = storage;
        this.directory = directory;
        this.segmentBytesMax = segmentBytesMax;
        this.recovery = recovery;
        this.lastSeq = recovery.lastSeq();
        this.headHash = recovery.headHash();
        this.directoryHandle = storage.openDirectory(directory);
        try {
            if (currentPath != null) {
                this.current = storage.open(currentPath, false);
                this.currentSize = currentSize;
            }
            prepareNext();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Opens the journal for writing. Reads it whole, checking checksums and the hash chain, and
     * hands every batch after {@code afterSeq} (a snapshot's seq, or 0) to {@code replay};
     * when {@code expectedHash} is given it must be the chain hash as of {@code afterSeq}. A torn
     * tail is copied to a quarantine file and cut off; any other damage is a
     * {@link JournalCorruptException}.
     */
    public static FileJournal recover(Storage storage, Path directory, long segmentBytesMax, long afterSeq,
                                      byte[] expectedHash, BatchConsumer replay) throws IOException {
        return recover(storage, directory, segmentBytesMax, afterSeq, expectedHash, replay, (last, hash, torn) -> { });
    }

    /**
     * As above, with {@code endCheck} judging the end found before a torn tail is cut: a start
     * it refuses leaves the journal untouched, for an operator to look at.
     */
    public static FileJournal recover(Storage storage, Path directory, long segmentBytesMax, long afterSeq,
                                      byte[] expectedHash, BatchConsumer replay, EndCheck endCheck)
            throws IOException {
        storage.createDirectories(directory);
        try (JournalReader reader = new JournalReader(storage, directory, true)) {
            // Every batch is read and checked from seq 1, also those the snapshot covers (their
            // records are not decoded, their chain hashes not recomputed): damage anywhere stops
            // the start as it fails verify, and the chain leading to the snapshot's seq is the
            // snapshot's own.
            reader.recomputeChainAfter(afterSeq);
            reader.seek(0);
            SnapshotReplay snapshotReplay = new SnapshotReplay(afterSeq, expectedHash, replay);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                snapshotReplay.accept(batch);
            }
            TornTail torn = reader.tornTail();
            endCheck.check(reader.nextSeq() - 1, reader.chainHash(), torn);
            snapshotReplay.requirePast(reader.nextSeq() - 1);
            Path quarantined = torn == null ? null : quarantine(storage, directory, torn);
            Path currentPath = reader.segment();
            if (torn != null && torn.offset() == 0) {
                currentPath = null; // the whole segment was torn and is gone
            }
            Recovery recovery = new Recovery(reader.nextSeq() - 1, reader.chainHash(), torn, quarantined);
            long size = currentPath == null ? 0 : (torn != null ? torn.offset() : reader.offset());
            return new FileJournal(storage, directory, segmentBytesMax, recovery, currentPath, size);
        }
    }

    @Override
    public Recovery recovery() {
        return recovery;
    }

    @Override
    public long lastSeq() {
        return lastSeq;
    }

    @Override
    public byte[] headHash() {
        return headHash.clone();
    }

    /** Seals the batch and writes it at the end of the newest segment, starting a new one when it is full. */
    @Override
    public void append(ByteBuffer batch, long firstSeq, int count) throws IOException {
        Journal.requireFollows(lastSeq, firstSeq, count);
        long bytes = batch.limit();
        if (current == null || currentSize > JournalFormat.SEGMENT_HEADER_BYTES && currentSize + bytes > segmentBytesMax) {
            startSegment(firstSeq);
        }
        headHash = JournalFormat.sealBatch(batch, firstSeq, count, headHash, sha256);
        batch.position(0);
        current.write(batch, currentSize);
        currentSize += bytes;
        lastSeq += count;
    }

    /** Forces the newest segment: an fsync (a new segment's own header and name were forced when it started). */
    @Override
    public void force() throws IOException {
        if (current != null) {
            current.force();
        }
    }

    /** A reader of the segments, for another thread; it checks every batch's CRC32Cs, not the chain. */
    @Override
    public Reader newReader() {
        return new JournalReader(storage, directory, false);
    }

    @Override
    public void close() throws IOException {
        try (directoryHandle) {
            if (current != null) {
                current.close();
                current = null;
            }
            if (next != null) {
                next.close();
                next = null;
            }
        }
    }

    /**
     * A new segment is durable, name included, before any batch is written to it: its header is
     * written and forced in the file made ready beforehand, which is then renamed and the
     * directory fsynced through the handle held open. None of this opens a file.
     *
     * <p>When no file could be made ready (the process was out of file descriptors when the last
     * segment started, and is still), the batch goes on into the current segment, which grows
     * past its limit until a file can be made. Failing to create a file that does not exist yet
     * harms nothing and may be tried again; a failed write, fsync or rename stays fail-stop.
     */
    private void startSegment(long firstSeq) throws IOException {
        if (current == null) {
            prepareNextOrThrow(); // the very first segment, or the first after a torn header
        } else if (!prepareNext()) {
            return;
        }
        StorageFile file = next;
        file.truncate(0);
        file.write(JournalFormat.segmentHeader(firstSeq, headHash), 0);
        file.force();
        if (current != null) {
            current.force();
        }
        storage.rename(directory.resolve(NEXT_SEGMENT_FILE_NAME), directory.resolve(JournalFormat.segmentName(firstSeq)));
        directoryHandle.sync();
        next = null;
        if (current != null) {
            current.close();
        }
        current = file;
        currentSize = JournalFormat.SEGMENT_HEADER_BYTES;
        prepareNext();
    }

    /** Makes the next segment's file ready when it is not; false when it cannot be created now. */
    private boolean prepareNext() {
        if (next != null) {
            return true;
        }
        try {
            prepareNextOrThrow();
            return true;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot create the journal's next segment file now ("
                    + e + "); the current segment grows past its limit until it can");
            return false;
        }
    }

    private void prepareNextOrThrow() throws IOException {
        if (next == null) {
            next = storage.open(directory.resolve(NEXT_SEGMENT_FILE_NAME), true);
        }
    }

    /** Copies a torn tail aside, durably, then cuts it off the segment. */
    private static Path quarantine(Storage storage, Path directory, TornTail torn) throws IOException {
        Path quarantineDirectory = directory.resolve(QUARANTINE_DIRECTORY);
        storage.createDirectories(quarantineDirectory);
        // A second tear at the same place (crash, recover, append, crash) keeps the first file.
        String base = torn.file().getFileName() + "@" + torn.offset();
        Path target = quarantineDirectory.resolve(base + ".torn");
        for (int copy = 2; storage.exists(target); copy++) {
            target = quarantineDirectory.resolve(base + "-" + copy + ".torn");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) torn.length());
        try (StorageFile source = storage.openReadOnly(torn.file());
             StorageFile copy = storage.open(target, true)) {
            source.read(bytes, torn.offset());
            bytes.flip();
            copy.truncate(0);
            copy.write(bytes, 0);
            copy.force();
        }
        storage.syncDirectory(quarantineDirectory);
        if (torn.offset() == 0) {
            storage.delete(torn.file());
        } else {
            try (StorageFile segment = storage.open(torn.file(), false)) {
                segment.truncate(torn.offset());
                segment.force();
            }
        }
        storage.syncDirectory(directory);
        return target;
    }
}
