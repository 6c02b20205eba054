package eventbank.engine.journal;

import eventbank.engine.journal.JournalReader.TornTail;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The log of commit batches, as the engine writes and follows it: what the sequencer's journal
 * thread needs to append a batch durably and to know the head, and what a subscription needs to
 * read the committed log from any seq. {@link FileJournal} keeps it in segment files.
 *
 * <p>A batch is the same bytes whatever keeps it: a {@link JournalFormat} header (its seqs, the
 * CRC32Cs of header and body, the SHA-256 chain hash over the batch before it) sealed by {@link
 * JournalFormat#sealBatch}, then the {@link EventCodec} records. So a journal kept elsewhere
 * reads back, checks and chains exactly as the files do, and {@code verify} means the same. A
 * journal in a database, for one, keeps one row per commit batch holding those bytes, keyed by
 * its first seq: {@link #append} inserts the row in an open transaction and {@link #force}
 * commits it. A writer that is no longer the only one is fenced out by an epoch checked in that
 * same transaction: {@link #append} throws {@link JournalFencedException} (or, when the new
 * writer ended its session, {@link #force} throws {@link CommitOutcomeUnknownException}), and the
 * engine fails stop as it does on a failed fsync (it never retries, and answers the batch
 * "outcome unknown").
 *
 * <p>Threads: one thread writes ({@link #append}, {@link #force}, {@link #lastSeq}, {@link
 * #headHash}, {@link #close}); {@link #newReader} may be called from any thread, and each
 * {@link Reader} is used by one thread at a time.
 */
public interface Journal extends Closeable {

    /** Refuses a batch that does not follow {@code lastSeq} at once, or holds no event. */
    static void requireFollows(long lastSeq, long firstSeq, int count) {
        if (firstSeq != lastSeq + 1 || count <= 0) {
            throw new IllegalStateException("batch at seq " + firstSeq + " does not follow seq " + lastSeq);
        }
    }

    /** What opening the journal found: its head and, when there was one, the torn tail it moved aside. */
    record Recovery(long lastSeq, byte[] headHash, TornTail tornTail, Path quarantineFile) {}

    /**
     * Opens a journal for writing as {@link FileJournal#recover} does: reads it, checking every
     * batch and the hash chain, hands every batch after {@code afterSeq} (a snapshot's seq, or 0)
     * to {@code replay}, throws {@link SnapshotMismatchException} when the chain hash as of
     * {@code afterSeq} is not {@code expectedHash} (when given), and lets {@code endCheck} judge
     * the end it found before it changes anything. The engine opens a journal kept elsewhere
     * than in files through one ({@code EngineConfig.Builder.journal}).
     */
    @FunctionalInterface
    interface Opener {
        Journal open(long afterSeq, byte[] expectedHash, BatchConsumer replay, EndCheck endCheck) throws IOException;
    }

    /** Receives each batch read while the journal is opened, to rebuild the state. */
    @FunctionalInterface
    interface BatchConsumer {
        void accept(JournalReader.Batch batch);
    }

    /**
     * Judges the end found while opening, before anything is cut or written: it throws to refuse
     * the start (durable evidence says the journal held more), and then the journal is left as it
     * was.
     */
    @FunctionalInterface
    interface EndCheck {
        void check(long lastSeq, byte[] headHash, TornTail tornTail) throws IOException;
    }

    /**
     * Reads the log batch by batch from any seq, checking each batch's checksums: what a
     * subscription follows, never past the committed seq it is given.
     */
    interface Reader extends Closeable {

        /**
         * Positions the reader on the batch that holds {@code afterSeq + 1}; when {@code afterSeq}
         * ends a batch, the next batch read starts right after it.
         */
        void seek(long afterSeq) throws IOException;

        /**
         * The next whole batch, or null at the end of the log as it is now (see {@link
         * #tornTail()}) or when its first seq would be past {@code seqLimit}.
         */
        JournalReader.Batch next(long seqLimit) throws IOException;

        /** The seq of the first event not read yet. */
        long nextSeq();

        /** The chain hash after the last batch read, or before {@link #nextSeq()} after a seek. */
        byte[] chainHash();

        /** The bytes at the end of the log that are not a whole, sound batch (reading stops there), or null. */
        TornTail tornTail();
    }

    /** What opening this journal found. */
    Recovery recovery();

    /** The seq of the last event appended, durable or not yet; 0 for an empty log. */
    long lastSeq();

    /** The chain hash after the last batch appended (a copy); all zeros for an empty log. */
    byte[] headHash();

    /**
     * Seals one batch and writes it after the last; it is durable only after {@link #force()}.
     * The buffer holds {@link JournalFormat#BATCH_HEADER_BYTES} of room for the header, then the
     * records of events {@code firstSeq} to {@code firstSeq + count - 1}, from position 0 to its
     * limit. A failure leaves the journal's state unknown: the caller stops writing (fail-stop).
     */
    void append(ByteBuffer batch, long firstSeq, int count) throws IOException;

    /** Makes every batch appended so far durable, or throws; never retried after a failure. */
    void force() throws IOException;

    /** A reader of this log for another thread, positioned nowhere until it seeks. */
    Reader newReader();

    /** Lets go of what the journal holds open; nothing durable depends on it, every batch was forced. */
    @Override
    void close() throws IOException;
}
