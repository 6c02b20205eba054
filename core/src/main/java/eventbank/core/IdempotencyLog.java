package eventbank.core;

import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * The idempotency keys of accepted commands, each remembered for a window of time after the
 * event that consumed it. Entries are added in time order (the sequencer's clock never goes
 * backwards), so the oldest is always at the head of the queue and expiry is cheap.
 */
final class IdempotencyLog {

    /** A key within its scope: an account number, or {@link #SCOPE_OPENING} for account opening. */
    record ScopedKey(long scope, String key) {}

    /** What was accepted under a key. */
    record Entry(ScopedKey scopedKey, String fingerprint, long seq, long timeMicros) {}

    static final long SCOPE_OPENING = 0;

    private final long windowMicros;
    private final HashMap<ScopedKey, Entry> entries = new HashMap<>();
    private final ArrayDeque<Entry> byAge = new ArrayDeque<>();

    IdempotencyLog(long windowMicros) {
        if (windowMicros <= 0) {
            throw new IllegalArgumentException("the idempotency window must be positive");
        }
        this.windowMicros = windowMicros;
    }

    /** An independent copy with the same entries (which are immutable, so shared). */
    IdempotencyLog copy() {
        IdempotencyLog copy = new IdempotencyLog(windowMicros);
        copy.entries.putAll(entries);
        copy.byAge.addAll(byAge);
        return copy;
    }

    long windowMicros() {
        return windowMicros;
    }

    /** The live entry for this key at this time, or null. */
    Entry find(long scope, String key, long nowMicros) {
        Entry entry = entries.get(new ScopedKey(scope, key));
        return entry == null || isExpired(entry, nowMicros) ? null : entry;
    }

    /**
     * Remembers a key. An opening's is kept without its fingerprint whatever the event or snapshot
     * carried: openings recorded before the fix carry an HMAC over email and password, and
     * snapshots written from here on must not copy it (an opening's retry is compared by values).
     */
    void remember(long scope, Idempotency idempotency, long seq, long timeMicros) {
        String fingerprint = scope == SCOPE_OPENING ? Idempotency.NO_FINGERPRINT : idempotency.fingerprint();
        Entry entry = new Entry(new ScopedKey(scope, idempotency.key()), fingerprint, seq, timeMicros);
        entries.put(entry.scopedKey(), entry);
        byAge.addLast(entry);
    }

    /** Forgets every entry older than the window. */
    void expire(long nowMicros) {
        while (!byAge.isEmpty() && isExpired(byAge.peekFirst(), nowMicros)) {
            Entry oldest = byAge.removeFirst();
            // A key reused after its expiry maps to a newer entry, which must stay.
            entries.remove(oldest.scopedKey(), oldest);
        }
    }

    int size() {
        return byAge.size();
    }

    Iterable<Entry> oldestFirst() {
        return byAge;
    }

    private boolean isExpired(Entry entry, long nowMicros) {
        return entry.timeMicros() < nowMicros - windowMicros;
    }
}
