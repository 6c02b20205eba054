package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Bank;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Rows across pages, their profiles across chunks, the two indexes, and the sequence lock. */
class AccountRowsTest {
    private static final long FIRST = 1_000_000_000_000_001L;
    private static final String HASH = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

    /** Emails in lower case, with capitals, and beyond ASCII (İ has one byte more in lower case). */
    private static String email(int index) {
        return switch (index % 3) {
            case 0 -> "user" + index + "@example.com";
            case 1 -> "User" + index + "@Example.COM";
            default -> "Zoë.İnce" + index + "@Example.com";
        };
    }

    @Test
    void rowsAcrossPagesAndChunksAreFoundByNumberAndByEmailIgnoringCase() {
        AccountRows rows = new AccountRows();
        RowIndex byNumber = new RowIndex();
        EmailIndex byEmail = new EmailIndex(rows);
        int count = 3 * AccountRows.PAGE_ROWS + 5; // about 350 KB of profiles: two chunks
        for (int index = 0; index < count; index++) {
            int row = rows.add(FIRST + index, email(index), HASH + index, index, index + 1, 10L * index);
            assertThat(row).isEqualTo(index);
            assertThat(byNumber.putIfAbsent(FIRST + index, row)).isEqualTo(RowIndex.ABSENT);
            assertThat(byEmail.putIfAbsent(row)).isEqualTo(RowIndex.ABSENT);
        }
        for (int index = 0; index < count; index++) {
            String email = email(index);
            assertThat(rows.view(byNumber.get(FIRST + index))).isEqualTo(new AccountView(FIRST + index, email,
                    HASH + index, false, false, index, index + 1, 10L * index, AccountView.NO_ACTIVITY));
            for (String asTyped : new String[] {email, email.toUpperCase(Locale.ROOT), email.toLowerCase(Locale.ROOT)}) {
                assertThat(byEmail.get(Bank.normalizeEmail(asTyped))).as(asTyped).isEqualTo(index);
            }
        }
        assertThat(byEmail.get("nobody@example.com")).isEqualTo(RowIndex.ABSENT);
        assertThat(byNumber.get(FIRST + count)).isEqualTo(RowIndex.ABSENT);
        // The same email in other capitals is the same email.
        int again = rows.add(FIRST + count, "USER0@EXAMPLE.COM", HASH, 0, count + 1, 0);
        assertThat(byEmail.putIfAbsent(again)).isZero();
    }

    @Test
    void aViewCopiesTheAccountAsTheWriterLeftIt() {
        AccountRows rows = new AccountRows();
        int row = rows.add(1_000_000_000_000_001L, "a@example.com", "hash", 500, 1, 10);
        assertThat(rows.view(row)).isEqualTo(new AccountView(1_000_000_000_000_001L, "a@example.com", "hash", false, false,
                500, 1, 10, AccountView.NO_ACTIVITY));
        rows.verify(row);
        rows.moved(row, 400, 20);
        assertThat(rows.view(row)).isEqualTo(new AccountView(1_000_000_000_000_001L, "a@example.com", "hash", true, false,
                400, 1, 10, 20));
    }

    /**
     * The writer publishes how far it got after each account; a reader on another thread looks
     * up the newest and an older one by number and by email, while pages, chunks and both tables
     * grow under it, and must find each one whole.
     */
    @Test
    void aReaderFindsEveryAccountAddedBeforeItLooksWhileEverythingGrows() throws Exception {
        AccountRows rows = new AccountRows();
        RowIndex byNumber = new RowIndex();
        EmailIndex byEmail = new EmailIndex(rows);
        int count = 100_000;
        AtomicInteger published = new AtomicInteger(-1);
        AtomicReference<String> missed = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(15);
            int last;
            do {
                last = published.get();
                if (last < 0) {
                    continue;
                }
                for (int index : new int[] {last, random.nextInt(last + 1)}) {
                    int row = byNumber.get(FIRST + index);
                    AccountView view = row == RowIndex.ABSENT ? null : rows.view(row);
                    if (view == null || !view.email().equals(email(index)) || view.balance() != index
                            || byEmail.get(Bank.normalizeEmail(email(index))) != row) {
                        missed.compareAndSet(null, index + " gave " + view + " with " + last + " published");
                    }
                }
            } while (last < count - 1 && missed.get() == null);
        });
        reader.start();
        for (int index = 0; index < count; index++) {
            int row = rows.add(FIRST + index, email(index), HASH, index, index + 1, 0);
            byNumber.putIfAbsent(FIRST + index, row);
            byEmail.putIfAbsent(row);
            published.set(index);
        }
        reader.join(60_000);
        assertThat(reader.isAlive()).isFalse();
        assertThat(missed.get()).isNull();
    }

    /**
     * The writer always leaves the balance equal to the time of the last movement; a reader on
     * another thread that ever saw them differ would have seen half a change.
     */
    @Test
    void aReaderNeverSeesHalfAChange() throws Exception {
        AccountRows rows = new AccountRows();
        int row = rows.add(1_000_000_000_000_001L, "a@example.com", "hash", 0, 1, 0);
        rows.moved(row, 0, 0);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<AccountView> torn = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!done.get() && torn.get() == null) {
                AccountView view = rows.view(row);
                if (view.balance() != view.lastActivityMicros()) {
                    torn.set(view);
                }
            }
        });
        reader.start();
        for (long change = 1; change <= 5_000_000; change++) {
            rows.moved(row, change, change);
        }
        done.set(true);
        reader.join(30_000);
        assertThat(reader.isAlive()).isFalse();
        assertThat(torn.get()).isNull();
    }
}
