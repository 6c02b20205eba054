package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AccountSlotTest {

    @Test
    void aViewCopiesTheAccountAsTheWriterLeftIt() {
        AccountSlot slot = new AccountSlot(1_000_000_000_000_001L, "a@example.com", "hash", 500, 1, 10);
        assertThat(slot.view()).isEqualTo(new AccountView(1_000_000_000_000_001L, "a@example.com", "hash", false,
                500, 1, 10, AccountView.NO_ACTIVITY));
        slot.verify();
        slot.moved(400, 20);
        assertThat(slot.view()).isEqualTo(new AccountView(1_000_000_000_000_001L, "a@example.com", "hash", true,
                400, 1, 10, 20));
    }

    /**
     * The writer always leaves the balance equal to the time of the last movement; a reader on
     * another thread that ever saw them differ would have seen half a change.
     */
    @Test
    void aReaderNeverSeesHalfAChange() throws Exception {
        AccountSlot slot = new AccountSlot(1_000_000_000_000_001L, "a@example.com", "hash", 0, 1, 0);
        slot.moved(0, 0);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<AccountView> torn = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!done.get() && torn.get() == null) {
                AccountView view = slot.view();
                if (view.balance() != view.lastActivityMicros()) {
                    torn.set(view);
                }
            }
        });
        reader.start();
        for (long change = 1; change <= 5_000_000; change++) {
            slot.moved(change, change);
        }
        done.set(true);
        reader.join(30_000);
        assertThat(reader.isAlive()).isFalse();
        assertThat(torn.get()).isNull();
    }
}
