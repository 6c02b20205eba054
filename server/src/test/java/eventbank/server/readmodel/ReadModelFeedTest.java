package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Event;
import eventbank.core.Recorded;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadModelFeedTest {
    private static final long ACCOUNT = 1_000_000_000_000_000L;

    /** A model that applies every event, and one that fails at every event. */
    private static final class TestModel extends ReadModel {
        private final String name;
        private final boolean broken;

        TestModel(String name, boolean broken) {
            this.name = name;
            this.broken = broken;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void onEvent(Recorded recorded) {
            if (broken) {
                throw new IllegalStateException("broken on purpose at seq " + recorded.seq());
            }
            applied.advance(recorded.seq());
        }

        @Override
        void clear() {}
    }

    @Test
    void aModelThatFailsStopsTheFeedWithAFailureThatNamesIt() {
        TestModel working = new TestModel("working", false);
        ReadModelFeed feed = new ReadModelFeed(List.of(working, new TestModel("broken", true)));
        assertThat(feed.start()).isZero();
        feed.onEvent(new Recorded(1, 0, new Event.AccountVerified(ACCOUNT)));

        assertThatThrownBy(() -> feed.onBatchEnd(1, new byte[32]))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("read model broken failed")
                .hasMessageContaining("broken on purpose at seq 1")
                .cause().hasMessage("broken on purpose at seq 1");
        assertThat(working.appliedSeq()).isEqualTo(1);
    }
}
