package eventbank.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The write model: only what {@link Decider#decide} needs (balances, verified flags, the
 * uniqueness of account numbers and emails, idempotency keys), changed only by {@link #evolve}.
 * Profiles, passwords and statements live in read models.
 *
 * <p>A Bank is mutable and not thread-safe: the engine gives each one to a single thread.
 */
public final class Bank {
    private final AccountTable accounts = new AccountTable();
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    private final IdempotencyLog idempotency;
    private final MessageDigest sha256 = newSha256();
    private long lastSeq;
    private long lastTimeMicros;
    private long openedTotal;
    private long withdrawnTotal;

    public Bank() {
        this(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
    }

    public Bank(long idempotencyWindowMicros) {
        this.idempotency = new IdempotencyLog(idempotencyWindowMicros);
    }

    public void evolve(Recorded recorded) {
        evolve(recorded.seq(), recorded.timeMicros(), recorded.event());
    }

    /**
     * Applies one recorded event. Events are facts: one that cannot apply (an unknown account,
     * a balance going below zero, a gap in the sequence) means the log or the code is broken,
     * and that is an exception, never a rejection.
     */
    public void evolve(long seq, long timeMicros, Event event) {
        if (seq != lastSeq + 1) {
            throw new IllegalStateException("events apply in order: expected seq " + (lastSeq + 1) + ", got " + seq);
        }
        if (timeMicros < lastTimeMicros) {
            throw new IllegalStateException("time went backwards at seq " + seq);
        }
        Movements.of(seq, timeMicros, event, applier);
        lastSeq = seq;
        lastTimeMicros = timeMicros;
        idempotency.expire(timeMicros);
        Idempotency key = Event.idempotencyOf(event);
        if (key != null) {
            idempotency.remember(scopeOf(event), key, seq, timeMicros);
        }
    }

    // ---- Queries used by decide, the engine and the tests ----

    public boolean exists(long accountNumber) {
        return accounts.indexOf(accountNumber) >= 0;
    }

    /** The balance in cents; the account must exist. */
    public long balanceOf(long accountNumber) {
        return accounts.balance(existing(accountNumber, lastSeq));
    }

    public boolean isVerified(long accountNumber) {
        int index = accounts.indexOf(accountNumber);
        return index >= 0 && accounts.isVerified(index);
    }

    /** The seq of the account's AccountOpened; the account must exist. */
    public long openedSeqOf(long accountNumber) {
        return accounts.openedSeq(existing(accountNumber, lastSeq));
    }

    public boolean isEmailTaken(String email) {
        long[] digest = emailDigest(email);
        return accounts.containsEmail(digest[0], digest[1]);
    }

    public int accountCount() {
        return accounts.size();
    }

    /** The seq of the last event applied; 0 for a new bank. */
    public long lastSeq() {
        return lastSeq;
    }

    public long lastTimeMicros() {
        return lastTimeMicros;
    }

    /** The sum of all opening balances. */
    public long openedTotal() {
        return openedTotal;
    }

    /** The sum of all withdrawals. */
    public long withdrawnTotal() {
        return withdrawnTotal;
    }

    /** The sum of all balances, counted account by account. */
    public long balanceTotal() {
        long total = 0;
        for (int index = 0; index < accounts.size(); index++) {
            total = Math.addExact(total, accounts.balance(index));
        }
        return total;
    }

    /**
     * The bank's invariant: money is neither created nor destroyed except by opening and
     * withdrawal, and no balance is negative. Answers a description of the breach, or null.
     */
    public String checkInvariant() {
        for (int index = 0; index < accounts.size(); index++) {
            if (accounts.balance(index) < 0) {
                return "account " + accounts.number(index) + " has a negative balance";
            }
        }
        long expected = openedTotal - withdrawnTotal;
        long actual = balanceTotal();
        return actual == expected ? null
                : "balances add up to " + actual + " but openings minus withdrawals are " + expected;
    }

    IdempotencyLog.Entry findIdempotency(long scope, String key, long nowMicros) {
        return idempotency.find(scope, key, nowMicros);
    }

    int indexOf(long accountNumber) {
        return accounts.indexOf(accountNumber);
    }

    AccountTable accounts() {
        return accounts;
    }

    // ---- Snapshots: export and restore, in the order accounts were opened ----

    /** Receives the whole state, for writing a snapshot. */
    public interface Exporter {
        void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                      int accountCount, int idempotencyCount);

        void account(long number, long balance, boolean verified, long openedSeq,
                     long emailDigestHigh, long emailDigestLow);

        void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros);
    }

    public void exportTo(Exporter exporter) {
        exporter.counters(lastSeq, lastTimeMicros, openedTotal, withdrawnTotal, accounts.size(), idempotency.size());
        for (int index = 0; index < accounts.size(); index++) {
            exporter.account(accounts.number(index), accounts.balance(index), accounts.isVerified(index),
                    accounts.openedSeq(index), accounts.emailDigestHigh(index), accounts.emailDigestLow(index));
        }
        for (IdempotencyLog.Entry entry : idempotency.oldestFirst()) {
            exporter.idempotency(entry.scopedKey().scope(), entry.scopedKey().key(), entry.fingerprint(),
                    entry.seq(), entry.timeMicros());
        }
    }

    /**
     * An independent copy with the same accounts, keys and counters (the same {@link
     * #stateDigest()}), for exploring an alternative history without touching this one.
     */
    public Bank copy() {
        Bank copy = new Bank(idempotency.windowMicros());
        exportTo(new Exporter() {
            @Override
            public void counters(long seq, long time, long opened, long withdrawn, int count, int keys) {
                copy.restoreCounters(seq, time, opened, withdrawn);
            }

            @Override
            public void account(long number, long balance, boolean verified, long openedSeq, long high, long low) {
                copy.restoreAccount(number, balance, verified, openedSeq, high, low);
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long time) {
                copy.restoreIdempotency(scope, key, fingerprint, seq, time);
            }
        });
        return copy;
    }

    /** Restores counters into a new bank, for loading a snapshot. */
    public void restoreCounters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal) {
        requireNew();
        this.lastSeq = lastSeq;
        this.lastTimeMicros = lastTimeMicros;
        this.openedTotal = openedTotal;
        this.withdrawnTotal = withdrawnTotal;
    }

    /** Restores one account, in the order accounts were opened, for loading a snapshot. */
    public void restoreAccount(long number, long balance, boolean verified, long openedSeq,
                               long emailDigestHigh, long emailDigestLow) {
        if (accounts.indexOf(number) >= 0 || accounts.containsEmail(emailDigestHigh, emailDigestLow)) {
            throw new IllegalStateException("snapshot holds account " + number + " or its email twice");
        }
        accounts.add(number, balance, openedSeq, verified, emailDigestHigh, emailDigestLow);
    }

    /** Restores one idempotency entry, oldest first, for loading a snapshot. */
    public void restoreIdempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {
        idempotency.remember(scope, new Idempotency(key, fingerprint), seq, timeMicros);
    }

    /**
     * A SHA-256 over the whole state in a canonical order: two banks with the same digest hold
     * the same accounts, balances, flags, keys and counters. Used to check that replay from
     * scratch equals a snapshot plus the tail.
     */
    public String stateDigest() {
        MessageDigest digest = newSha256();
        ByteBuffer buffer = ByteBuffer.allocate(64);
        exportTo(new Exporter() {
            @Override
            public void counters(long seq, long time, long opened, long withdrawn, int count, int keys) {
                digest.update(buffer.clear().putLong(seq).putLong(time).putLong(opened).putLong(withdrawn)
                        .putInt(count).putInt(keys).flip());
            }

            @Override
            public void account(long number, long balance, boolean verified, long openedSeq, long high, long low) {
                digest.update(buffer.clear().putLong(number).putLong(balance).put((byte) (verified ? 1 : 0))
                        .putLong(openedSeq).putLong(high).putLong(low).flip());
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long time) {
                digest.update(buffer.clear().putLong(scope).putLong(seq).putLong(time).flip());
                digest.update((key + "\n" + fingerprint + "\n").getBytes(StandardCharsets.UTF_8));
            }
        });
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Applies one event's effect on the accounts for {@link #evolve}. Both sides of a movement
     * are looked up and checked before either balance changes: an event that cannot apply leaves
     * the bank as it was.
     */
    private final class Applier implements Movements.Sink {
        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened opened) {
            long[] digest = emailDigest(opened.email());
            if (accounts.indexOf(opened.accountNumber()) >= 0 || accounts.containsEmail(digest[0], digest[1])) {
                throw new IllegalStateException("account opened twice at seq " + seq);
            }
            accounts.add(opened.accountNumber(), opened.openingBalance(), seq, false, digest[0], digest[1]);
            openedTotal = Math.addExact(openedTotal, opened.openingBalance());
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified verified) {
            accounts.setVerified(existing(verified.accountNumber(), seq));
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount, long creditAccount,
                          long amount) {
            int from = existing(debitAccount, seq);
            long fromBalance = debited(from, amount, seq);
            if (creditAccount == Movements.OUTSIDE) {
                accounts.setBalance(from, fromBalance);
                withdrawnTotal = Math.addExact(withdrawnTotal, amount);
            } else {
                int to = existing(creditAccount, seq);
                long toBalance = Math.addExact(accounts.balance(to), amount);
                accounts.setBalance(from, fromBalance);
                accounts.setBalance(to, toBalance);
            }
        }
    }

    // ---- Helpers ----

    /** Emails are unique without regard to case. */
    public static String normalizeEmail(String email) {
        return email.toLowerCase(Locale.ROOT);
    }

    static long scopeOf(Event event) {
        return switch (event) {
            case Event.AccountOpened e -> IdempotencyLog.SCOPE_OPENING;
            case Event.AccountVerified e -> e.accountNumber();
            case Event.MoneyTransferred e -> e.fromAccountNumber();
            case Event.MoneyWithdrawn e -> e.accountNumber();
        };
    }

    private long[] emailDigest(String email) {
        byte[] hash = sha256.digest(normalizeEmail(email).getBytes(StandardCharsets.UTF_8));
        ByteBuffer buffer = ByteBuffer.wrap(hash);
        return new long[] {buffer.getLong(), buffer.getLong()};
    }

    private int existing(long accountNumber, long seq) {
        int index = accounts.indexOf(accountNumber);
        if (index < 0) {
            throw Movements.unknownAccount(accountNumber, seq);
        }
        return index;
    }

    /** The balance once the amount is taken; only the write model checks that it stays at zero or above. */
    private long debited(int index, long amount, long seq) {
        long balance = accounts.balance(index) - amount;
        if (balance < 0) {
            throw new IllegalStateException("seq " + seq + " would take account " + accounts.number(index)
                    + " below zero");
        }
        return balance;
    }

    private void requireNew() {
        if (lastSeq != 0 || accounts.size() != 0) {
            throw new IllegalStateException("restore only into a new bank");
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
