package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.postgres.PostgresExtension;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox in a cluster, on a real PostgreSQL: only the leader sends, a deposed leader's
 * outbox stops at the fence, and the next leader sends every mail its checkpoint has not passed,
 * a mail already sent again only with the same Message-ID.
 */
class ClusterOutboxTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path data;

    @Test
    void aDeposedLeadersOutboxSendsNothingMoreAndTheNextLeadersResumesFromTheCheckpoint() throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader first = cluster.lead("node-a");
            HoldingTransport firstMail = new HoldingTransport();
            MailCluster.Follower firstOutbox = cluster.follow(cluster.store("node-a"),
                    new MailCluster.TestLeadership(true, first.epoch()), firstMail, first.journal.newReader());
            MailBank.Opened alice = first.openVerified("alice@example.com");
            MailBank.Opened bob = first.openVerified("bob@example.com");
            firstOutbox.awaitHandled(first.engine.committedSeq());
            PostgresOutboxStore store = cluster.store("reader");
            assertThat(store.checkpoint()).isEqualTo(bob.seq());

            // The first leader hands the notice over, and another node takes the journal over
            // before the mail server's reply comes: the mail went out, the checkpoint did not move.
            firstMail.holdNext();
            long withdrawal = first.withdraw(alice, 10_00);
            firstMail.awaitHeld();
            MailCluster.Leader second = cluster.lead("node-b");
            firstMail.release();
            firstOutbox.awaitHandled(withdrawal);
            assertThat(firstOutbox.subscription().failure()).as("fenced, the outbox stops quietly").isNull();
            assertThat(store.checkpoint()).as("the fenced checkpoint").isEqualTo(bob.seq());
            assertThat(firstOutbox.outbox().checkpointSeq()).isEqualTo(bob.seq());

            // The new leader's outbox, started now, resumes from the checkpoint in PostgreSQL.
            HoldingTransport secondMail = new HoldingTransport();
            MailCluster.Follower secondOutbox = cluster.follow(cluster.store("node-b"),
                    new MailCluster.TestLeadership(true, second.epoch()), secondMail, second.journal.newReader());
            secondOutbox.awaitHandled(withdrawal);
            long later = second.withdraw(bob, 5_00);
            secondOutbox.awaitHandled(later);
            // The first outbox still believes it leads, but its claim at the old epoch is refused:
            // it leaves the mail to the leader and goes on once the leader's checkpoint passes it.
            firstOutbox.awaitHandled(later);

            assertThat(firstMail.delivered()).extracting(OutgoingMail::seq)
                    .containsExactly(alice.seq(), bob.seq(), withdrawal);
            assertThat(secondMail.delivered()).extracting(OutgoingMail::seq).containsExactly(withdrawal, later);
            assertThat(store.checkpoint()).isEqualTo(later);
            assertSameMailsWhenSentTwice(firstMail.delivered(), secondMail.delivered());
        }
    }

    @Test
    void aStandbysOutboxFollowsWithoutSendingAndOnceItLeadsSendsWhatTheOldLeaderHadNotCheckpointed()
            throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader first = cluster.lead("node-a");
            MailCluster.TestLeadership firstLeads = new MailCluster.TestLeadership(true, first.epoch());
            // Both verification mails go out; the notice is handed over, the reply is lost, and
            // the server is down from then on.
            ScriptedTransport firstMail = new ScriptedTransport(mail -> { }, ScriptedTransport.Step.FAIL,
                    ScriptedTransport.Step.DELIVER, ScriptedTransport.Step.DELIVER,
                    ScriptedTransport.Step.DELIVER_THEN_FAIL);
            WatchedStore firstStore = new WatchedStore(cluster.store("node-a"));
            MailCluster.Follower firstOutbox = cluster.follow(firstStore, firstLeads, firstMail,
                    first.journal.newReader());
            MailCluster.TestLeadership secondLeads = new MailCluster.TestLeadership(false, 0);
            ScriptedTransport secondMail = new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER);
            // A standby reads the journal it does not write.
            MailCluster.Follower secondOutbox = cluster.follow(cluster.store("node-b"), secondLeads, secondMail,
                    first.journal.newReader());

            MailBank.Opened alice = first.openVerified("alice@example.com");
            MailBank.Opened bob = first.openVerified("bob@example.com");
            firstOutbox.awaitHandled(first.engine.committedSeq());
            secondOutbox.awaitHandled(first.engine.committedSeq());
            assertThat(secondMail.attempts()).as("the standby's outbox follows without sending").isEmpty();

            long withdrawal = first.withdraw(alice, 10_00);
            firstMail.awaitAttempts(4);
            // The first leader's lease lapses by its own clock: it stops trying, and checkpoints
            // what it knows it sent. Were it to try again now, the mail would go out.
            firstLeads.set(false, first.epoch());
            firstOutbox.outbox().leadershipChanged();
            firstStore.awaitUntil(watched -> watched.checkpointsWritten().contains(withdrawal - 1));
            firstMail.otherwise(ScriptedTransport.Step.DELIVER);

            MailCluster.Leader second = cluster.lead("node-b");
            secondLeads.set(true, second.epoch());
            secondOutbox.outbox().leadershipChanged();
            secondOutbox.awaitHandled(withdrawal);
            firstOutbox.awaitHandled(withdrawal);

            assertThat(firstMail.delivered()).extracting(OutgoingMail::seq)
                    .containsExactly(alice.seq(), bob.seq(), withdrawal);
            assertThat(secondMail.delivered()).extracting(OutgoingMail::seq).containsExactly(withdrawal);
            assertThat(firstStore.checkpoint()).isEqualTo(withdrawal);
            assertSameMailsWhenSentTwice(firstMail.delivered(), secondMail.delivered());
        }
    }

    /**
     * The store's database cannot be reached for a while (PostgreSQL failing over): the outbox
     * stays up, says so in the engine's health, tries again, and sends the mail once it can.
     */
    @Test
    void anOutboxWhoseStoreCannotBeReachedTriesAgainAndSendsTheMailOnceItCan() throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader leader = cluster.lead("node-a");
            ScriptedTransport mail = new ScriptedTransport(sent -> { }, ScriptedTransport.Step.DELIVER);
            WatchedStore store = new WatchedStore(cluster.store("node-a"));
            store.unreachable(true);
            MailCluster.Follower outbox = cluster.follow(store, new MailCluster.TestLeadership(true, leader.epoch()),
                    mail, leader.journal.newReader());
            MailBank.Opened alice = leader.openVerified("alice@example.com");
            store.awaitUntil(watched -> watched.refusals() >= 2);
            assertThat(outbox.subscription().subscriberProblem()).contains("cannot be reached");
            assertThat(outbox.subscription().failure()).isNull();
            assertThat(mail.attempts()).as("nothing sent before the store is claimed").isEmpty();

            store.unreachable(false);
            outbox.awaitHandled(leader.engine.committedSeq());
            assertThat(mail.delivered()).extracting(OutgoingMail::seq).containsExactly(alice.seq());
            assertThat(store.checkpoint()).isEqualTo(alice.seq());
            assertThat(outbox.subscription().subscriberProblem()).isNull();
        }
    }

    @Test
    void anOutboxWhoseNodeDoesNotLeadSendsNothingAndMovesNoCheckpointUntilItLeads() throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader leader = cluster.lead("node-a");
            // The node holds the journal, but its lease ran out by its own clock.
            MailCluster.TestLeadership leads = new MailCluster.TestLeadership(false, leader.epoch());
            ScriptedTransport mail = new ScriptedTransport(sent -> { }, ScriptedTransport.Step.DELIVER);
            WatchedStore store = new WatchedStore(cluster.store("node-a"));
            MailCluster.Follower outbox = cluster.follow(store, leads, mail, leader.journal.newReader());
            MailBank.Opened alice = leader.openVerified("alice@example.com");
            long withdrawal = leader.withdraw(alice, 1_00);

            // Once at the start, then twice more while it waits at the opening's mail.
            store.awaitUntil(watched -> watched.checkpointReads() >= 3);
            assertThat(mail.attempts()).isEmpty();
            assertThat(store.claims()).isZero();
            assertThat(store.checkpointsWritten()).isEmpty();
            assertThat(store.checkpoint()).isZero();

            leads.set(true, leader.epoch());
            outbox.outbox().leadershipChanged();
            outbox.awaitHandled(withdrawal);
            assertThat(mail.delivered()).extracting(OutgoingMail::seq).containsExactly(alice.seq(), withdrawal);
            assertThat(store.checkpoint()).isEqualTo(withdrawal);
        }
    }

    @Test
    void deadLettersAreKeptInPostgresAndOnlyTheLeaderRetriesThem() throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader leader = cluster.lead("node-a");
            ScriptedTransport mail = new ScriptedTransport(sent -> { }, ScriptedTransport.Step.DELIVER,
                    ScriptedTransport.Step.REFUSE);
            MailCluster.Follower outbox = cluster.follow(cluster.store("node-a"),
                    new MailCluster.TestLeadership(true, leader.epoch()), mail, leader.journal.newReader());
            MailBank.Opened alice = leader.openVerified("alice@example.com");
            outbox.awaitHandled(leader.engine.committedSeq());
            assertThat(outbox.outbox().mailsSetAside()).isEqualTo(1);

            Outbox standby = new Outbox(cluster.store("node-b"), new MailCluster.TestLeadership(false, 0), null,
                    MailCluster.CODES, mail, MailBank.SETTINGS, cluster.clock, MailCluster.STANDBY_POLL);
            assertThat(standby.deadLetters(0, 10)).as("listed on any node").singleElement()
                    .satisfies(letter -> {
                        assertThat(letter.seq()).isEqualTo(alice.seq());
                        assertThat(letter.reason()).isEqualTo("simulated refusal");
                    });
            assertThatThrownBy(() -> standby.retryDeadLetter(alice.seq()))
                    .isInstanceOf(OutboxNotLeadingException.class).hasMessageContaining("on the leader");
            assertThat(mail.attempts()).hasSize(1);

            Optional<DeadLetter> retried = outbox.outbox().retryDeadLetter(alice.seq());
            assertThat(retried).isPresent();
            assertThat(mail.delivered()).singleElement().satisfies(sent -> {
                assertThat(sent.seq()).isEqualTo(alice.seq());
                assertThat(sent.messageId()).isEqualTo(mail.attempts().get(0).messageId());
            });
            assertThat(standby.deadLetters(0, 10)).isEmpty();
        }
    }

    /** A mail that more than one node sent (or one node more than once) carries one Message-ID. */
    @SafeVarargs
    private static void assertSameMailsWhenSentTwice(List<OutgoingMail>... sentByNode) {
        Map<Long, Set<String>> messageIds = new HashMap<>();
        for (List<OutgoingMail> sent : sentByNode) {
            for (OutgoingMail mail : sent) {
                messageIds.computeIfAbsent(mail.seq(), seq -> new HashSet<>()).add(mail.messageId());
            }
        }
        assertThat(messageIds.values()).allSatisfy(ids -> assertThat(ids).hasSize(1));
    }

    /**
     * Records the mails it delivers; told to, stays in the next send after delivering it until
     * released, as when the mail server is slow to reply.
     */
    private static final class HoldingTransport implements MailTransport {
        private final List<OutgoingMail> delivered = new ArrayList<>();
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private volatile boolean holdNext;

        void holdNext() {
            holdNext = true;
        }

        void awaitHeld() throws InterruptedException {
            assertThat(held.await(20, TimeUnit.SECONDS)).as("a mail is held").isTrue();
        }

        void release() {
            released.countDown();
        }

        synchronized List<OutgoingMail> delivered() {
            return List.copyOf(delivered);
        }

        @Override
        public void send(OutgoingMail mail) throws IOException {
            synchronized (this) {
                delivered.add(mail);
            }
            if (!holdNext) {
                return;
            }
            holdNext = false;
            held.countDown();
            try {
                if (!released.await(20, TimeUnit.SECONDS)) {
                    throw new IOException("the held mail was never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while holding a mail", e);
            }
        }
    }

    /** A store that tells what the outbox asked of it, for a test to wait on. */
    private static final class WatchedStore implements OutboxStore {
        private final OutboxStore store;
        private int checkpointReads;
        private int claims;
        private final List<Long> checkpointsWritten = new ArrayList<>();
        private volatile boolean unreachable;
        private int refusals;

        WatchedStore(OutboxStore store) {
            this.store = store;
        }

        /** While set, a claim or a checkpoint's write fails as when the database cannot be reached. */
        void unreachable(boolean now) {
            unreachable = now;
        }

        synchronized int refusals() {
            return refusals;
        }

        private void reachable() throws IOException {
            if (unreachable) {
                happened(() -> refusals++);
                throw new IOException("the database cannot be reached (the test's)");
            }
        }

        synchronized int checkpointReads() {
            return checkpointReads;
        }

        synchronized int claims() {
            return claims;
        }

        /** The checkpoints written and taken, in order. */
        synchronized List<Long> checkpointsWritten() {
            return List.copyOf(checkpointsWritten);
        }

        synchronized void awaitUntil(Predicate<WatchedStore> done) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!done.test(this)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                assertThat(left).as("the outbox did what the test waits for in time").isPositive();
                wait(left);
            }
        }

        private synchronized void happened(Runnable change) {
            change.run();
            notifyAll();
        }

        @Override
        public long checkpoint() throws IOException {
            long seq = store.checkpoint();
            happened(() -> checkpointReads++);
            return seq;
        }

        @Override
        public OptionalLong claim(long epoch) throws IOException {
            reachable();
            OptionalLong claimed = store.claim(epoch);
            happened(() -> claims++);
            return claimed;
        }

        @Override
        public boolean writeCheckpoint(long seq, long epoch) throws IOException {
            reachable();
            boolean written = store.writeCheckpoint(seq, epoch);
            if (written) {
                happened(() -> checkpointsWritten.add(seq));
            }
            return written;
        }

        @Override
        public boolean setAside(DeadLetter letter, long epoch) throws IOException {
            return store.setAside(letter, epoch);
        }

        @Override
        public List<DeadLetter> deadLetters(long afterSeq, int limit) throws IOException {
            return store.deadLetters(afterSeq, limit);
        }

        @Override
        public Optional<DeadLetter> deadLetter(long seq) throws IOException {
            return store.deadLetter(seq);
        }

        @Override
        public boolean remove(DeadLetter letter, long epoch) throws IOException {
            return store.remove(letter, epoch);
        }

        @Override
        public String placeOf(long seq, OutgoingMail.Kind kind) {
            return store.placeOf(seq, kind);
        }
    }
}
