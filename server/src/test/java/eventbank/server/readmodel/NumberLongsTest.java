package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NumberLongsTest {
    private static final long FIRST = 1_000_000_000_000_000L;

    @Test
    void findsWhatWasPutAndNeitherAnotherNumberNorTheFreeSlotsZeroAcrossGrowth() {
        NumberLongs longs = new NumberLongs();
        for (long number = FIRST; number < FIRST + 10_000; number++) {
            longs.put(number, number - FIRST);
        }
        assertThat(longs.size()).isEqualTo(10_000);
        for (long number = FIRST; number < FIRST + 10_000; number++) {
            assertThat(longs.contains(number)).isTrue();
            assertThat(longs.getOrDefault(number, -1)).isEqualTo(number - FIRST);
        }
        assertThat(longs.contains(FIRST + 10_000)).isFalse();
        assertThat(longs.getOrDefault(FIRST + 10_000, -1)).isEqualTo(-1);
        assertThat(longs.contains(0)).isFalse();
        assertThat(longs.getOrDefault(0, -1)).isEqualTo(-1);
    }
}
