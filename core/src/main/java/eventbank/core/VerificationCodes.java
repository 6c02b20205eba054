package eventbank.core;

/**
 * Derives the code of an account's verification link. The code is a pure function of a
 * secret and of facts in the log (the account number and the seq of its AccountOpened), so
 * the log holds no secret and the link can be rebuilt after a crash.
 */
public interface VerificationCodes {

    /** The code for this account, URL-safe. */
    String codeFor(long accountNumber, long openedSeq);

    /** Whether {@code code} is the right one, compared in constant time. */
    default boolean matches(long accountNumber, long openedSeq, String code) {
        if (code == null) {
            return false;
        }
        byte[] expected = codeFor(accountNumber, openedSeq).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] given = code.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return java.security.MessageDigest.isEqual(expected, given);
    }
}
