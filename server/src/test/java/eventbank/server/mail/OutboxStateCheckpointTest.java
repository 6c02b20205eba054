package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetupTest;
import eventbank.core.EpochMicros;
import eventbank.core.Recorded;
import eventbank.engine.Engine;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.recovery.RecoveryRefusedException;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.Sequencer;
import eventbank.server.config.DataDirectoryEvidence;
import eventbank.server.readmodel.ModelCheckpoint;
import jakarta.mail.internet.MimeMessage;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox's state checkpoint ({@code data/outbox/state.checkpoint}) on real files: a start
 * reads only the journal after it, never skips a mail for it, and does without it, loudly, when
 * it cannot be used.
 */
class OutboxStateCheckpointTest {
    /** A state checkpoint at the first batch this many events after the last. */
    private static final long EVERY_EVENTS = 3;

    @TempDir
    Path data;

    private GreenMail greenMail;

    @AfterEach
    void stopGreenMail() {
        if (greenMail != null) {
            greenMail.stop();
        }
    }

    private Path stateFile(MailBank bank) {
        return bank.outboxDirectory.resolve(Outbox.STATE_FILE_NAME);
    }

    /**
     * Three starts on one data directory, the mails going to a real SMTP server: the first stops
     * as a crash would (the outbox closed while the server is down, so no checkpoint at the stop)
     * with its state checkpoint behind its mail checkpoint; the second starts from the state
     * checkpoint and stops cleanly, leaving both at the head; the third starts from there. Each
     * mail arrives once, and each notice tells the balance the engine answered.
     */
    @Test
    void noMailIsLostOrSentTwiceAcrossRestartsWithTheStateCheckpointBehindOrAtTheMailCheckpoint()
            throws Exception {
        greenMail = new GreenMail(ServerSetupTest.SMTP.dynamicPort()).withConfiguration(GreenMailConfiguration.aConfig());
        greenMail.start();
        MailBank bank = new MailBank(data);
        List<String> expected = new ArrayList<>();
        Map<String, String> balances = new TreeMap<>();
        MailBank.Opened alice;
        MailBank.Opened bob;
        MailBank.Opened carol;
        try (SmtpMailTransport smtp = new SmtpMailTransport(new SmtpSettings("127.0.0.1",
                greenMail.getSmtp().getPort(), SmtpSecurity.NONE, null, null), "noreply@bank.example")) {
            ScriptedTransport first = new ScriptedTransport(smtp, ScriptedTransport.Step.DELIVER);
            try (MailBank.Running running = bank.start(first, MailBank.SETTINGS.withBackoff(1, 2), EVERY_EVENTS)) {
                alice = running.open("alice@example.com"); // seq 1
                bob = running.open("bob@example.com");
                running.verify(alice); // seq 3: a state checkpoint, the mail checkpoint moved there first
                running.verify(bob);
                running.transfer(alice, bob, 100_00);
                notice(running.withdraw(alice, 1_00), alice, expected, balances); // seq 6: a state checkpoint
                notice(running.withdraw(bob, 2_00), bob, expected, balances); // seq 7: the mail checkpoint only
                running.awaitOutbox();
                assertThat(running.outbox.stateCheckpointSeq()).isEqualTo(6);
                assertThat(running.outbox.checkpointSeq()).isEqualTo(7);

                first.otherwise(ScriptedTransport.Step.FAIL);
                int attempts = first.attempts().size();
                carol = running.open("carol@example.com"); // seq 8, its mail not sent
                first.awaitAttempts(attempts + 2);
                running.outbox.close();
                assertThat(running.awaitStopped()).hasMessageContaining("closed before the verification mail of seq 8");
            }
            expected.addAll(0, List.of(messageIdOf(1, alice, "verification"), messageIdOf(2, bob, "verification"),
                    messageIdOf(8, carol, "verification")));

            ScriptedTransport second = new ScriptedTransport(smtp, ScriptedTransport.Step.DELIVER);
            try (MailBank.Running running = bank.start(second, MailBank.SETTINGS, EVERY_EVENTS)) {
                running.awaitOutbox();
                assertThat(running.outbox.restoredSeq()).as("from the state checkpoint, behind the mails'")
                        .isEqualTo(6);
                assertThat(running.outbox.eventsRead()).as("seqs 7 and 8 only").isEqualTo(2);
                assertThat(second.delivered()).extracting(OutgoingMail::seq).as("carol's link, not bob's notice again")
                        .containsExactly(carol.seq());
                running.verify(carol);
                notice(running.withdraw(carol, 3_00), carol, expected, balances);
                notice(running.withdraw(alice, 4_00), alice, expected, balances);
                running.awaitOutbox();
            }

            ScriptedTransport third = new ScriptedTransport(smtp, ScriptedTransport.Step.DELIVER);
            try (MailBank.Running running = bank.start(third, MailBank.SETTINGS, EVERY_EVENTS)) {
                long head = running.engine.committedSeq();
                running.awaitOutbox();
                assertThat(running.outbox.restoredSeq()).as("the clean stop's, at the head").isEqualTo(head);
                assertThat(running.outbox.checkpointSeq()).isEqualTo(head);
                assertThat(running.outbox.eventsRead()).isZero();
                notice(running.withdraw(bob, 5_00), bob, expected, balances);
                running.awaitOutbox();
                assertThat(running.outbox.eventsRead()).isEqualTo(1);
                assertThat(third.attempts()).hasSize(1);
            }
        }
        assertThat(greenMail.waitForIncomingEmail(5_000, expected.size())).isTrue();
        MimeMessage[] received = greenMail.getReceivedMessages();
        assertThat(received).extracting(MimeMessage::getMessageID).containsExactlyInAnyOrderElementsOf(expected);
        for (MimeMessage message : received) {
            String balance = balances.get(message.getMessageID());
            if (balance != null) {
                assertThat(MailFiles.parts(message).text()).contains("Balance after the withdrawal: " + balance);
            }
        }
    }

    /** The Message-ID and balance the withdrawal's notice must carry. */
    private static void notice(Outcome.Committed withdrawal, MailBank.Opened account, List<String> messageIds,
                               Map<String, String> balances) {
        String messageId = messageIdOf(withdrawal.seq(), account, "withdrawal");
        messageIds.add(messageId);
        balances.put(messageId, MailTemplates.dollars(withdrawal.balance()));
    }

    private static String messageIdOf(long seq, MailBank.Opened account, String kind) {
        return "<eventbank." + seq + "." + kind + "." + account.number() + "@bank.example>";
    }

    /** The notice the outbox must make for this withdrawal: the engine's time and balance, the holder's email. */
    private static OutgoingMail expectedNotice(Outcome.Committed withdrawal, MailBank.Opened account, String email,
                                               long amount) {
        Recorded recorded = withdrawal.events().get(0);
        return MailTemplates.withdrawal(MailBank.SETTINGS, withdrawal.seq(), EpochMicros.toInstant(recorded.timeMicros()),
                account.number(), email, amount, withdrawal.balance());
    }

    @Test
    void aDamagedStateCheckpointIsSetAsideAndTheStateRebuiltFromTheWholeJournal() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Opened alice;
        MailBank.Opened bob;
        try (MailBank.Running running = bank.start(recording())) {
            alice = running.open("alice@example.com");
            bob = running.open("bob@example.com");
            running.verify(alice);
            running.verify(bob);
            running.transfer(bob, alice, 300_00);
            running.withdraw(alice, 50_00);
            running.awaitOutbox();
        }
        // The state's last byte (before the CRC32C of the state) flipped: the CRC fails.
        try (RandomAccessFile file = new RandomAccessFile(stateFile(bank).toFile(), "rw")) {
            long offset = file.length() - 5;
            file.seek(offset);
            int value = file.read();
            file.seek(offset);
            file.write(value ^ 0x10);
        }

        ScriptedTransport transport = recording();
        try (MailBank.Running running = bank.start(transport)) {
            long head = running.engine.committedSeq();
            running.awaitOutbox();
            assertThat(running.outbox.restoredSeq()).isZero();
            assertThat(running.outbox.eventsRead()).as("the whole journal").isEqualTo(head);
            assertThat(transport.attempts()).as("nothing sent again").isEmpty();
            assertThat(bank.outboxDirectory.resolve(Outbox.STATE_FILE_NAME + ModelCheckpoint.SET_ASIDE_SUFFIX))
                    .as("set aside for whoever looks into it").exists();
            assertThat(stateFile(bank)).doesNotExist();

            Outcome.Committed withdrawal = running.withdraw(alice, 7_00);
            running.awaitOutbox();
            assertThat(withdrawal.balance()).isEqualTo(1_000_00 + 300_00 - 50_00 - 7_00);
            assertThat(transport.delivered()).containsExactly(expectedNotice(withdrawal, alice, "alice@example.com",
                    7_00));
        }
        try (MailBank.Running running = bank.start(recording())) {
            running.awaitOutbox();
            assertThat(running.outbox.restoredSeq()).as("the rebuilt state, checkpointed at the stop")
                    .isEqualTo(running.engine.committedSeq());
        }
    }

    /**
     * A subscription restarted (in a cluster: the journal's history changed) has the outbox
     * forget its state; it starts again from its state checkpoint, checked against the journal
     * anew, counts no balance twice and sends nothing again.
     */
    @Test
    void aRestartedOutboxForgetsItsStateAndStartsAgainFromItsStateCheckpoint() throws Exception {
        MailBank bank = new MailBank(data);
        ScriptedTransport transport = recording();
        try (MailBank.Running running = bank.start(transport, MailBank.SETTINGS, EVERY_EVENTS)) {
            MailBank.Opened alice = running.open("alice@example.com");
            MailBank.Opened bob = running.open("bob@example.com");
            running.verify(alice);
            running.verify(bob);
            long first = running.withdraw(alice, 1_00).seq();
            running.transfer(bob, alice, 20_00);
            running.awaitOutbox();
            long head = running.engine.committedSeq();

            running.subscription.restart();
            running.awaitOutbox();
            assertThat(running.outbox.restoredSeq()).as("the checkpoint its stop wrote").isEqualTo(head);
            assertThat(running.outbox.eventsRead()).isZero();
            Outcome.Committed withdrawal = running.withdraw(alice, 2_00);
            running.awaitOutbox();
            assertThat(transport.attempts()).extracting(OutgoingMail::seq)
                    .containsExactly(alice.seq(), bob.seq(), first, withdrawal.seq());
            assertThat(transport.delivered().get(3)).isEqualTo(expectedNotice(withdrawal, alice, "alice@example.com",
                    2_00));
        }
    }

    /**
     * The mail checkpoint behind the state checkpoint (here put back by hand, as a restore of
     * {@code outbox/checkpoint} alone from an older backup would): starting from the state would
     * skip the mails in between, so the outbox rebuilds from the whole journal and makes them all
     * again, the same mails as the first time.
     */
    @Test
    void aStateCheckpointPastTheMailCheckpointIsNotUsedAndTheMailsAfterItAreMadeAgainAlike() throws Exception {
        MailBank bank = new MailBank(data);
        ScriptedTransport first = recording();
        MailBank.Opened alice;
        long head;
        try (MailBank.Running running = bank.start(first)) {
            alice = running.open("alice@example.com");
            MailBank.Opened bob = running.open("bob@example.com");
            running.verify(alice);
            running.verify(bob);
            running.withdraw(alice, 1_00);
            running.transfer(alice, bob, 20_00);
            running.withdraw(bob, 3_00);
            running.withdraw(alice, 4_00);
            running.awaitOutbox();
            head = running.engine.committedSeq();
        }
        new OutboxCheckpoint(new FileStorage(), bank.outboxDirectory).write(alice.seq());

        ScriptedTransport second = recording();
        try (MailBank.Running running = bank.start(second)) {
            running.awaitOutbox();
            assertThat(running.outbox.restoredSeq()).isZero();
            assertThat(running.outbox.eventsRead()).isEqualTo(head);
        }
        assertThat(second.delivered()).as("every mail after the mail checkpoint, made as the first time")
                .isEqualTo(first.delivered().subList(1, first.delivered().size()));
        assertThat(bank.outboxDirectory.resolve(Outbox.STATE_FILE_NAME + ModelCheckpoint.SET_ASIDE_SUFFIX))
                .as("a sound checkpoint is only passed over").doesNotExist();
    }

    /** The journal was replaced by another bank's (a restore from the wrong backup): its chain hash tells. */
    @Test
    void aStateCheckpointOfAnotherJournalIsSetAsideAndTheStateRebuilt() throws Exception {
        MailBank other = new MailBank(data.resolve("other"));
        try (MailBank.Running running = other.start(recording())) {
            MailBank.Opened zoe = running.open("zoe@example.com");
            running.verify(zoe);
            running.withdraw(zoe, 9_00);
            running.awaitOutbox();
        }
        MailBank bank = new MailBank(data.resolve("bank"));
        MailBank.Opened alice;
        try (MailBank.Running running = bank.start(recording())) {
            alice = running.open("alice@example.com");
            running.verify(alice);
            running.withdraw(alice, 1_00);
            running.withdraw(alice, 2_00);
            running.awaitOutbox();
        }
        Files.copy(stateFile(other), stateFile(bank), StandardCopyOption.REPLACE_EXISTING);

        ScriptedTransport transport = recording();
        try (MailBank.Running running = bank.start(transport)) {
            running.awaitOutbox();
            assertThat(running.outbox.restoredSeq()).isZero();
            assertThat(running.outbox.eventsRead()).isEqualTo(running.engine.committedSeq());
            assertThat(bank.outboxDirectory.resolve(Outbox.STATE_FILE_NAME + ModelCheckpoint.SET_ASIDE_SUFFIX))
                    .exists();
            Outcome.Committed withdrawal = running.withdraw(alice, 4_00);
            running.awaitOutbox();
            assertThat(transport.delivered()).containsExactly(expectedNotice(withdrawal, alice, "alice@example.com",
                    4_00));
        }
    }

    /**
     * The state checkpoint names a committed seq and the chain hash there: evidence that the
     * journal once reached it, so a start on a journal that ends before it refuses (in file mode).
     */
    @Test
    void theStateCheckpointIsEvidenceOfTheSeqItNames() throws Exception {
        MailBank longer = new MailBank(data.resolve("longer"));
        Sequencer.Head head;
        try (MailBank.Running running = longer.start(recording())) {
            MailBank.Opened alice = running.open("alice@example.com");
            MailBank.Opened bob = running.open("bob@example.com");
            running.verify(alice);
            running.verify(bob);
            running.withdraw(alice, 1_00);
            running.transfer(alice, bob, 1_00);
            running.awaitOutbox();
            head = running.engine.committedHead();
        }
        FileStorage storage = new FileStorage();
        List<DurableEvidence.Claim> claims = new ArrayList<>();
        for (DurableEvidence.Source source : Outbox.evidence(storage, longer.data)) {
            source.newest().ifPresent(claims::add);
        }
        assertThat(claims).filteredOn(claim -> claim.file().equals(stateFile(longer))).singleElement()
                .satisfies(claim -> {
                    assertThat(claim.seq()).isEqualTo(head.seq());
                    assertThat(claim.chainHash()).isEqualTo(head.hash());
                    assertThat(claim.what()).isEqualTo("the outbox state checkpoint");
                });

        MailBank shorter = new MailBank(data.resolve("shorter"));
        try (MailBank.Running running = shorter.start(recording(), MailBank.SETTINGS, 0)) {
            running.open("carol@example.com");
            running.awaitOutbox();
        }
        assertThat(stateFile(shorter)).as("an outbox that keeps none writes none").doesNotExist();
        Files.createDirectories(shorter.outboxDirectory);
        Files.copy(stateFile(longer), stateFile(shorter));
        assertThatThrownBy(() -> Engine.start(shorter.engineConfig()
                .evidence(DataDirectoryEvidence.sources(storage, shorter.data)).build()).close())
                .isInstanceOf(RecoveryRefusedException.class)
                .hasMessageContaining("the outbox state checkpoint " + stateFile(shorter) + " (seq " + head.seq() + ")");
    }

    /** Records the mails, and hands them to nobody. */
    private static ScriptedTransport recording() {
        return new ScriptedTransport(mail -> { }, ScriptedTransport.Step.DELIVER);
    }
}
