package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The token bucket per client address behind {@code http.open_rate_per_minute}, on a clock the test moves. */
class RateLimiterTest {
    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-26T10:00:00Z"));

    @Test
    void aBurstOfTheRateThenRefusedWithTheSecondsUntilTheNextToken() {
        RateLimiter limiter = new RateLimiter(30, clock);
        for (int i = 0; i < 30; i++) {
            assertThat(limiter.acquire("10.0.0.1")).as("opening %d", i + 1).isZero();
        }
        assertThat(limiter.acquire("10.0.0.1")).as("one token every 2 seconds").isEqualTo(2);
        assertThat(limiter.acquire("10.0.0.2")).as("another address has a bucket of its own").isZero();
        clock.advance(Duration.ofMillis(500));
        assertThat(limiter.acquire("10.0.0.1")).as("rounded up").isEqualTo(2);
        clock.advance(Duration.ofMillis(1500));
        assertThat(limiter.acquire("10.0.0.1")).as("one token back after 2 seconds").isZero();
        assertThat(limiter.acquire("10.0.0.1")).isEqualTo(2);
    }

    @Test
    void aRefusalCountsNothing() {
        RateLimiter limiter = new RateLimiter(1, clock);
        assertThat(limiter.acquire("::1")).isZero();
        for (int i = 0; i < 100; i++) {
            assertThat(limiter.acquire("::1")).isEqualTo(60);
        }
        clock.advance(Duration.ofSeconds(59));
        assertThat(limiter.acquire("::1")).isEqualTo(1);
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.acquire("::1")).isZero();
    }

    @Test
    void theBucketRefillsToTheRateAndNoFurther() {
        RateLimiter limiter = new RateLimiter(6, clock);
        for (int i = 0; i < 6; i++) {
            assertThat(limiter.acquire("a")).isZero();
        }
        assertThat(limiter.acquire("a")).isEqualTo(10);
        clock.advance(Duration.ofSeconds(30));
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("a")).as("half a minute: half the bucket").isZero();
        }
        assertThat(limiter.acquire("a")).isEqualTo(10);
        clock.advance(Duration.ofHours(5));
        for (int i = 0; i < 6; i++) {
            assertThat(limiter.acquire("a")).as("an idle hour refills no more than the rate").isZero();
        }
        assertThat(limiter.acquire("a")).isEqualTo(10);
    }

    @Test
    void aClockThatGoesBackGivesNothingBack() {
        RateLimiter limiter = new RateLimiter(2, clock);
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).isZero();
        clock.advance(Duration.ofMinutes(-10));
        assertThat(limiter.acquire("a")).isPositive();
    }

    @Test
    void aRateOfZeroNeverLimitsAndRemembersNoAddress() {
        RateLimiter limiter = new RateLimiter(0, clock);
        for (int i = 0; i < 10_000; i++) {
            assertThat(limiter.acquire("127.0.0.1")).isZero();
            assertThat(limiter.acquire("10.1." + (i >> 8) + "." + (i & 255))).isZero();
        }
        assertThat(limiter.clientAddresses()).isZero();
    }

    @Test
    void aFloodOfAddressesIsBoundedAndIdleOnesGoFirst() {
        RateLimiter limiter = new RateLimiter(3, 100, clock);
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("busy")).isZero();
        }
        for (int i = 0; i < 99; i++) {
            assertThat(limiter.acquire("idle-" + i)).isZero();
        }
        assertThat(limiter.clientAddresses()).isEqualTo(100);
        clock.advance(Duration.ofSeconds(30)); // the idle ones (one token used) are full again; busy is not
        assertThat(limiter.acquire("busy")).as("one token back after 20 seconds").isZero();
        assertThat(limiter.acquire("busy")).isEqualTo(10);
        assertThat(limiter.acquire("new")).isZero();
        assertThat(limiter.clientAddresses()).as("the idle addresses were forgotten, busy was not").isEqualTo(2);
        assertThat(limiter.acquire("busy")).as("still limited").isEqualTo(10);
    }

    @Test
    void whenNoAddressIsIdleTheLeastRecentlySeenGoesAndTheMapStaysBounded() {
        RateLimiter limiter = new RateLimiter(1, 1000, clock);
        for (int i = 0; i < 50_000; i++) {
            assertThat(limiter.acquire("flood-" + i)).isZero();
            assertThat(limiter.clientAddresses()).isLessThanOrEqualTo(1000);
        }
        assertThat(limiter.clientAddresses()).isEqualTo(1000);
        assertThat(limiter.acquire("flood-49999")).as("the most recent are remembered").isEqualTo(60);
        assertThat(limiter.acquire("flood-0")).as("the oldest were dropped").isZero();
    }

    @Test
    void theBoundIsNamed() {
        assertThat(RateLimiter.CLIENT_ADDRESSES_MAX).isEqualTo(100_000);
        RateLimiter limiter = new RateLimiter(30, clock);
        for (int i = 0; i < RateLimiter.CLIENT_ADDRESSES_MAX + 1_000; i++) {
            limiter.acquire("2001:db8::" + Integer.toHexString(i));
        }
        assertThat(limiter.clientAddresses()).isEqualTo(RateLimiter.CLIENT_ADDRESSES_MAX);
    }
}
