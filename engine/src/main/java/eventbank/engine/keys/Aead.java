package eventbank.engine.keys;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM from the JDK, laid out as {@code nonce (12) | ciphertext | tag (16)}, with a fresh
 * random 96-bit nonce for every seal. Each key here seals at most a few values (a data key seals
 * one account's fields; the key-encryption key wraps one data key a slot), far below the 2^32
 * messages under which random nonces stay safe.
 */
final class Aead {
    static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    /** What sealing adds to the plaintext's length. */
    static final int OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES;

    private static final String TRANSFORMATION = "AES/GCM/NoPadding";
    // A Cipher is not thread-safe, and getInstance costs microseconds: one per thread, kept.
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance(TRANSFORMATION);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + TRANSFORMATION, e);
        }
    });
    private static final SecureRandom RANDOM = new SecureRandom();

    private Aead() {}

    /** Random bytes for keys and nonces, from the one SecureRandom (thread-safe). */
    static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /**
     * Seals {@code plaintext} into {@code output} at {@code offset}: nonce, ciphertext, tag
     * ({@code plaintext.length + OVERHEAD_BYTES} bytes).
     */
    static void seal(SecretKey key, byte[] associatedData, byte[] plaintext, byte[] output, int offset) {
        byte[] nonce = randomBytes(NONCE_BYTES);
        System.arraycopy(nonce, 0, output, offset, NONCE_BYTES);
        try {
            Cipher cipher = CIPHER.get();
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * Byte.SIZE, nonce));
            cipher.updateAAD(associatedData);
            int written = cipher.doFinal(plaintext, 0, plaintext.length, output, offset + NONCE_BYTES);
            assert written == plaintext.length + TAG_BYTES;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to seal", e);
        }
    }

    /**
     * The plaintext of {@code length} sealed bytes at {@code offset}, or a {@link AEADBadTagException}
     * when the key, the associated data or any byte is not what sealed them.
     */
    static byte[] open(SecretKey key, byte[] associatedData, byte[] sealed, int offset, int length)
            throws AEADBadTagException {
        if (length < OVERHEAD_BYTES) {
            throw new AEADBadTagException("sealed data of " + length + " bytes is shorter than a nonce and a tag");
        }
        try {
            Cipher cipher = CIPHER.get();
            cipher.init(Cipher.DECRYPT_MODE, key,
                    new GCMParameterSpec(TAG_BYTES * Byte.SIZE, sealed, offset, NONCE_BYTES));
            cipher.updateAAD(associatedData);
            return cipher.doFinal(sealed, offset + NONCE_BYTES, length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to open", e);
        }
    }

    /** Associated data: a purpose label, then the slot and the account number, big-endian. */
    static byte[] associatedData(String purpose, int slot, long accountNumber) {
        byte[] label = purpose.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(label.length + Integer.BYTES + Long.BYTES)
                .put(label).putInt(slot).putLong(accountNumber).array();
    }
}
