package eventbank.server.http;

import java.time.Clock;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How many requests of one kind one key may make a minute: a token bucket per key (a client
 * address, or an account number) that holds {@code rate} tokens and gains one every
 * {@code 60 / rate} seconds, so a burst of {@code rate} requests, then one every
 * {@code 60 / rate} seconds. A rate of 0 limits nothing. In memory: a restart forgets it. The
 * server's limiters, each with its key, are named in {@link RateLimiters}.
 *
 * <p>Kept as the generic cell rate algorithm: per address one instant, the time at which its
 * bucket is full again ({@code fullAt}); a request takes a token by pushing it one interval
 * later, and is refused when that would put it more than a minute ahead of now. An address whose
 * bucket is full again holds no information and may be forgotten.
 *
 * <p>The map is bounded by {@link #CLIENT_ADDRESSES_MAX} (a flood from many addresses, IPv6 ones
 * for instance, cannot exhaust memory): it is kept in least-recently-used order, and adding an
 * address to a full map first drops the least recently seen addresses whose bucket is full again
 * (idle ones), or, when the least recently seen one is not idle, that one alone. Dropping an
 * address that is not idle forgets what it used: under a flood of more than that many addresses
 * within a minute the limit per address weakens, but memory stays bounded.
 */
final class RateLimiter {
    /** The most client addresses remembered at once: about 15 MB at worst. */
    static final int CLIENT_ADDRESSES_MAX = 100_000;
    private static final long WINDOW_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final int ratePerMinute;
    private final int clientAddressesMax;
    private final Clock clock;
    private final long intervalNanos;
    /** Client address → the time (nanoseconds since the epoch) its bucket is full again; access order. */
    private final LinkedHashMap<String, Long> fullAt = new LinkedHashMap<>(16, 0.75f, true);

    /** @param ratePerMinute openings a minute per address; 0 for no limit */
    RateLimiter(int ratePerMinute, Clock clock) {
        this(ratePerMinute, CLIENT_ADDRESSES_MAX, clock);
    }

    RateLimiter(int ratePerMinute, int clientAddressesMax, Clock clock) {
        if (ratePerMinute < 0 || clientAddressesMax < 1) {
            throw new IllegalArgumentException("rate " + ratePerMinute + ", addresses " + clientAddressesMax);
        }
        this.ratePerMinute = ratePerMinute;
        this.clientAddressesMax = clientAddressesMax;
        this.clock = clock;
        this.intervalNanos = ratePerMinute == 0 ? 0 : WINDOW_NANOS / ratePerMinute;
    }

    /**
     * Takes a token for this client address: 0 when the opening may go ahead (and then it counts),
     * else the seconds (at least 1) until the address may try again, and nothing is counted.
     */
    long acquire(String clientAddress) {
        return acquire(clientAddress, 1);
    }

    /**
     * Takes {@code tokens} tokens for this key at once, or none: 0 when they were taken, else the
     * seconds (at least 1) until the bucket holds that many, and nothing is counted. More tokens
     * than {@link #ratePerMinute()} never fit: the caller refuses such a request first.
     */
    long acquire(String clientAddress, int tokens) {
        if (ratePerMinute == 0) {
            return 0;
        }
        if (tokens < 1 || tokens > ratePerMinute) {
            throw new IllegalArgumentException(tokens + " tokens from a bucket of " + ratePerMinute);
        }
        long now = nanos(clock.instant());
        synchronized (fullAt) {
            Long stored = fullAt.get(clientAddress);
            long start = stored == null ? now : Math.max(stored, now);
            long next = start + intervalNanos * tokens;
            if (next - now > WINDOW_NANOS) {
                long waitNanos = next - WINDOW_NANOS - now;
                return Math.max(1, (waitNanos + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
            }
            if (stored == null && fullAt.size() >= clientAddressesMax) {
                makeRoom(now);
            }
            fullAt.put(clientAddress, next);
            return 0;
        }
    }

    /** The tokens a minute, and so the most a bucket holds; 0 for no limit. */
    int ratePerMinute() {
        return ratePerMinute;
    }

    /** How many client addresses are remembered now. */
    int clientAddresses() {
        synchronized (fullAt) {
            return fullAt.size();
        }
    }

    /**
     * Drops the least recently seen addresses while their bucket is full again (each address is
     * dropped once, so this is cheap however long the flood), and if that frees nothing, the least
     * recently seen one all the same: it is the likeliest to be idle.
     */
    private void makeRoom(long now) {
        Iterator<Map.Entry<String, Long>> eldest = fullAt.entrySet().iterator();
        boolean freed = false;
        while (eldest.hasNext()) {
            Map.Entry<String, Long> entry = eldest.next();
            if (entry.getValue() > now) {
                if (!freed) {
                    eldest.remove();
                }
                return;
            }
            eldest.remove();
            freed = true;
        }
    }

    private static long nanos(Instant instant) {
        return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }
}
