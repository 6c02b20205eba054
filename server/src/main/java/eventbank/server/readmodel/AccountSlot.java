package eventbank.server.readmodel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One account in {@link AccountsReadModel}: what its opening fixed, and its balance, last activity
 * and verification, changed in place by the subscription thread. Replacing an immutable {@link
 * AccountView} at every change allocated two views per transfer, which the collector then had to
 * clear away.
 *
 * <p>Readers copy the account into a view under a sequence lock: the writer makes {@link
 * #version} odd before it changes the fields and even again after, and a reader that sees the
 * same even version before and after reading the fields saw them whole, or reads again. The
 * writer's fences are free on x86 (they only keep the compiler from reordering); a read that
 * races a change retries, which happens rarely and, unless the writer is preempted, never for
 * long.
 */
final class AccountSlot {
    private static final VarHandle VERSION = FieldHandles.of(MethodHandles.lookup(), "version", int.class);
    /** Failed reads a reader spins through before it yields between tries. */
    private static final int SPINS_BEFORE_YIELD = 100;

    private final long accountNumber;
    private final String email;
    private final String passwordHash;
    private final long openedSeq;
    private final long openedAtMicros;
    /** Odd while the writer changes the fields below. */
    private volatile int version;
    // Written by the subscription thread only, between two changes of the version.
    private long balance;
    private long lastActivityMicros = AccountView.NO_ACTIVITY;
    private boolean verified;

    AccountSlot(long accountNumber, String email, String passwordHash, long openingBalance, long openedSeq,
                long openedAtMicros) {
        this.accountNumber = accountNumber;
        this.email = email;
        this.passwordHash = passwordHash;
        this.balance = openingBalance;
        this.openedSeq = openedSeq;
        this.openedAtMicros = openedAtMicros;
    }

    /** The balance, for the writer (which needs no lock to read what only it writes). */
    long balance() {
        return balance;
    }

    /** The writer's: the account's email address is confirmed. */
    void verify() {
        int before = beginChange();
        verified = true;
        endChange(before);
    }

    /** The writer's: money moved in or out at {@code timeMicros}, leaving {@code newBalance}. */
    void moved(long newBalance, long timeMicros) {
        int before = beginChange();
        balance = newBalance;
        lastActivityMicros = timeMicros;
        endChange(before);
    }

    private int beginChange() {
        int before = version;
        VERSION.setOpaque(this, before + 1);
        VarHandle.storeStoreFence(); // the odd version before any field
        return before;
    }

    private void endChange(int before) {
        VERSION.setRelease(this, before + 2); // every field before the even version
    }

    /**
     * The account as a whole value, from any thread. A reader that keeps missing (the writer was
     * preempted in the middle of a change) yields its core after {@link #SPINS_BEFORE_YIELD} tries,
     * so that the writer can finish.
     */
    AccountView view() {
        for (int tries = 1; ; tries++) {
            int before = version;
            long balanceRead = balance;
            long lastActivityRead = lastActivityMicros;
            boolean verifiedRead = verified;
            VarHandle.loadLoadFence(); // the fields before the version is read again
            if ((before & 1) == 0 && version == before) {
                return new AccountView(accountNumber, email, passwordHash, verifiedRead, balanceRead, openedSeq,
                        openedAtMicros, lastActivityRead);
            }
            if (tries < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
