package eventbank.engine.journal;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/**
 * The journal's on-disk layout (docs/FORMAT.md). All integers are big-endian.
 *
 * <pre>
 * segment file  {first seq:020}.seg = segment header, then batches
 * segment header (64 bytes)
 *   0 magic "EVBKSEG1"   8 format version:u32   12 reserved:u32   16 first seq:i64
 *  24 chain hash of the batch before this segment (32 bytes; zeros for the first)
 *  56 reserved:u32       60 crc32c of bytes 0..59
 * batch header (64 bytes), then the body: count records (see EventCodec)
 *   0 magic "EVBB"       4 body length:u32        8 first seq:i64   16 count:u32
 *  20 crc32c of the body 24 chain hash (32 bytes) = SHA-256(previous chain hash ‖ bytes 4..23 ‖ body)
 *  56 reserved:u32       60 crc32c of bytes 0..59
 * </pre>
 *
 * The header has a checksum of its own so that a damaged length is told from a torn write:
 * only a batch whose header is sound can say where the next batch starts.
 */
public final class JournalFormat {
    public static final long SEGMENT_MAGIC = 0x4556424b53454731L; // "EVBKSEG1"
    public static final int FORMAT_VERSION = 1;
    public static final int SEGMENT_HEADER_BYTES = 64;
    public static final int BATCH_MAGIC = 0x45564242; // "EVBB"
    public static final int BATCH_HEADER_BYTES = 64;
    public static final int HASH_BYTES = 32;
    public static final byte[] HASH_ZERO = new byte[HASH_BYTES];
    /** A batch body larger than this is a damaged header, not a batch the writer could make. */
    public static final int BATCH_BODY_BYTES_MAX = 64 << 20;
    public static final String SEGMENT_SUFFIX = ".seg";

    private JournalFormat() {}

    public static String segmentName(long firstSeq) {
        return String.format("%020d%s", firstSeq, SEGMENT_SUFFIX);
    }

    /** The first seq a segment's name announces, or -1 when the name is not a segment's. */
    public static long firstSeqOf(String name) {
        if (name.length() != 20 + SEGMENT_SUFFIX.length() || !name.endsWith(SEGMENT_SUFFIX)) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The segment header of a new segment. */
    public static ByteBuffer segmentHeader(long firstSeq, byte[] previousHash) {
        ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER_BYTES);
        header.putLong(SEGMENT_MAGIC).putInt(FORMAT_VERSION).putInt(0).putLong(firstSeq).put(previousHash).putInt(0);
        header.putInt(crc(header, 0, SEGMENT_HEADER_BYTES - 4));
        return header.flip();
    }

    public record SegmentHeader(long firstSeq, byte[] previousHash) {}

    /** Parses a segment header; null when its magic, version or checksum is wrong. */
    public static SegmentHeader parseSegmentHeader(ByteBuffer header) {
        if (header.remaining() < SEGMENT_HEADER_BYTES || header.getLong(0) != SEGMENT_MAGIC
                || header.getInt(8) != FORMAT_VERSION
                || header.getInt(SEGMENT_HEADER_BYTES - 4) != crc(header, 0, SEGMENT_HEADER_BYTES - 4)) {
            return null;
        }
        byte[] previousHash = new byte[HASH_BYTES];
        header.get(24, previousHash);
        return new SegmentHeader(header.getLong(16), previousHash);
    }

    public record BatchHeader(int bodyLength, long firstSeq, int count, int bodyCrc, byte[] chainHash) {
        public long lastSeq() {
            return firstSeq + count - 1;
        }
    }

    /**
     * Fills the first {@link #BATCH_HEADER_BYTES} of {@code batch}, whose body follows them up
     * to its limit, and answers the batch's chain hash.
     */
    public static byte[] sealBatch(ByteBuffer batch, long firstSeq, int count, byte[] previousHash,
                                   MessageDigest sha256) {
        int bodyLength = batch.limit() - BATCH_HEADER_BYTES;
        ByteBuffer body = batch.slice(BATCH_HEADER_BYTES, bodyLength);
        batch.putInt(0, BATCH_MAGIC).putInt(4, bodyLength).putLong(8, firstSeq).putInt(16, count)
                .putInt(20, crc(body, 0, bodyLength));
        byte[] hash = chainHash(sha256, previousHash, batch.slice(4, 20), body);
        batch.put(24, hash).putInt(56, 0);
        batch.putInt(60, crc(batch, 0, BATCH_HEADER_BYTES - 4));
        return hash;
    }

    /** Parses a batch header; null when its magic, checksum or length is wrong. */
    public static BatchHeader parseBatchHeader(ByteBuffer header) {
        if (header.remaining() < BATCH_HEADER_BYTES || header.getInt(0) != BATCH_MAGIC
                || header.getInt(60) != crc(header, 0, BATCH_HEADER_BYTES - 4)) {
            return null;
        }
        int bodyLength = header.getInt(4);
        int count = header.getInt(16);
        if (bodyLength < 0 || bodyLength > BATCH_BODY_BYTES_MAX || count < 0) {
            return null;
        }
        byte[] hash = new byte[HASH_BYTES];
        header.get(24, hash);
        return new BatchHeader(bodyLength, header.getLong(8), count, header.getInt(20), hash);
    }

    /** SHA-256 over the previous hash, the header's fields from length to body CRC, and the body. */
    public static byte[] chainHash(MessageDigest sha256, byte[] previousHash, ByteBuffer headerFields,
                                   ByteBuffer body) {
        sha256.reset();
        sha256.update(previousHash);
        sha256.update(headerFields.duplicate());
        sha256.update(body.duplicate());
        return sha256.digest();
    }

    /** The batch header's fields that the chain hash covers (bytes 4 to 23). */
    public static ByteBuffer hashedHeaderFields(ByteBuffer header) {
        return header.slice(4, 20);
    }

    public static int crc(ByteBuffer buffer, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(offset, length));
        return (int) crc.getValue();
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
