package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.engine.subscription.Subscriber;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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

    /**
     * The four models fed through a feed that lists the accounts model last (it still goes
     * first, and the others find their accounts by the rows it resolved) answer as the same
     * models each fed the same batches alone, looking their accounts up themselves.
     */
    @Test
    void modelsFedTheAccountsModelsRowsAnswerAsModelsFedAlone() throws Exception {
        List<Event> events = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 40; i++) {
            events.add(new Event.AccountOpened(ACCOUNT + i, "user" + i + "@example.com", "h", 100_000,
                    i % 2 == 0 ? new Idempotency("open-" + i, "") : null));
            events.add(new Event.AccountVerified(ACCOUNT + i));
        }
        for (int i = 0; i < 2_000; i++) {
            long from = ACCOUNT + random.nextInt(40);
            long to = ACCOUNT + (from - ACCOUNT + 1 + random.nextInt(39)) % 40;
            Idempotency key = i % 3 == 0 ? new Idempotency("k-" + i, "f") : null;
            events.add(i % 9 == 0 ? new Event.MoneyWithdrawn(from, 1 + random.nextInt(10), key)
                    : new Event.MoneyTransferred(from, to, 1 + random.nextInt(10), key));
        }
        ReadModels fed = new ReadModels(new AccountsReadModel(), new StatementsReadModel(), new OperationsReadModel(),
                new ReportsReadModel());
        ReadModelFeed feed = new ReadModelFeed(List.of(fed.statements(), fed.operations(), fed.reports(),
                fed.accounts()));
        ReadModels alone = new ReadModels(new AccountsReadModel(), new StatementsReadModel(),
                new OperationsReadModel(), new ReportsReadModel());
        List<Subscriber> subscribers = new ArrayList<>(alone.all());
        subscribers.add(feed);
        for (Subscriber subscriber : subscribers) {
            assertThat(subscriber.start()).isZero();
        }
        int seq = 0;
        while (seq < events.size()) {
            int end = Math.min(events.size(), seq + 1 + random.nextInt(300));
            for (; seq < end; seq++) {
                Recorded recorded = new Recorded(seq + 1, 1_000_000L * (seq + 1), events.get(seq));
                for (Subscriber subscriber : subscribers) {
                    subscriber.onEvent(recorded);
                }
            }
            for (Subscriber subscriber : subscribers) {
                subscriber.onBatchEnd(end, new byte[32]);
            }
        }
        assertThat(fed.accounts().snapshot()).isEqualTo(alone.accounts().snapshot());
        for (int i = 0; i < 40; i++) {
            assertThat(fed.statements().history(ACCOUNT + i)).isEqualTo(alone.statements().history(ACCOUNT + i));
        }
        assertThat(fed.operations().operations()).hasSize(alone.operations().size())
                .isEqualTo(alone.operations().operations());
        assertThat(fed.reports().sumAllTime()).isEqualTo(alone.reports().sumAllTime());
        for (long since : new long[] {0, 500_000_000L, 2_000_000_000L, Long.MAX_VALUE}) {
            assertThat(fed.reports().inactiveCount(since)).isEqualTo(alone.reports().inactiveCount(since));
        }
    }

    @Test
    void aModelThatFailsStopsTheFeedWithAFailureThatNamesIt() throws Exception {
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
