package eventbank.server.readmodel;

/**
 * One account as {@link AccountsReadModel} held it after some event: an immutable value, copied
 * from the account's {@link AccountSlot} for a query.
 *
 * @param accountNumber      16 digits
 * @param email              as the holder typed it (lookups ignore case)
 * @param passwordHash       the hash recorded at opening, for login; never in {@link #toString}
 * @param verified           the email address was confirmed
 * @param closed             the holder closed the account: it sends and receives nothing
 * @param balance            cents
 * @param openedSeq          the seq of the AccountOpened event (the verification code is derived from it)
 * @param openedAtMicros     that event's time, microseconds since the epoch (UTC)
 * @param lastActivityMicros the time of the last transfer in or out or withdrawal, or
 *                           {@link #NO_ACTIVITY}: it then compares below every cut-off, so the
 *                           inactive-users report counts never-active accounts without a special case
 */
public record AccountView(long accountNumber, String email, String passwordHash, boolean verified, boolean closed,
                          long balance, long openedSeq, long openedAtMicros, long lastActivityMicros) {

    /** The {@link #lastActivityMicros} of an account that never moved money. */
    public static final long NO_ACTIVITY = Long.MIN_VALUE;

    public boolean everActive() {
        return lastActivityMicros != NO_ACTIVITY;
    }

    /** Leaves the password hash out, so that a view logged by mistake leaks nothing to crack. */
    @Override
    public String toString() {
        return "AccountView[accountNumber=" + accountNumber + ", email=" + email + ", passwordHash=(hidden)"
                + ", verified=" + verified + ", closed=" + closed + ", balance=" + balance + ", openedSeq=" + openedSeq
                + ", openedAtMicros=" + openedAtMicros + ", lastActivityMicros=" + lastActivityMicros + "]";
    }
}
