package eventbank.core;

/** The bank's numeric rules, kept together. Amounts are whole cents. */
public final class Limits {
    /** The smallest amount that can be moved: one cent. */
    public static final long AMOUNT_MIN = 1;
    /** The largest amount one command may move: ten billion dollars. */
    public static final long AMOUNT_MAX = 1_000_000_000_000L;
    /** What a new account starts with by the example app's policy: $1,000.00. */
    public static final long OPENING_BALANCE_DEFAULT = 100_000;
    /** Account numbers have 16 digits, the first one from 1 to 9. */
    public static final long ACCOUNT_NUMBER_MIN = 1_000_000_000_000_000L;
    public static final long ACCOUNT_NUMBER_MAX = 9_999_999_999_999_999L;
    /** RFC 5321 caps a forward path at 256 octets, so an address is at most 254 characters. */
    public static final int EMAIL_LENGTH_MAX = 254;
    /** bcrypt hashes have 60 characters and Argon2id's about 100; the journal's records are bounded. */
    public static final int PASSWORD_HASH_LENGTH_MAX = 512;
    /** How long an idempotency key is remembered by default: 24 hours. */
    public static final long IDEMPOTENCY_WINDOW_MICROS_DEFAULT = 24L * 60 * 60 * 1_000_000;

    /** The most transfers one batch command may hold. */
    public static final int BATCH_TRANSFERS_MAX = 1_000;

    private Limits() {}

    public static boolean isAccountNumber(long number) {
        return number >= ACCOUNT_NUMBER_MIN && number <= ACCOUNT_NUMBER_MAX;
    }
}
