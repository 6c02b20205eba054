package eventbank.engine.keys;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The first {@value #BYTES} bytes of the key store (docs/FORMAT.md, "Key store"):
 *
 * <pre>
 *   0   4  magic "EBDK"
 *   4   2  format, 1
 *   6   2  slot size in bytes, 128
 *   8   8  the id of the KEK that wrapped every key in the store
 *  16  60  the digest key wrapped by the KEK: nonce (12), ciphertext (32), tag (16)
 *  76  48  zero
 * 124   4  CRC32C of bytes 0 to 123
 * </pre>
 */
record StoreHeader(long kekId, byte[] wrappedDigestKey) {
    static final int BYTES = 128;
    static final int MAGIC = 0x4542444B; // "EBDK"
    static final short FORMAT = 1;
    private static final int KEK_ID_OFFSET = 8;
    private static final int DIGEST_KEY_OFFSET = 16;
    private static final int CRC_OFFSET = BYTES - Integer.BYTES;
    /** The associated data that binds the wrapped digest key to its purpose. */
    static final String DIGEST_KEY_PURPOSE = "eventbank digest key";

    StoreHeader {
        assert wrappedDigestKey.length == KeySlot.WRAPPED_KEY_BYTES;
    }

    byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(BYTES);
        buffer.putInt(0, MAGIC).putShort(4, FORMAT).putShort(6, (short) KeySlot.BYTES)
                .putLong(KEK_ID_OFFSET, kekId).put(DIGEST_KEY_OFFSET, wrappedDigestKey);
        buffer.putInt(CRC_OFFSET, crcOf(buffer.array()));
        return buffer.array();
    }

    static StoreHeader decode(byte[] bytes, String file) throws PersonalKeysException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        if (bytes.length < BYTES || buffer.getInt(0) != MAGIC) {
            throw new PersonalKeysException("the key store " + file + " does not start as one eventbank writes");
        }
        if (buffer.getInt(CRC_OFFSET) != crcOf(bytes)) {
            throw new PersonalKeysException("the key store " + file + "'s header fails its checksum");
        }
        if (buffer.getShort(4) != FORMAT || buffer.getShort(6) != KeySlot.BYTES) {
            throw new PersonalKeysException("the key store " + file + " has format " + buffer.getShort(4)
                    + " with slots of " + buffer.getShort(6) + " bytes; this eventbank reads format " + FORMAT
                    + " with slots of " + KeySlot.BYTES);
        }
        byte[] wrapped = new byte[KeySlot.WRAPPED_KEY_BYTES];
        buffer.get(DIGEST_KEY_OFFSET, wrapped);
        return new StoreHeader(buffer.getLong(KEK_ID_OFFSET), wrapped);
    }

    private static int crcOf(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_OFFSET);
        return (int) crc.getValue();
    }
}
