package eventbank.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The one conversion between the bank's microseconds and {@link Instant}, both ways and at the edges. */
class EpochMicrosTest {

    @Test
    void microsecondsBecomeInstants() {
        assertThat(EpochMicros.toInstant(0)).isEqualTo(Instant.EPOCH);
        assertThat(EpochMicros.toInstant(1_795_687_200_123_456L))
                .isEqualTo(Instant.parse("2026-11-26T10:00:00.123456Z"));
        assertThat(EpochMicros.toInstant(-1)).isEqualTo(Instant.parse("1969-12-31T23:59:59.999999Z"));
        assertThat(EpochMicros.toInstant(Long.MAX_VALUE)).isEqualTo(Instant.parse("+294247-01-10T04:00:54.775807Z"));
        assertThat(EpochMicros.toInstant(Long.MIN_VALUE)).isEqualTo(Instant.parse("-290308-12-21T19:59:05.224192Z"));
    }

    @Test
    void instantsRoundDownToWholeMicroseconds() {
        assertThat(EpochMicros.of(Instant.parse("2026-11-26T10:00:00.123456Z"))).isEqualTo(1_795_687_200_123_456L);
        assertThat(EpochMicros.of(Instant.parse("1970-01-01T00:00:00.000000999Z"))).isEqualTo(0);
        assertThat(EpochMicros.of(Instant.parse("1969-12-31T23:59:59.9999995Z"))).isEqualTo(-1);
        assertThat(EpochMicros.of(Instant.MAX)).isEqualTo(Long.MAX_VALUE);
        assertThat(EpochMicros.of(Instant.MIN)).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void boundsRoundUpToWholeMicroseconds() {
        assertThat(EpochMicros.ceilingOf(Instant.parse("1970-01-01T00:00:01Z"))).isEqualTo(1_000_000);
        assertThat(EpochMicros.ceilingOf(Instant.parse("1970-01-01T00:00:00.000000001Z"))).isEqualTo(1);
        assertThat(EpochMicros.ceilingOf(Instant.parse("1969-12-31T23:59:59.9999995Z"))).isEqualTo(0);
        assertThat(EpochMicros.ceilingOf(Instant.MAX)).isEqualTo(Long.MAX_VALUE);
        assertThat(EpochMicros.ceilingOf(Instant.MIN)).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void everyMicrosecondComesBackWhole() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 100_000; i++) {
            long micros = random.nextLong();
            Instant instant = EpochMicros.toInstant(micros);
            assertThat(EpochMicros.of(instant)).isEqualTo(micros);
            assertThat(EpochMicros.ceilingOf(instant)).isEqualTo(micros);
            assertThat(EpochMicros.of(instant.plusNanos(1))).isEqualTo(micros);
            assertThat(EpochMicros.ceilingOf(instant.minusNanos(1))).isEqualTo(micros);
        }
    }
}
