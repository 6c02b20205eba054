package eventbank.engine.keys;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * One slot of the key store, {@value #BYTES} bytes (docs/FORMAT.md, "Key store"):
 *
 * <pre>
 *   0   8  account number, big-endian
 *   8   1  state: 0 empty, 1 live, 2 erased
 *   9   3  zero
 *  12  60  the data key wrapped by the KEK: nonce (12), ciphertext (32), tag (16); zero when erased
 *  72  16  the keyed email digest; zero when erased
 *  88  36  zero
 * 124   4  CRC32C of bytes 0 to 123
 * </pre>
 *
 * A slot of 128 zero bytes is empty (never written). Slots are 128 bytes at 128-byte offsets, so
 * that none straddles a 512-byte sector and a write of one is as atomic as the disk's sector writes.
 *
 * @param wrappedKey the wrapped data key ({@link #WRAPPED_KEY_BYTES} bytes), or null unless live
 */
record KeySlot(long accountNumber, State state, byte[] wrappedKey, long digestHigh, long digestLow) {
    static final int BYTES = 128;
    static final int WRAPPED_KEY_BYTES = Aead.KEY_BYTES + Aead.OVERHEAD_BYTES;
    static final int ACCOUNT_OFFSET = 0;
    static final int STATE_OFFSET = 8;
    static final int WRAPPED_KEY_OFFSET = 12;
    static final int DIGEST_OFFSET = WRAPPED_KEY_OFFSET + WRAPPED_KEY_BYTES;
    static final int CRC_OFFSET = BYTES - Integer.BYTES;
    static final KeySlot EMPTY = new KeySlot(0, State.EMPTY, null, 0, 0);

    /** What a slot holds. */
    enum State {
        EMPTY, LIVE, ERASED;

        static State of(byte code) {
            return switch (code) {
                case 0 -> EMPTY;
                case 1 -> LIVE;
                case 2 -> ERASED;
                default -> null;
            };
        }

        byte code() {
            return (byte) ordinal();
        }
    }

    KeySlot {
        assert (state == State.LIVE) == (wrappedKey != null) : "a wrapped key exactly in a live slot";
        assert wrappedKey == null || wrappedKey.length == WRAPPED_KEY_BYTES;
    }

    static KeySlot live(long accountNumber, byte[] wrappedKey, long digestHigh, long digestLow) {
        return new KeySlot(accountNumber, State.LIVE, wrappedKey, digestHigh, digestLow);
    }

    /** An erased slot: the account number stays, the key and the digest are zeros. */
    static KeySlot erased(long accountNumber) {
        return new KeySlot(accountNumber, State.ERASED, null, 0, 0);
    }

    byte[] encode() {
        byte[] bytes = new byte[BYTES];
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        buffer.putLong(ACCOUNT_OFFSET, accountNumber).put(STATE_OFFSET, state.code());
        if (wrappedKey != null) {
            buffer.put(WRAPPED_KEY_OFFSET, wrappedKey);
        }
        buffer.putLong(DIGEST_OFFSET, digestHigh).putLong(DIGEST_OFFSET + Long.BYTES, digestLow);
        buffer.putInt(CRC_OFFSET, crcOf(bytes));
        return bytes;
    }

    /** The slot in {@code bytes}, or null when its checksum or its state byte is wrong. */
    static KeySlot decode(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        int crc = buffer.getInt(CRC_OFFSET);
        if (crc == 0 && allZero(bytes)) {
            return EMPTY;
        }
        State state = State.of(buffer.get(STATE_OFFSET));
        if (crc != crcOf(bytes) || state == null) {
            return null;
        }
        byte[] wrappedKey = null;
        if (state == State.LIVE) {
            wrappedKey = new byte[WRAPPED_KEY_BYTES];
            buffer.get(WRAPPED_KEY_OFFSET, wrappedKey);
        }
        return new KeySlot(buffer.getLong(ACCOUNT_OFFSET), state, wrappedKey,
                buffer.getLong(DIGEST_OFFSET), buffer.getLong(DIGEST_OFFSET + Long.BYTES));
    }

    static int crcOf(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_OFFSET);
        return (int) crc.getValue();
    }

    private static boolean allZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** The message for a slot whose bytes fail their checksum. */
    static String damaged(String store, int slot) {
        return "slot " + slot + " of the key store " + store + " fails its checksum (a torn or damaged write)";
    }

    @Override
    public String toString() {
        return "KeySlot[account=" + accountNumber + ", " + state + "]";
    }
}
