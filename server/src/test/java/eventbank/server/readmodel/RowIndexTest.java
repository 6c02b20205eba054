package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The index of account numbers to rows the accounts and statements models find accounts through. */
class RowIndexTest {
    private static final long FIRST = 1_000_000_000_000_000L;

    @Test
    void findsWhatWasPutAndNothingElseAcrossGrowth() {
        RowIndex index = new RowIndex();
        for (long number = FIRST; number < FIRST + 10_000; number++) {
            assertThat(index.putIfAbsent(number, (int) (number - FIRST))).isEqualTo(RowIndex.ABSENT);
        }
        assertThat(index.size()).isEqualTo(10_000);
        for (long number = FIRST; number < FIRST + 10_000; number++) {
            assertThat(index.get(number)).isEqualTo((int) (number - FIRST));
        }
        assertThat(index.get(FIRST - 1)).isEqualTo(RowIndex.ABSENT);
        assertThat(index.get(FIRST + 10_000)).isEqualTo(RowIndex.ABSENT);
        assertThat(index.get(0)).isEqualTo(RowIndex.ABSENT);
    }

    @Test
    void aNumberAlreadyThereKeepsItsValue() {
        RowIndex index = new RowIndex();
        index.putIfAbsent(FIRST, 1);
        assertThat(index.putIfAbsent(FIRST, 2)).isEqualTo(1);
        assertThat(index.get(FIRST)).isEqualTo(1);
        assertThat(index.size()).isEqualTo(1);
    }

    @Test
    void clearDropsEverything() {
        RowIndex index = new RowIndex();
        index.putIfAbsent(FIRST, 1);
        index.clear();
        assertThat(index.get(FIRST)).isEqualTo(RowIndex.ABSENT);
        assertThat(index.size()).isZero();
        assertThat(index.putIfAbsent(FIRST, 2)).isEqualTo(RowIndex.ABSENT);
    }

    /**
     * The writer publishes how far it got after each put; a reader on another thread looks up
     * every number up to there, while the table grows under it, and must find each one.
     */
    @Test
    void aReaderFindsEveryNumberPutBeforeItLooksWhileTheTableGrows() throws Exception {
        RowIndex index = new RowIndex();
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
                    int value = index.get(number);
                    if (value != (int) (number - FIRST)) {
                        missed.compareAndSet(null, number + " gave " + value + " with " + last + " published");
                    }
                }
            } while (last < FIRST + count - 1 && missed.get() == null);
        });
        reader.start();
        for (long number = FIRST; number < FIRST + count; number++) {
            index.putIfAbsent(number, (int) (number - FIRST));
            published.set(number);
        }
        reader.join(60_000);
        assertThat(reader.isAlive()).isFalse();
        assertThat(missed.get()).isNull();
    }
}
