package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.EpochMicros;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.write.Outcome;
import eventbank.postgres.PostgresExtension;
import eventbank.server.readmodel.ModelCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox's state checkpoint in a cluster, on a real PostgreSQL: a node that does not lead
 * writes it only where the leader's mail checkpoint has reached, starts from it, and once it
 * leads sends exactly the mails the leader had not sent; a checkpoint that is not the shared
 * journal's is set aside, the journal in PostgreSQL being the truth.
 */
class ClusterOutboxStateCheckpointTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    /** The standby's state checkpoint at the first batch this many events after its last. */
    private static final long EVERY_EVENTS = 2;

    @TempDir
    Path data;

    @Test
    void aStandbyCheckpointsItsStateOnlyBehindTheLeadersMailsAndOnceItLeadsSendsExactlyTheUnsentOnes()
            throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader first = cluster.lead("node-a");
            MailCluster.TestLeadership firstLeads = new MailCluster.TestLeadership(true, first.epoch());
            ScriptedTransport firstMail = new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER);
            // The leader keeps no state checkpoint: its mail checkpoint moves at batches with mail only.
            MailCluster.Follower leader = cluster.follow(cluster.store("node-a"), firstLeads, firstMail,
                    first.journal.newReader());
            MailCluster.TestLeadership secondLeads = new MailCluster.TestLeadership(false, 0);
            ScriptedTransport standbyMail = new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER);
            MailCluster.Follower standby = cluster.follow("node-b", cluster.store("node-b"), secondLeads, standbyMail,
                    first.journal::newReader, EVERY_EVENTS);
            PostgresOutboxStore store = cluster.store("reader");

            MailBank.Opened alice = first.openVerified("alice@example.com"); // seqs 1 and 2
            MailBank.Opened bob = first.openVerified("bob@example.com"); // seqs 3 and 4
            leader.awaitHandled(4);
            standby.awaitHandled(4);
            assertThat(store.checkpoint()).isEqualTo(bob.seq());
            long transfers = 0;
            for (int index = 0; index < 5; index++) {
                transfers = first.committed(new Command.TransferMoney(alice.number(), bob.number(), 1_00, null)).seq();
            }
            standby.awaitHandled(transfers);
            assertThat(standby.outbox().stateCheckpointSeq()).as("due, but past the leader's mail checkpoint")
                    .isLessThanOrEqualTo(bob.seq());

            long withdrawal = first.withdraw(alice, 10_00);
            standby.awaitHandled(withdrawal);
            assertThat(standby.outbox().stateCheckpointSeq()).as("once the leader's mail checkpoint reached it")
                    .isEqualTo(withdrawal);
            first.committed(new Command.TransferMoney(bob.number(), alice.number(), 2_00, null));
            first.committed(new Command.TransferMoney(bob.number(), alice.number(), 3_00, null));
            long head = first.engine.committedSeq();
            standby.awaitHandled(head);
            standby.subscription().close();
            assertThat(standby.outbox().stateCheckpointSeq()).as("not even at a stop past the leader's")
                    .isEqualTo(withdrawal);
            assertThat(store.checkpoint()).isEqualTo(withdrawal);

            // The standby starts again, from its state checkpoint.
            ScriptedTransport secondMail = new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER);
            MailCluster.Follower restarted = cluster.follow("node-b", cluster.store("node-b"), secondLeads,
                    secondMail, first.journal::newReader, EVERY_EVENTS);
            restarted.awaitHandled(head);
            assertThat(restarted.outbox().restoredSeq()).isEqualTo(withdrawal);
            assertThat(restarted.outbox().eventsRead()).isEqualTo(head - withdrawal);

            // The leader's mail server goes down: a notice and a link are committed, not sent.
            firstMail.otherwise(ScriptedTransport.Step.FAIL);
            int attempts = firstMail.attempts().size();
            Outcome.Committed notice = first.committed(new Command.Withdraw(alice.number(), 7_00, null));
            MailBank.Opened carol = first.openVerified("carol@example.com");
            firstMail.awaitAttempts(attempts + 2);
            firstLeads.set(false, first.epoch());
            leader.outbox().leadershipChanged();

            MailCluster.Leader second = cluster.lead("node-b");
            secondLeads.set(true, second.epoch());
            restarted.outbox().leadershipChanged();
            restarted.awaitHandled(first.engine.committedSeq());

            assertThat(firstMail.delivered()).extracting(OutgoingMail::seq)
                    .containsExactly(alice.seq(), bob.seq(), withdrawal);
            assertThat(secondMail.delivered()).extracting(OutgoingMail::seq)
                    .as("exactly the mails the leader had not sent").containsExactly(notice.seq(), carol.seq());
            // The email and balance came from the state checkpoint and the events after it.
            Recorded withdrawn = notice.events().get(0);
            assertThat(secondMail.delivered().get(0)).isEqualTo(MailTemplates.withdrawal(MailBank.SETTINGS,
                    notice.seq(), EpochMicros.toInstant(withdrawn.timeMicros()), alice.number(), "alice@example.com",
                    7_00, notice.balance()));
            assertThat(notice.balance()).isEqualTo(1_000_00 - 5_00 - 10_00 + 5_00 - 7_00);
            // Leading now, its state checkpoints move the mail checkpoint first.
            long end = first.engine.committedSeq();
            assertThat(restarted.outbox().stateCheckpointSeq()).isEqualTo(end);
            assertThat(store.checkpoint()).isEqualTo(end);
        }
    }

    /**
     * A node's state checkpoint made on another journal (another database): past the shared
     * journal's end, or at a seq within it where the chain hash is not the journal's. Either way
     * it is set aside and the state rebuilt from the journal.
     */
    @Test
    void aStateCheckpointAheadOfTheSharedJournalOrOnAnotherChainIsSetAsideAndTheStateRebuilt() throws Exception {
        Path made = data.resolve("made");
        Path state;
        try (MailCluster cluster = new MailCluster(postgres.url(), made)) {
            MailCluster.Leader leader = cluster.lead("node-a");
            cluster.follow(cluster.store("node-a"), new MailCluster.TestLeadership(true, leader.epoch()),
                    new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER), leader.journal.newReader());
            MailCluster.Follower standby = cluster.follow("node-b", cluster.store("node-b"),
                    new MailCluster.TestLeadership(false, 0),
                    new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER), leader.journal::newReader,
                    EVERY_EVENTS);
            MailBank.Opened alice = leader.openVerified("alice@example.com");
            long withdrawal = leader.withdraw(alice, 1_00);
            standby.awaitHandled(withdrawal);
            // At seq 2 when the leader had sent the notice before the standby passed seq 2, else at 3.
            assertThat(standby.outbox().stateCheckpointSeq()).isBetween(2L, withdrawal);
            state = Outbox.directoryOf(cluster.dataDirectoryOf("node-b")).resolve(Outbox.STATE_FILE_NAME);
        }

        String database = PostgresExtension.newDatabase();
        try (MailCluster cluster = new MailCluster(PostgresExtension.urlOf(database), data.resolve("other"))) {
            MailCluster.Leader leader = cluster.lead("node-a");
            cluster.follow(cluster.store("node-a"), new MailCluster.TestLeadership(true, leader.epoch()),
                    new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER), leader.journal.newReader());
            // Seq 1 only: the checkpoint's seq is past the end.
            leader.committed(new Command.OpenAccount(0, "zoe@example.com", "$2a$04$hash",
                    Limits.OPENING_BALANCE_DEFAULT, null));

            assertThat(standbyFrom(cluster, leader, state, "node-b").restoreProblem())
                    .contains("not within the journal");

            leader.openVerified("yann@example.com"); // seqs 2 and 3: the checkpoint's seq ends a batch of another chain
            assertThat(standbyFrom(cluster, leader, state, "node-c").restoreProblem())
                    .contains("is not the journal's");
        }
    }

    /**
     * A standby's outbox on {@code node}, its data directory holding {@code state}: started, it
     * must have set the checkpoint aside and read the whole journal.
     */
    private static Outbox standbyFrom(MailCluster cluster, MailCluster.Leader leader, Path state, String node)
            throws Exception {
        Path directory = Outbox.directoryOf(cluster.dataDirectoryOf(node));
        Files.createDirectories(directory);
        Files.copy(state, directory.resolve(Outbox.STATE_FILE_NAME));
        MailCluster.Follower follower = cluster.follow(node, cluster.store(node),
                new MailCluster.TestLeadership(false, 0), new ScriptedTransport(mail -> { },
                        ScriptedTransport.Step.DELIVER), leader.journal::newReader, EVERY_EVENTS);
        long head = leader.engine.committedSeq();
        follower.awaitHandled(head);
        assertThat(follower.outbox().restoredSeq()).isZero();
        assertThat(follower.outbox().eventsRead()).isEqualTo(head);
        assertThat(directory.resolve(Outbox.STATE_FILE_NAME + ModelCheckpoint.SET_ASIDE_SUFFIX)).exists();
        return follower.outbox();
    }
}
