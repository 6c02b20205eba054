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
 */
final class LoginThrottle {
    static final int FAILURES_MAX = 5;
    static final Duration WINDOW = Duration.ofMinutes(15);

    private final Clock clock;
    private final ConcurrentHashMap<Long, ArrayDeque<Instant>> failures = new ConcurrentHashMap<>();

    LoginThrottle(Clock clock) {
        this.clock = clock;
    }

    /** Seconds until this account may try again, or 0 when it may now. */
    long blockedForSeconds(long accountNumber) {
        ArrayDeque<Instant> recent = failures.get(accountNumber);
        if (recent == null) {
            return 0;
        }
        synchronized (recent) {
            Instant now = clock.instant();
            prune(recent, now);
            if (recent.size() < FAILURES_MAX) {
                return 0;
            }
            return Math.max(1, Duration.between(now, recent.peekFirst().plus(WINDOW)).toSeconds() + 1);
        }
    }

    void failed(long accountNumber) {
        ArrayDeque<Instant> recent = failures.computeIfAbsent(accountNumber, n -> new ArrayDeque<>());
        synchronized (recent) {
            Instant now = clock.instant();
            prune(recent, now);
            recent.addLast(now);
        }
    }

    void succeeded(long accountNumber) {
        failures.remove(accountNumber);
    }

    private static void prune(ArrayDeque<Instant> recent, Instant now) {
        while (!recent.isEmpty() && !recent.peekFirst().plus(WINDOW).isAfter(now)) {
            recent.removeFirst();
        }
    }
}
