package eventbank.core;

/**
 * The personal fields of an account's opening: its email address and password hash. Every other
 * field of every event is the bank's own business and is kept for ever; these belong to the
 * holder, who may ask to be forgotten (DESIGN.md, "Personal data").
 *
 * <p>The log keeps them {@linkplain #sealed() sealed}: encrypted under a key of the account's
 * own, which forgetting the account erases. Once it is erased they read as null. Openings
 * recorded before the log sealed them hold them in plain text, and so cannot be forgotten.
 */
public interface Personal {
    /** The email address as given at opening, or null once forgotten. */
    String email();

    /** The password's hash, or null once forgotten. */
    String passwordHash();

    /** Whether they are stored under the account's own key, so that erasing it forgets them. */
    boolean sealed();

    /** Whether they can no longer be read: the account was forgotten. */
    default boolean forgotten() {
        return email() == null;
    }

    /**
     * The email's digest under the bank's digest key, for the uniqueness of emails, or null once
     * forgotten. A sealed opening read from the log may answer it without decrypting anything.
     */
    default long[] emailDigest(EmailDigests digests) {
        String email = email();
        return email == null ? null : digests.of(email);
    }

    /** Fields in plain text: as a command gives them, or as the log held them before sealing. */
    record Plain(String email, String passwordHash) implements Personal {
        @Override
        public boolean sealed() {
            return false;
        }
    }
}
