package eventbank.core;

import java.time.Instant;

/**
 * Time as the bank keeps it: whole microseconds since 1970-01-01T00:00:00Z (UTC) in a
 * {@code long}, in events ({@link Recorded#timeMicros()}), idempotency windows and read models.
 * The one place that converts it to and from {@link Instant}. It reads no clock: whoever needs
 * the time now is given a {@code java.time.Clock} and converts its instant here.
 */
public final class EpochMicros {
    private static final long MICROS_PER_SECOND = 1_000_000;
    private static final long NANOS_PER_MICRO = 1_000;

    private EpochMicros() {}

    /** The instant; every {@code long} of microseconds is one. */
    public static Instant toInstant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, MICROS_PER_SECOND),
                Math.floorMod(micros, MICROS_PER_SECOND) * NANOS_PER_MICRO);
    }

    /**
     * The instant in whole microseconds, rounded down (a nanosecond before the epoch is -1).
     * Beyond what a {@code long} holds (about 292,000 years either way) it answers
     * {@link Long#MIN_VALUE} or {@link Long#MAX_VALUE}, which still compare right with any time.
     */
    public static long of(Instant instant) {
        return saturated(instant, instant.getNano() / NANOS_PER_MICRO);
    }

    /**
     * The first whole microsecond at or after the instant, saturating as {@link #of} does. For
     * bounds: an event at {@code t} is at or after {@code from} exactly when
     * {@code t >= ceilingOf(from)}, and before {@code to} exactly when {@code t < ceilingOf(to)}.
     */
    public static long ceilingOf(Instant instant) {
        return saturated(instant, (instant.getNano() + NANOS_PER_MICRO - 1) / NANOS_PER_MICRO);
    }

    private static long saturated(Instant instant, long microsOfSecond) {
        try {
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), MICROS_PER_SECOND), microsOfSecond);
        } catch (ArithmeticException e) {
            return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }
}
