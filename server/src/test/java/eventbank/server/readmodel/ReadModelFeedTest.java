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
     * The four models fed through a feed answer as the same models each fed the same batches
     * alone ({@link #assertFedAnswersAsAlone}).
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
        // Accounts opened late, money moved to and from them right after (in the run that opens
        // them, which the accounts model cannot look up before it applies the opening); others
        // closed unverified, forfeiting their bonus, and forgotten.
        for (int i = 40; i < 50; i++) {
            events.add(new Event.AccountOpened(ACCOUNT + i, "late" + i + "@example.com", "h", 500, null));
            if (i < 45) {
                events.add(new Event.AccountVerified(ACCOUNT + i));
                events.add(new Event.MoneyTransferred(ACCOUNT + i - 40, ACCOUNT + i, 7, null));
                events.add(new Event.MoneyTransferred(ACCOUNT + i, ACCOUNT + i - 39, 3, null));
            } else {
                events.add(new Event.AccountClosed(ACCOUNT + i, 500));
                events.add(new Event.AccountForgotten(ACCOUNT + i));
            }
        }
        events.add(new Event.MoneyTransferred(ACCOUNT + 44, ACCOUNT, 1, null));
        assertFedAnswersAsAlone(events, 50, random, 300);
    }

    /**
     * With more accounts than the models hold in the cache ({@link FeedBatch#touchesAhead}), the
     * models touch each run's accounts before applying it, and the statements publish a batch's
     * few accounts from their list, run by run: they still answer as models fed alone, batches
     * large and small, accounts opened, closed and forgotten among them.
     */
    @Test
    void modelsThatTouchTheirAccountsAheadAnswerAsModelsFedAlone() throws Exception {
        int accounts = FeedBatch.TOUCH_AHEAD_ACCOUNTS_MIN + 10;
        List<Event> events = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < accounts; i++) {
            events.add(new Event.AccountOpened(ACCOUNT + i, "user" + i + "@example.com", "h", 1_000, null));
            if (i < accounts - 100) {
                events.add(new Event.AccountVerified(ACCOUNT + i));
            }
        }
        for (int i = 0; i < 3_000; i++) {
            // Most among a few accounts, so that a batch touches one account in 16 or fewer; the
            // last 100 accounts, never verified, move nothing, and some of them close.
            int range = i % 10 == 0 ? accounts - 100 : 100;
            long from = ACCOUNT + random.nextInt(range);
            long to = ACCOUNT + (from - ACCOUNT + 1 + random.nextInt(range - 1)) % range;
            Idempotency key = i % 3 == 0 ? new Idempotency("k-" + i, "f") : null;
            events.add(i % 9 == 0 ? new Event.MoneyWithdrawn(from, 1 + random.nextInt(10), key)
                    : new Event.MoneyTransferred(from, to, 1 + random.nextInt(10), key));
            if (i % 500 == 0) {
                long late = ACCOUNT + accounts + i;
                events.add(new Event.AccountOpened(late, "late" + i + "@example.com", "h", 500, null));
                events.add(new Event.AccountVerified(late));
                events.add(new Event.MoneyTransferred(ACCOUNT + 1, late, 9, null));
                events.add(new Event.MoneyTransferred(late, ACCOUNT + 2, 4, null));
                events.add(new Event.AccountClosed(ACCOUNT + accounts - 1 - i / 500, 1_000));
                events.add(new Event.AccountForgotten(ACCOUNT + accounts - 1 - i / 500));
            }
        }
        assertFedAnswersAsAlone(events, accounts, random, 600);
    }

    /**
     * Feeds the events, in batches of random sizes up to {@code batchEventsMax}, to the four
     * models through a feed that lists the accounts model last (it still goes first, and the
     * others find their accounts by the rows it resolved) and to the same models each fed
     * alone, looking their accounts up themselves; they must answer alike.
     */
    private static void assertFedAnswersAsAlone(List<Event> events, int accounts, SplittableRandom random,
                                                int batchEventsMax) throws Exception {
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
            int end = Math.min(events.size(), seq + 1 + random.nextInt(batchEventsMax));
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
        assertThat(fed.accounts().totals()).isEqualTo(alone.accounts().totals());
        for (int i = 0; i < accounts; i++) {
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
