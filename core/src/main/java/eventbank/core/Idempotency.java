package eventbank.core;

import java.util.Objects;

/**
 * A client's Idempotency-Key and a fingerprint of the request it came with. A retry with the
 * same key and the same fingerprint is answered with the first outcome; the same key with
 * another fingerprint is refused. The scope (an account, or account opening) comes from the
 * command that carries it.
 *
 * <p>Account opening is the exception: its key is recorded with {@link #NO_FINGERPRINT}, and any
 * live earlier use is answered with its seq, for the server to compare the retry's email and,
 * by bcrypt, its password with the recorded opening. A fingerprint over the password, kept in
 * the journal for good, would let anyone with the server key test guesses far faster than
 * bcrypt (DESIGN.md, "Trust fixes").
 *
 * @param key         1 to 255 printable ASCII characters, as the client sent it
 * @param fingerprint a keyed hash of the request body, computed outside the core; empty for an opening
 */
public record Idempotency(String key, String fingerprint) {
    public static final int KEY_LENGTH_MAX = 255;
    public static final int FINGERPRINT_LENGTH_MAX = 255;
    /** The fingerprint of an account opening's key: none, the retry is compared by its values. */
    public static final String NO_FINGERPRINT = "";

    public Idempotency {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(fingerprint, "fingerprint");
        if (!isValidKey(key)) {
            throw new IllegalArgumentException("an idempotency key is 1 to 255 printable ASCII characters");
        }
        if (fingerprint.length() > FINGERPRINT_LENGTH_MAX) {
            throw new IllegalArgumentException("fingerprint longer than " + FINGERPRINT_LENGTH_MAX);
        }
    }

    /** The same key without its fingerprint, as an opening records it. */
    public Idempotency withoutFingerprint() {
        return fingerprint.equals(NO_FINGERPRINT) ? this : new Idempotency(key, NO_FINGERPRINT);
    }

    public static boolean isValidKey(String key) {
        if (key == null || key.isEmpty() || key.length() > KEY_LENGTH_MAX) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
