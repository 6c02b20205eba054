package eventbank.server.http;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategy;

/**
 * bcrypt, on the request's own (virtual) thread, before a command reaches the sequencer.
 * Passwords longer than bcrypt's 72 bytes are pre-hashed with SHA-512 rather than cut.
 */
final class Passwords {
    static final int LENGTH_MIN = 8;
    static final int LENGTH_MAX = 128;
    private static final BCrypt.Version VERSION = BCrypt.Version.VERSION_2A;
    private static final LongPasswordStrategy LONG = LongPasswordStrategies.hashSha512(VERSION);

    private final int cost;
    /** Compared against when the account does not exist, so both cases take as long. */
    private final String dummyHash;

    Passwords(int cost) {
        this.cost = cost;
        this.dummyHash = hash("not a password of anyone");
    }

    String hash(String password) {
        return BCrypt.with(VERSION, LONG).hashToString(cost, password.toCharArray());
    }

    boolean matches(String password, String hash) {
        return BCrypt.verifyer(VERSION, LONG).verify(password.toCharArray(), hash == null ? dummyHash : hash).verified;
    }

    void burn(String password) {
        matches(password, dummyHash);
    }

    static void check(String password) {
        int length = password.codePointCount(0, password.length());
        if (length < LENGTH_MIN || length > LENGTH_MAX) {
            throw ApiException.invalidField("The password must be from " + LENGTH_MIN + " to " + LENGTH_MAX
                    + " characters long.");
        }
    }
}
