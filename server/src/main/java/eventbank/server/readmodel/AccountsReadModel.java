package eventbank.server.readmodel;

import eventbank.core.Bank;
import eventbank.core.Event;
import eventbank.core.Movements;
import eventbank.core.Recorded;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every account's profile and balance, for {@code GET /api/account}, login (the password
 * hash), resending the verification link (lookup by email, ignoring case, and the opening seq
 * the code is derived from). The reports are {@link ReportsReadModel}'s.
 *
 * <p>Concurrency: each account is an {@link AccountSlot} in a {@link NumberIndex} (primitive
 * account numbers, no boxed key to make per lookup), changed in place under a sequence lock of
 * its own, so looking up one account takes no lock and always sees a whole {@link AccountView}.
 * The index itself changes only when an account is opened: putting a new value in a map per
 * event (a lock on the bin, a node) took 15% of the server's CPU under batch load.
 * Queries over many accounts ({@link #totals}, {@link #snapshot}) must not see half of a
 * transfer (one side replaced, not yet the other): they hold the read lock of a {@link
 * LockedReadModel}, so they see the state between two events, at {@link #appliedSeq}.
 *
 * <p>Memory, measured with G1 and compressed pointers before the slots: about 380 bytes an
 * account with a 20-character email and a 60-character bcrypt hash, and the slot adds 16. The
 * view is about 56 bytes, the two strings about 180, the nodes, table slots and boxed numbers of
 * the two maps the rest (an email already in lower case is its own normalized form, so the index
 * shares the string). Since then (computed, not measured again): the index by number replaced
 * its map's node, table slot and boxed key (about 56 bytes) with a long and a reference in a
 * table at most half full (24 to 48 bytes), and the slot holding a view (16 + 56 bytes) became
 * one {@link AccountSlot} of about 72. The write model keeps no profile; this is the only copy
 * of emails and hashes in memory.
 */
public final class AccountsReadModel extends LockedReadModel {

    /** Sums over all accounts at one seq; {@code balanceTotal} is counted account by account. */
    public record Totals(long appliedSeq, int accountCount, long balanceTotal, long openedTotal,
                         long withdrawnTotal) {
        /** The bank's invariant, as this snapshot sees it. */
        public boolean balanced() {
            return balanceTotal == openedTotal - withdrawnTotal;
        }
    }

    /** Every account at one seq, in the order they were opened. */
    public record Snapshot(long appliedSeq, List<AccountView> accounts) {
        public Snapshot {
            accounts = List.copyOf(accounts);
        }
    }

    public AccountsReadModel() {
        super(null);
    }

    private final NumberIndex<AccountSlot> byNumber = new NumberIndex<>();
    /** Normalized ({@link Bank#normalizeEmail}) email to account number. */
    private final ConcurrentHashMap<String, Long> numberByEmail = new ConcurrentHashMap<>();
    /** Guarded by {@link #lock}, like every change to the maps. */
    private long openedTotal;
    private long withdrawnTotal;
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();

    @Override
    void clear() {
        lock.writeLock().lock();
        try {
            byNumber.clear();
            numberByEmail.clear();
            openedTotal = 0;
            withdrawnTotal = 0;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String name() {
        return "accounts";
    }

    @Override
    void applyUnderLock(Recorded recorded) {
        Movements.of(recorded.seq(), recorded.timeMicros(), recorded.event(), applier);
    }

    /** Applies one event, under the write lock; both accounts of a movement are found before either changes. */
    private final class Applier implements Movements.Sink {
        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened e) {
            AccountSlot opened = new AccountSlot(e.accountNumber(), e.email(), e.passwordHash(), e.openingBalance(),
                    seq, timeMicros);
            if (byNumber.putIfAbsent(e.accountNumber(), opened) != null) {
                throw new IllegalStateException("account " + e.accountNumber() + " opened twice, at seq " + seq);
            }
            // After the account itself, so that whoever finds the email finds the account.
            if (numberByEmail.putIfAbsent(Bank.normalizeEmail(e.email()), e.accountNumber()) != null) {
                throw new IllegalStateException("email of account " + e.accountNumber() + " taken, at seq " + seq);
            }
            openedTotal = Math.addExact(openedTotal, e.openingBalance());
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified e) {
            existing(e.accountNumber(), seq).verify();
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount,
                          long creditAccount, long amount) {
            AccountSlot from = existing(debitAccount, seq);
            AccountSlot to = creditAccount == Movements.OUTSIDE ? null : existing(creditAccount, seq);
            from.moved(from.balance() - amount, timeMicros);
            if (to == null) {
                withdrawnTotal = Math.addExact(withdrawnTotal, amount);
            } else {
                to.moved(Math.addExact(to.balance(), amount), timeMicros);
            }
        }
    }

    private AccountSlot existing(long accountNumber, long seq) {
        AccountSlot account = byNumber.get(accountNumber);
        if (account == null) {
            throw Movements.unknownAccount(accountNumber, seq);
        }
        return account;
    }

    // ---- Queries, from any thread ----

    public Optional<AccountView> account(long accountNumber) {
        AccountSlot slot = byNumber.get(accountNumber);
        return slot == null ? Optional.empty() : Optional.of(slot.view());
    }

    /** The account with this email address, compared without regard to case. */
    public Optional<AccountView> accountByEmail(String email) {
        Long number = numberByEmail.get(Bank.normalizeEmail(email));
        return number == null ? Optional.empty() : account(number);
    }

    public int accountCount() {
        return byNumber.size();
    }

    /** Sums at one seq, never in the middle of a transfer. Walks every account: for reports and checks. */
    public Totals totals() {
        lock.readLock().lock();
        try {
            long[] sum = new long[1];
            byNumber.forEach(account -> sum[0] = Math.addExact(sum[0], account.balance()));
            return new Totals(applied.get(), byNumber.size(), sum[0], openedTotal, withdrawnTotal);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every account at one seq, in the order they were opened. Copies them all: for reports and tests. */
    public Snapshot snapshot() {
        lock.readLock().lock();
        try {
            List<AccountView> accounts = new ArrayList<>(byNumber.size());
            byNumber.forEach(slot -> accounts.add(slot.view()));
            accounts.sort(Comparator.comparingLong(AccountView::openedSeq));
            return new Snapshot(applied.get(), accounts);
        } finally {
            lock.readLock().unlock();
        }
    }
}
