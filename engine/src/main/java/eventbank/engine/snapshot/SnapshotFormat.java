package eventbank.engine.snapshot;

/**
 * A snapshot file, {@code snapshots/{seq:020}.snap}, holds the whole write model as of a seq
 * that ends a commit batch. All integers are big-endian.
 *
 * <pre>
 * header (112 bytes)
 *    0 magic "EVBKSNP1"          8 format version:u32    12 reserved:u32
 *   16 seq:i64                  24 time of that event, micros:i64
 *   32 chain hash of the journal as of seq (32 bytes)
 *   64 opened total:i64         72 withdrawn total:i64
 *   80 account count:u32        84 idempotency entry count:u32
 *   88 forfeited total:i64      96 email digest key id:i64        104 reserved (8 bytes)
 * accounts, in the order they were opened (41 bytes each)
 *   number:i64  balance:i64  flags:u8  opened seq:i64  email digest:i64 i64
 *   (flags: 1 verified, 2 closed, 4 sealed, 8 forgotten; a forgotten account's digest is 0 0)
 * idempotency entries, oldest first
 *   scope:i64  seq:i64  time micros:i64  key:string  fingerprint:string   (string = u16 length, UTF-8)
 * trailer
 *   crc32c of everything before it:u32
 * </pre>
 *
 * Email digests are keyed ({@link eventbank.core.EmailDigests}): a snapshot made under another
 * key, or of format 1 (the same layout, with the verification alone as flags, no forfeited total,
 * and unkeyed SHA-256 digests), is read back but not gone on from, and is deleted once a newer
 * snapshot is written ({@link SnapshotStore#prune}).
 *
 * <p>A snapshot is written to a temporary file, forced, renamed into place and its directory
 * forced, so a crash leaves either the whole snapshot or none. The chain hash ties it to the
 * journal: recovery starts from a snapshot only when the journal has that hash at that seq.
 */
final class SnapshotFormat {
    static final long MAGIC = 0x4556424b534e5031L; // "EVBKSNP1"
    static final int FORMAT_VERSION = 2;
    /** Format 1: still read (a state to compare), never gone on from: its email digests are unkeyed SHA-256. */
    static final int FORMAT_UNKEYED = 1;
    static final int HEADER_BYTES = 112;
    static final int ACCOUNT_BYTES = 41;
    static final String SUFFIX = ".snap";
    static final String TEMPORARY_SUFFIX = ".snap.tmp";

    private SnapshotFormat() {}

    static String fileName(long seq) {
        return String.format("%020d%s", seq, SUFFIX);
    }

    /** The seq a snapshot's name announces, or -1 when the name is not a snapshot's. */
    static long seqOf(String name) {
        if (name.length() != 20 + SUFFIX.length() || !name.endsWith(SUFFIX)) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
