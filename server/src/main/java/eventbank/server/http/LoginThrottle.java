package eventbank.server.http;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * After {@link #FAILURES_MAX} failed logins within {@link #WINDOW} for one account, further
 * attempts are refused (429) until the oldest of them leaves the window. In memory: a restart
 * forgets it, which costs an attacker a restart per five guesses.
 *
 * <p>An attempt is counted as a failure before its password is checked, not after: checking
 * first and counting after the hash let every guess that arrived while the others were still
 * hashing pass the check (19 guesses instead of 5 with 16 carrier threads). A login that
 * succeeds clears the account's count, its own slot included.
 */
final class LoginThrottle {
    static final int FAILURES_MAX = 5;
    static final Duration WINDOW = Duration.ofMinutes(15);

    private final Clock clock;
    private final ConcurrentHashMap<Long, ArrayDeque<Instant>> failures = new ConcurrentHashMap<>();

    LoginThrottle(Clock clock) {
        this.clock = clock;
    }

    /**
     * Counts one attempt for this account and returns 0 when it may go on to the password check,
     * or, counting nothing, the seconds until the account may try again. The check and the count
     * are one step under the map's lock for that key, so parallel attempts cannot all pass.
     */
    long attempt(long accountNumber) {
        long[] blockedSeconds = {0};
        Instant now = clock.instant();
        failures.compute(accountNumber, (number, recent) -> {
            ArrayDeque<Instant> attempts = recent == null ? new ArrayDeque<>() : recent;
            prune(attempts, now);
            if (attempts.size() >= FAILURES_MAX) {
                Instant free = attempts.peekFirst().plus(WINDOW);
                blockedSeconds[0] = Math.max(1, Duration.between(now, free).toSeconds() + 1);
            } else {
                attempts.addLast(now);
            }
            return attempts;
        });
        return blockedSeconds[0];
    }

    /** The right password: the failures counted so far (this attempt's too) no longer count. */
    void succeeded(long accountNumber) {
        failures.remove(accountNumber);
    }

    private static void prune(ArrayDeque<Instant> recent, Instant now) {
        while (!recent.isEmpty() && !recent.peekFirst().plus(WINDOW).isAfter(now)) {
            recent.removeFirst();
        }
    }
}
