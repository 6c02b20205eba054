package eventbank.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The write model: only what {@link Decider#decide} needs (balances, verified flags, the
 * uniqueness of account numbers and emails, idempotency keys), changed only by {@link #evolve}.
 * Profiles, passwords and statements live in read models.
 *
 * <p>A Bank is mutable and not thread-safe: the engine gives each one to a single thread.
 */
public final class Bank {
    private final AccountTable accounts;
    /** Of its exact type, so that the JIT can inline its calls in {@link Movements#of}. */
    private final Applier applier = new Applier();
    private final IdempotencyLog idempotency;
    private final EmailDigests emailDigests;
    private long lastSeq;
    private long lastTimeMicros;
    private long openedTotal;
    private long withdrawnTotal;
    private long forfeitedTotal;

    /** A bank that is never saved: its email digests are under a key of its own (see {@link EmailDigests#ephemeral}). */
    public Bank() {
        this(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
    }

    /** A bank that is never saved, with this idempotency window. */
    public Bank(long idempotencyWindowMicros) {
        this(idempotencyWindowMicros, EmailDigests.ephemeral());
    }

    /**
     * A bank whose email digests are under the bank's digest key: every bank that is saved
     * (snapshots) or continues one must use the same, owned by this bank alone (not thread-safe).
     */
    public Bank(long idempotencyWindowMicros, EmailDigests emailDigests) {
        this(new AccountTable(), new IdempotencyLog(idempotencyWindowMicros), emailDigests);
    }

    private Bank(AccountTable accounts, IdempotencyLog idempotency, EmailDigests emailDigests) {
        this.accounts = accounts;
        this.idempotency = idempotency;
        this.emailDigests = emailDigests;
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
        long[] digest = emailDigests.of(email);
        return accounts.containsEmail(digest[0], digest[1]);
    }

    /** Whether the account exists and was closed. */
    public boolean isClosed(long accountNumber) {
        int index = accounts.indexOf(accountNumber);
        return index >= 0 && accounts.isClosed(index);
    }

    /** Whether the account exists and its holder was forgotten. */
    public boolean isForgotten(long accountNumber) {
        int index = accounts.indexOf(accountNumber);
        return index >= 0 && accounts.isForgotten(index);
    }

    /** Whether the account's personal fields were recorded sealed, so that it can be forgotten. */
    public boolean isSealed(long accountNumber) {
        int index = accounts.indexOf(accountNumber);
        return index >= 0 && accounts.isSealed(index);
    }

    /**
     * The account's opening ordinal: 0 for the first account the bank opened, and so on. The
     * next opening's is {@link #accountCount()}.
     */
    public int ordinalOf(long accountNumber) {
        return existing(accountNumber, lastSeq);
    }

    /** The numbers of the accounts whose holders were forgotten, in opening order. */
    public long[] forgottenAccounts() {
        return java.util.stream.IntStream.range(0, accounts.size()).filter(accounts::isForgotten)
                .mapToLong(accounts::number).toArray();
    }

    /** The key email digests are under; a bank that continues this one uses the same. */
    public EmailDigests emailDigests() {
        return emailDigests;
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

    /** The sum of the opening bonuses that unverified accounts forfeited when they closed. */
    public long forfeitedTotal() {
        return forfeitedTotal;
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
     * The bank's invariant: money is neither created nor destroyed except by opening, withdrawal
     * and forfeit, no balance is negative, and a closed account holds nothing. Answers a
     * description of the breach, or null.
     */
    public String checkInvariant() {
        for (int index = 0; index < accounts.size(); index++) {
            if (accounts.balance(index) < 0) {
                return "account " + accounts.number(index) + " has a negative balance";
            }
            if (accounts.isClosed(index) && accounts.balance(index) != 0) {
                return "closed account " + accounts.number(index) + " holds " + accounts.balance(index) + " cents";
            }
        }
        long expected = openedTotal - withdrawnTotal - forfeitedTotal;
        long actual = balanceTotal();
        return actual == expected ? null
                : "balances add up to " + actual + " but openings minus withdrawals and forfeits are " + expected;
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
        int VERIFIED = 1;
        int CLOSED = 2;
        int SEALED = 4;
        int FORGOTTEN = 8;
        int FLAGS_ALL = VERIFIED | CLOSED | SEALED | FORGOTTEN;

        void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                      long forfeitedTotal, int accountCount, int idempotencyCount);

        /**
         * One account: its {@code flags} are {@link #VERIFIED}, {@link #CLOSED}, {@link #SEALED}
         * and {@link #FORGOTTEN} or'ed; a forgotten account's digest is 0, 0.
         */
        void account(long number, long balance, int flags, long openedSeq, long emailDigestHigh, long emailDigestLow);

        void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros);
    }

    public void exportTo(Exporter exporter) {
        exporter.counters(lastSeq, lastTimeMicros, openedTotal, withdrawnTotal, forfeitedTotal, accounts.size(),
                idempotency.size());
        for (int index = 0; index < accounts.size(); index++) {
            exporter.account(accounts.number(index), accounts.balance(index), flagsOf(index),
                    accounts.openedSeq(index), accounts.emailDigestHigh(index), accounts.emailDigestLow(index));
        }
        for (IdempotencyLog.Entry entry : idempotency.oldestFirst()) {
            exporter.idempotency(entry.scopedKey().scope(), entry.scopedKey().key(), entry.fingerprint(),
                    entry.seq(), entry.timeMicros());
        }
    }

    private int flagsOf(int index) {
        return (accounts.isVerified(index) ? Exporter.VERIFIED : 0) | (accounts.isClosed(index) ? Exporter.CLOSED : 0)
                | (accounts.isSealed(index) ? Exporter.SEALED : 0)
                | (accounts.isForgotten(index) ? Exporter.FORGOTTEN : 0);
    }

    /**
     * An independent copy with the same accounts, keys and counters (the same {@link
     * #stateDigest()}), for exploring an alternative history without touching this one, or for a
     * replica of the write model (the snapshotter's). Its email digests are under the same key.
     * Its arrays are cloned whole: tens of milliseconds for a million accounts, where restoring
     * them one by one took a second.
     */
    public Bank copy() {
        Bank copy = new Bank(accounts.copy(), idempotency.copy(), emailDigests.copy());
        copy.lastSeq = lastSeq;
        copy.lastTimeMicros = lastTimeMicros;
        copy.openedTotal = openedTotal;
        copy.withdrawnTotal = withdrawnTotal;
        copy.forfeitedTotal = forfeitedTotal;
        return copy;
    }

    /** Restores counters into a new bank, for loading a snapshot. */
    public void restoreCounters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                                long forfeitedTotal) {
        requireNew();
        this.lastSeq = lastSeq;
        this.lastTimeMicros = lastTimeMicros;
        this.openedTotal = openedTotal;
        this.withdrawnTotal = withdrawnTotal;
        this.forfeitedTotal = forfeitedTotal;
    }

    /**
     * Makes room for {@code accountCount} accounts in a new bank, before they are restored one by
     * one: loading a snapshot then never grows a table.
     */
    public void reserveAccounts(int accountCount) {
        accounts.reserve(accountCount);
    }

    /**
     * Restores one account, in the order accounts were opened, for loading a snapshot; its
     * flags as {@link Exporter#account} gives them. {@link #indexRestoredAccounts} indexes them
     * all at the end.
     */
    public void restoreAccount(long number, long balance, int flags, long openedSeq,
                               long emailDigestHigh, long emailDigestLow) {
        boolean forgotten = (flags & Exporter.FORGOTTEN) != 0;
        // No email without being forgotten: a bank built without the key store, where sealed
        // openings read as null (a tool's replay).
        boolean noEmail = emailDigestHigh == AccountTable.NO_EMAIL && emailDigestLow == AccountTable.NO_EMAIL;
        if ((flags & ~Exporter.FLAGS_ALL) != 0 || forgotten && !noEmail) {
            throw new IllegalStateException("snapshot holds account " + number + " with flags " + flags
                    + (noEmail ? " and no email" : " and an email"));
        }
        int index = accounts.addUnindexed(number, balance, openedSeq, (flags & Exporter.VERIFIED) != 0,
                emailDigestHigh, emailDigestLow);
        if ((flags & Exporter.CLOSED) != 0) {
            accounts.setClosed(index);
        }
        if ((flags & Exporter.SEALED) != 0) {
            accounts.setSealed(index);
        }
        if (forgotten) {
            accounts.setForgotten(index);
        }
    }

    /**
     * Indexes the accounts {@link #restoreAccount} restored, once all of them are: until then no
     * account is found by its number or email.
     *
     * @throws IllegalStateException when a number or an email is there twice
     */
    public void indexRestoredAccounts() {
        if (!accounts.indexRestored()) {
            throw new IllegalStateException("snapshot holds an account number or an email twice");
        }
    }

    /** Restores one idempotency entry, oldest first, for loading a snapshot. */
    public void restoreIdempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {
        idempotency.remember(scope, new Idempotency(key, fingerprint), seq, timeMicros);
    }

    /**
     * A SHA-256 over the whole state in a canonical order: two banks with the same digest hold
     * the same accounts, balances, flags, keys and counters (not the emails' digests, which are
     * keyed: see {@link EmailDigests}). Used to check that replay from
     * scratch equals a snapshot plus the tail.
     */
    public String stateDigest() {
        MessageDigest digest = newSha256();
        ByteBuffer buffer = ByteBuffer.allocate(64);
        exportTo(new Exporter() {
            @Override
            public void counters(long seq, long time, long opened, long withdrawn, long forfeited, int count,
                                 int keys) {
                digest.update(buffer.clear().putLong(seq).putLong(time).putLong(opened).putLong(withdrawn)
                        .putLong(forfeited).putInt(count).putInt(keys).flip());
            }

            @Override
            public void account(long number, long balance, int flags, long openedSeq, long high, long low) {
                // Not the email's digest, which depends on the digest key: banks under two keys
                // (a replay in a test, a tool without the key) hold the same state all the same.
                digest.update(buffer.clear().putLong(number).putLong(balance).put((byte) flags)
                        .putLong(openedSeq).flip());
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
            // Null when the account is forgotten by now: its email is free again.
            long[] digest = opened.personal().emailDigest(emailDigests);
            if (accounts.indexOf(opened.accountNumber()) >= 0
                    || (digest != null && accounts.containsEmail(digest[0], digest[1]))) {
                throw new IllegalStateException("account opened twice at seq " + seq);
            }
            int index = accounts.add(opened.accountNumber(), opened.openingBalance(), seq, false,
                    digest == null ? AccountTable.NO_EMAIL : digest[0], digest == null ? AccountTable.NO_EMAIL : digest[1]);
            if (opened.personal().sealed()) {
                accounts.setSealed(index);
            }
            openedTotal = Math.addExact(openedTotal, opened.openingBalance());
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed closed) {
            int index = existing(closed.accountNumber(), seq);
            if (accounts.isClosed(index) || accounts.balance(index) != 0) {
                throw new IllegalStateException("seq " + seq + " closes account " + closed.accountNumber()
                        + (accounts.isClosed(index) ? " a second time" : " holding " + accounts.balance(index)
                        + " cents"));
            }
            accounts.setClosed(index);
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten forgotten) {
            int index = existing(forgotten.accountNumber(), seq);
            if (!accounts.isClosed(index) || !accounts.isSealed(index) || accounts.isForgotten(index)) {
                throw new IllegalStateException("seq " + seq + " forgets account " + forgotten.accountNumber()
                        + ", which is not a closed, sealed account not yet forgotten");
            }
            accounts.setForgotten(index);
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
            if (kind == Movements.Kind.FORFEIT) {
                accounts.setBalance(from, fromBalance);
                forfeitedTotal = Math.addExact(forfeitedTotal, amount);
            } else if (creditAccount == Movements.OUTSIDE) {
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
        return EmailDigests.normalize(email);
    }

    static long scopeOf(Event event) {
        return switch (event) {
            case Event.AccountOpened e -> IdempotencyLog.SCOPE_OPENING;
            case Event.AccountVerified e -> e.accountNumber();
            case Event.MoneyTransferred e -> e.fromAccountNumber();
            case Event.MoneyWithdrawn e -> e.accountNumber();
            case Event.AccountClosed e -> e.accountNumber();
            case Event.AccountForgotten e -> e.accountNumber();
        };
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
