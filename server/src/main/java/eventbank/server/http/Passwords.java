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

    /** bcrypt's least cost: a hash at it takes about a millisecond. */
    private static final int COST_MIN = 4;

    private final int cost;
    /**
     * Compared against when the account does not exist, so both cases take as long: a hash of no
     * one's password that names this cost, so checking against it runs bcrypt at this cost.
     */
    private final String dummyHash;

    Passwords(int cost) {
        this.cost = cost;
        this.dummyHash = dummyHashOf(cost);
    }

    /**
     * A hash at {@code cost} that no password matches, made without paying that cost: a real
     * hash at the least cost with its cost field rewritten ({@code $2a$04$...} to {@code
     * $2a$12$...}). Checking a password against it still runs the whole key schedule at {@code
     * cost} (the verifier reads the cost from the hash) and then compares with a digest that
     * was not made at that cost. Hashing at cost 12 here took a quarter of a second of every
     * start, before the server listened.
     */
    static String dummyHashOf(int cost) {
        String leastCost = BCrypt.with(VERSION, LONG).hashToString(COST_MIN, "not a password of anyone".toCharArray());
        // "$2a$04$" then the salt and the digest: the cost is the two digits after the second '$'.
        int costAt = leastCost.indexOf('$', 1) + 1;
        if (costAt == 0 || !leastCost.startsWith("04$", costAt)) {
            throw new IllegalStateException("a bcrypt hash of an unexpected form: " + leastCost.substring(0, 7));
        }
        return leastCost.substring(0, costAt) + String.format(java.util.Locale.ROOT, "%02d", cost)
                + leastCost.substring(costAt + 2);
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
