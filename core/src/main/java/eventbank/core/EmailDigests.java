package eventbank.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Digests of email addresses for their uniqueness: 128 bits of HMAC-SHA-256 under a key of the
 * bank's (kept with the data keys, DESIGN.md "Personal data"), over the address lower-cased.
 * Keyed, so that a digest found in a snapshot confirms nothing to whoever lacks the key: an
 * unkeyed one would confirm any guessed address.
 *
 * <p>Not thread-safe: one per thread (the sequencer's bank, a replay's bank).
 */
public final class EmailDigests {
    private final byte[] key;
    private final Mac mac;

    public EmailDigests(byte[] key) {
        if (key.length < 32) {
            throw new IllegalArgumentException("a digest key has at least 256 bits");
        }
        this.key = key.clone();
        try {
            this.mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(this.key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** A random key made once per process, for {@link #ephemeral}. */
    private static final class ProcessKey {
        static final byte[] KEY = random();

        private static byte[] random() {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            return key;
        }
    }

    /**
     * Under a random key made once per process: for banks that are never saved (tests, sandboxes),
     * which compare with one another but never with a saved one.
     */
    public static EmailDigests ephemeral() {
        return new EmailDigests(ProcessKey.KEY);
    }

    /** The digest of {@code email}, as two longs (big-endian). */
    public long[] of(String email) {
        byte[] digest = mac.doFinal(normalize(email).getBytes(StandardCharsets.UTF_8));
        ByteBuffer buffer = ByteBuffer.wrap(digest);
        return new long[] {buffer.getLong(), buffer.getLong()};
    }

    /**
     * Names the key without revealing it: the first 8 bytes of its HMAC of a fixed text. A
     * snapshot records it, so that one made under another key is not mixed with this one's.
     */
    public long keyId() {
        try {
            Mac idMac = Mac.getInstance("HmacSHA256");
            idMac.init(new SecretKeySpec(key, "HmacSHA256"));
            return ByteBuffer.wrap(idMac.doFinal("eventbank email digest key id".getBytes(StandardCharsets.UTF_8)))
                    .getLong();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Another instance under the same key, for another thread. */
    public EmailDigests copy() {
        return new EmailDigests(key);
    }

    /** Emails are unique without regard to case. */
    public static String normalize(String email) {
        return email.toLowerCase(Locale.ROOT);
    }
}
