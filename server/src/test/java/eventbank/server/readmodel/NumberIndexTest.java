package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class NumberIndexTest {
    private static final long FIRST = 1_000_000_000_000_000L;

    @Test
    void findsWhatWasPutAndNothingElseAcrossGrowth() {
        NumberIndex<String> index = new NumberIndex<>();
        for (long number = FIRST; number < FIRST + 10_000; number++) {
            assertThat(index.putIfAbsent(number, "v" + number)).isNull();
        }
        assertThat(index.size()).isEqualTo(10_000);
        for (long number = FIRST; number < FIRST + 10_000; number++) {
            assertThat(index.get(number)).isEqualTo("v" + number);
        }
        assertThat(index.get(FIRST - 1)).isNull();
        assertThat(index.get(FIRST + 10_000)).isNull();
        assertThat(index.get(0)).isNull();
        List<String> all = new ArrayList<>();
        index.forEach(all::add);
        assertThat(all).hasSize(10_000).contains("v" + FIRST, "v" + (FIRST + 9_999));
    }

    @Test
    void aNumberAlreadyThereKeepsItsValue() {
        NumberIndex<String> index = new NumberIndex<>();
        index.putIfAbsent(FIRST, "first");
        assertThat(index.putIfAbsent(FIRST, "second")).isEqualTo("first");
        assertThat(index.get(FIRST)).isEqualTo("first");
        assertThat(index.size()).isEqualTo(1);
    }

    @Test
    void clearDropsEverything() {
        NumberIndex<String> index = new NumberIndex<>();
        index.putIfAbsent(FIRST, "first");
        index.clear();
        assertThat(index.get(FIRST)).isNull();
        assertThat(index.size()).isZero();
        assertThat(index.putIfAbsent(FIRST, "again")).isNull();
    }

    /**
     * The writer publishes how far it got after each put; a reader on another thread looks up
     * every number up to there, while the table grows under it, and must find each one.
     */
    @Test
    void aReaderFindsEveryNumberPutBeforeItLooksWhileTheTableGrows() throws Exception {
        NumberIndex<Long> index = new NumberIndex<>();
        int count = 300_000;
        AtomicLong published = new AtomicLong(FIRST - 1);
        AtomicReference<String> missed = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(15);
            long last;
            do {
                last = published.get();
                if (last < FIRST) {
                    continue;
                }
                // The newest number, put just now, and one put at any time before.
                for (long number : new long[] {last, random.nextLong(FIRST, last + 1)}) {
                    Long value = index.get(number);
                    if (value == null || value != number) {
                        missed.compareAndSet(null, number + " gave " + value + " with " + last + " published");
                    }
                }
            } while (last < FIRST + count - 1 && missed.get() == null);
        });
        reader.start();
        for (long number = FIRST; number < FIRST + count; number++) {
            index.putIfAbsent(number, number);
            published.set(number);
        }
        reader.join(60_000);
        assertThat(reader.isAlive()).isFalse();
        assertThat(missed.get()).isNull();
    }
}
