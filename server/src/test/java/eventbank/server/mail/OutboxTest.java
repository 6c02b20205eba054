package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Command;
import eventbank.engine.write.Outcome;
import jakarta.mail.Message;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outbox subscribed to a real engine on real files: what it sends, once, and after crashes. */
class OutboxTest {
    @TempDir
    Path data;

    @Test
    void openingAnAccountWritesOneVerificationMailWhoseLinkCarriesTheCode() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        try (MailBank.Running running = bank.start(bank.fileTransport(console.stream))) {
            MailBank.Opened alice = running.open("alice@example.com");
            running.awaitOutbox();
            assertThat(running.outbox.checkpointSeq()).isEqualTo(alice.seq());
            assertThat(running.outbox.mailsSent()).isEqualTo(1);
            String name = String.format("%020d-verification.eml", alice.seq());
            assertThat(MailFiles.names(bank.outboxDirectory)).containsExactly(name);

            MimeMessage message = MailFiles.read(bank.outboxDirectory.resolve(name));
            assertThat(message.getRecipients(Message.RecipientType.TO))
                    .extracting(address -> ((InternetAddress) address).getAddress())
                    .containsExactly("alice@example.com");
            assertThat(((InternetAddress) message.getFrom()[0]).getAddress()).isEqualTo("noreply@bank.example");
            assertThat(message.getSubject()).isEqualTo("Confirm your eventbank account");
            assertThat(message.getMessageID())
                    .isEqualTo("<eventbank." + alice.seq() + ".verification." + alice.number() + "@bank.example>");
            assertThat(message.getSentDate().toInstant()).isEqualTo(MailBank.START.truncatedTo(ChronoUnit.SECONDS));
            String code = running.engine.verificationCodes().codeFor(alice.number(), alice.seq());
            String link = "http://localhost:8080/api/verify?account_number=" + alice.number() + "&code=" + code;
            MailFiles.Parts parts = MailFiles.parts(message);
            assertThat(parts.text()).contains(link).contains("Account number: " + alice.number())
                    .contains("alice@example.com");
            assertThat(parts.html()).contains("href=\"" + link.replace("&", "&amp;") + "\"")
                    .contains("Account number: " + alice.number());
            assertThat(console.text()).isEqualTo("eventbank: verification link for alice@example.com: " + link
                    + System.lineSeparator());

            // The link works: the code read back from the mail verifies the account.
            Matcher found = Pattern.compile("account_number=(\\d+)&code=([A-Za-z0-9_-]+)").matcher(parts.text());
            assertThat(found.find()).isTrue();
            running.committed(new Command.VerifyAccount(Long.parseLong(found.group(1)), found.group(2)));
            running.awaitOutbox();
        }
        assertThat(MailFiles.names(bank.outboxDirectory)).as("verifying sends no mail").hasSize(1);
    }

    @Test
    void aWithdrawalWritesANoticeWithTheAmountAndTheBalanceAfterIt() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        MailBank.Opened alice;
        MailBank.Opened bob;
        Outcome.Committed withdrawal;
        try (MailBank.Running running = bank.start(bank.fileTransport(console.stream))) {
            alice = running.open("alice@example.com");
            bob = running.open("bob@example.com");
            running.verify(alice);
            running.verify(bob);
            running.transfer(alice, bob, 100_00);
            withdrawal = running.withdraw(bob, 12_34);
            assertThat(withdrawal.balance()).isEqualTo(1_087_66);
            running.awaitOutbox();
        }
        String name = String.format("%020d-withdrawal.eml", withdrawal.seq());
        assertThat(MailFiles.names(bank.outboxDirectory)).containsExactly(
                String.format("%020d-verification.eml", alice.seq()),
                String.format("%020d-verification.eml", bob.seq()), name);
        MimeMessage message = MailFiles.read(bank.outboxDirectory.resolve(name));
        assertThat(((InternetAddress) message.getRecipients(Message.RecipientType.TO)[0]).getAddress())
                .isEqualTo("bob@example.com");
        assertThat(message.getSubject()).isEqualTo("Withdrawal of $12.34 from your eventbank account");
        assertThat(message.getMessageID())
                .isEqualTo("<eventbank." + withdrawal.seq() + ".withdrawal." + bob.number() + "@bank.example>");
        MailFiles.Parts parts = MailFiles.parts(message);
        assertThat(parts.text()).contains("$12.34 was withdrawn from your eventbank account " + bob.number())
                .contains("Balance after the withdrawal: $1,087.66").doesNotContain("/api/verify");
        assertThat(parts.html()).contains("<strong>$12.34</strong>").contains("<strong>$1,087.66</strong>");
        // Only the verification mails print their link.
        assertThat(console.text().lines()).hasSize(2);
    }

    /**
     * A clean stop leaves the outbox's state checkpoint at the head: the next start reads no event
     * again, sends nothing again, and knows each account's email and balance for the next notice.
     */
    @Test
    void aCleanRestartReadsOnlyTheEventsAfterTheStateCheckpointAndKnowsTheBalances() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        MailBank.Opened alice;
        MailBank.Opened bob;
        long head;
        try (MailBank.Running running = bank.start(bank.fileTransport(console.stream))) {
            alice = running.open("alice@example.com");
            bob = running.open("bob@example.com");
            running.verify(alice);
            running.verify(bob);
            running.transfer(alice, bob, 250_00);
            running.withdraw(alice, 1_00);
            running.transfer(bob, alice, 3_00); // no mail: the mail checkpoint stays at the withdrawal
            running.awaitOutbox();
            head = running.engine.committedSeq();
            assertThat(running.outbox.checkpointSeq()).isEqualTo(head - 1);
            assertThat(running.outbox.stateCheckpointSeq()).as("written at the stop only").isZero();
        }
        Map<String, byte[]> before = contents(bank.outboxDirectory);
        assertThat(before).hasSize(3);

        ScriptedTransport counting = new ScriptedTransport(bank.fileTransport(console.stream),
                ScriptedTransport.Step.DELIVER);
        try (MailBank.Running running = bank.start(counting)) {
            running.awaitOutbox();
            assertThat(running.outbox.restoredSeq()).isEqualTo(head);
            assertThat(running.outbox.checkpointSeq()).as("moved to the state checkpoint first").isEqualTo(head);
            assertThat(running.outbox.eventsRead()).as("no event read again").isZero();
            assertThat(counting.attempts()).as("the start sends nothing").isEmpty();
            assertThat(contents(bank.outboxDirectory)).containsExactlyInAnyOrderEntriesOf(before);

            // The balances came with the state: $1,000 - $250 - $1 + $3 - $7.
            Outcome.Committed withdrawal = running.withdraw(alice, 7_00);
            running.awaitOutbox();
            assertThat(running.outbox.eventsRead()).isEqualTo(1);
            assertThat(counting.attempts()).hasSize(1);
            MimeMessage notice = MailFiles.read(bank.outboxDirectory.resolve(
                    String.format("%020d-withdrawal.eml", withdrawal.seq())));
            assertThat(((InternetAddress) notice.getRecipients(Message.RecipientType.TO)[0]).getAddress())
                    .isEqualTo("alice@example.com");
            assertThat(MailFiles.parts(notice).text()).contains("$7.00 was withdrawn")
                    .contains("Balance after the withdrawal: $745.00");
        }
        assertThat(console.text().lines()).as("each verification link printed once").hasSize(2);
    }

    @Test
    void aMailNotSentBeforeTheOutboxStoppedIsSentAfterTheRestart() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        ScriptedTransport down = new ScriptedTransport(bank.fileTransport(console.stream), ScriptedTransport.Step.FAIL);
        MailBank.Opened alice;
        MailBank.Opened bob;
        try (MailBank.Running running = bank.start(down, MailBank.SETTINGS.withBackoff(1, 2))) {
            alice = running.open("alice@example.com");
            down.awaitAttempts(2);
            // The outbox retries on its own thread; the sequencer goes on committing.
            bob = running.open("bob@example.com");
            assertThat(running.engine.committedSeq()).isEqualTo(bob.seq());
            running.outbox.close();
            assertThat(running.awaitStopped()).isInstanceOf(eventbank.engine.subscription.SubscriberClosedException.class)
                    .hasMessageContaining("closed before the verification mail of seq " + alice.seq());
            assertThat(running.outbox.checkpointSeq()).isZero();
        }
        assertThat(down.delivered()).isEmpty();
        assertThat(MailFiles.names(bank.outboxDirectory)).isEmpty();

        try (MailBank.Running running = bank.start(bank.fileTransport(console.stream))) {
            running.awaitOutbox();
            assertThat(running.outbox.checkpointSeq()).isEqualTo(bob.seq());
            String code = running.engine.verificationCodes().codeFor(alice.number(), alice.seq());
            MailFiles.Parts parts = MailFiles.parts(MailFiles.read(bank.outboxDirectory.resolve(
                    String.format("%020d-verification.eml", alice.seq()))));
            assertThat(parts.text()).contains("account_number=" + alice.number() + "&code=" + code);
        }
        assertThat(MailFiles.names(bank.outboxDirectory)).hasSize(2);
    }

    @Test
    void aMailSentButNotCheckpointedIsSentAgainWithTheSameMessageId() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        // Handed on, then the connection drops before the transport can say so: the outbox
        // cannot know the mail went out. The server stays down, and the outbox is stopped while
        // it waits to try again.
        ScriptedTransport dropping = new ScriptedTransport(bank.fileTransport(console.stream),
                ScriptedTransport.Step.FAIL, ScriptedTransport.Step.DELIVER_THEN_FAIL);
        MailBank.Opened alice;
        String name;
        String firstMessageId;
        try (MailBank.Running running = bank.start(dropping, MailBank.SETTINGS.withBackoff(1, 2))) {
            alice = running.open("alice@example.com");
            dropping.awaitAttempts(2);
            running.outbox.close();
            assertThat(running.awaitStopped()).hasMessageContaining("closed before the verification mail of seq "
                    + alice.seq());
            assertThat(running.outbox.checkpointSeq()).isZero();
            name = String.format("%020d-verification.eml", alice.seq());
            firstMessageId = MailFiles.messageId(bank.outboxDirectory.resolve(name));
        }
        assertThat(dropping.delivered()).hasSize(1);
        Files.delete(bank.outboxDirectory.resolve(name)); // to see it come back

        ScriptedTransport counting = new ScriptedTransport(bank.fileTransport(console.stream),
                ScriptedTransport.Step.DELIVER);
        try (MailBank.Running running = bank.start(counting)) {
            running.awaitOutbox();
            assertThat(counting.delivered()).hasSize(1);
        }
        assertThat(MailFiles.names(bank.outboxDirectory)).containsExactly(name);
        assertThat(MailFiles.messageId(bank.outboxDirectory.resolve(name))).isEqualTo(firstMessageId);
        assertThat(counting.delivered().get(0).messageId()).isEqualTo(dropping.delivered().get(0).messageId());
    }

    @Test
    void aTransportFailingTwiceThenSucceedingDeliversExactlyOnce() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        ScriptedTransport flaky = new ScriptedTransport(bank.fileTransport(console.stream),
                ScriptedTransport.Step.DELIVER, ScriptedTransport.Step.FAIL, ScriptedTransport.Step.FAIL);
        try (MailBank.Running running = bank.start(flaky, MailBank.SETTINGS.withBackoff(20, 40))) {
            MailBank.Opened alice = running.open("alice@example.com");
            running.awaitOutbox();
            assertThat(running.subscription.failure()).isNull();
            assertThat(running.outbox.checkpointSeq()).isEqualTo(alice.seq());
            assertThat(running.outbox.sendFailures()).isEqualTo(2);
            assertThat(running.outbox.mailsSent()).isEqualTo(1);
        }
        assertThat(flaky.attempts()).hasSize(3);
        assertThat(flaky.delivered()).hasSize(1);
        assertThat(MailFiles.names(bank.outboxDirectory)).hasSize(1);
        assertThat(console.text().lines()).hasSize(1);
        // The pauses double: at least 20 ms, then at least 40 ms.
        List<Long> nanos = flaky.attemptNanos();
        assertThat(nanos.get(1) - nanos.get(0)).isGreaterThanOrEqualTo(20_000_000L);
        assertThat(nanos.get(2) - nanos.get(1)).isGreaterThanOrEqualTo(40_000_000L);
    }

    @Test
    void anOutageOfAnyLengthIsRetriedUntilItEndsAndEveryMailGoesOutOnce() throws Exception {
        MailBank bank = new MailBank(data);
        MailBank.Console console = new MailBank.Console();
        ScriptedTransport transport = new ScriptedTransport(bank.fileTransport(console.stream),
                ScriptedTransport.Step.DELIVER);
        // Far more failures in a row than the ten attempts the outbox used to allow before it stopped.
        int failures = 60;
        try (MailBank.Running running = bank.start(transport, MailBank.SETTINGS.withBackoff(1, 4))) {
            MailBank.Opened alice = running.open("alice@example.com");
            running.verify(alice);
            running.awaitOutbox();
            transport.otherwise(ScriptedTransport.Step.FAIL);
            MailBank.Opened bob = running.open("bob@example.com");
            transport.awaitAttempts(1 + failures);
            // The engine takes writes all along: the outbox only falls behind.
            long withdrawal = running.withdraw(alice, 1_00).seq();
            running.verify(bob);
            running.transfer(alice, bob, 2_00);
            assertThat(running.engine.health().writable()).isTrue();
            assertThat(running.subscription.failure()).as("the outbox does not give up").isNull();
            assertThat(running.outbox.checkpointSeq()).isLessThan(bob.seq());
            transport.otherwise(ScriptedTransport.Step.DELIVER);
            // Handled up to the head; the checkpoint stops at the last event that had a mail.
            running.awaitOutbox();
            assertThat(running.outbox.checkpointSeq()).isEqualTo(withdrawal);
            assertThat(running.outbox.sendFailures()).isGreaterThanOrEqualTo(failures);
        }
        assertThat(transport.delivered()).extracting(OutgoingMail::kind).containsExactly(
                OutgoingMail.Kind.VERIFICATION, OutgoingMail.Kind.VERIFICATION, OutgoingMail.Kind.WITHDRAWAL);
        assertThat(transport.delivered()).extracting(OutgoingMail::messageId).doesNotHaveDuplicates();
        assertThat(MailFiles.names(bank.outboxDirectory)).hasSize(3);
    }

    @Test
    void forgettingAHolderDeletesTheDeadLettersAndMailFilesToHerAndNoOneElses() throws Exception {
        MailBank bank = new MailBank(data);
        ScriptedTransport refusingFirst = new ScriptedTransport(bank.fileTransport(new MailBank.Console().stream),
                ScriptedTransport.Step.DELIVER, ScriptedTransport.Step.REFUSE);
        try (MailBank.Running running = bank.start(refusingFirst, MailBank.SETTINGS.withBackoff(1, 1))) {
            MailBank.Opened alice = running.open("alice@example.com");
            MailBank.Opened bob = running.open("bob@example.com");
            running.awaitOutbox();
            Path deadLetters = bank.outboxDirectory.resolve("dead-letters");
            assertThat(deadLetters.resolve(String.format("%020d-verification.txt", alice.seq())))
                    .as("her verification was refused").exists();
            running.committed(new Command.CloseAccount(alice.number()));
            running.committed(new Command.ForgetAccount(alice.number()));
            running.awaitOutbox();
            try (var left = Files.list(deadLetters)) {
                assertThat(left).isEmpty();
            }
            assertThat(running.outbox.deadLetters(0, 10)).isEmpty();
            assertThat(MailFiles.names(bank.outboxDirectory)).as("bob's mail stays")
                    .containsExactly(String.format("%020d-verification.eml", bob.seq()));
        }
    }

    @Test
    void aMailRefusedForGoodIsSetAsideOnceAndTheMailsAfterItGoOut() throws Exception {
        MailBank bank = new MailBank(data);
        ScriptedTransport refusingFirst = new ScriptedTransport(bank.fileTransport(new MailBank.Console().stream),
                ScriptedTransport.Step.DELIVER, ScriptedTransport.Step.REFUSE);
        MailBank.Opened alice;
        MailBank.Opened bob;
        try (MailBank.Running running = bank.start(refusingFirst, MailBank.SETTINGS.withBackoff(1, 1))) {
            alice = running.open("alice@example.com");
            bob = running.open("bob@example.com");
            running.awaitOutbox();
            assertThat(running.outbox.checkpointSeq()).isEqualTo(bob.seq());
            assertThat(running.outbox.mailsSetAside()).isEqualTo(1);
            assertThat(running.outbox.mailsSent()).isEqualTo(1);
            assertThat(running.subscription.failure()).isNull();
        }
        assertThat(refusingFirst.attempts()).as("the refused mail is not retried")
                .extracting(OutgoingMail::seq).containsExactly(alice.seq(), bob.seq());
        assertThat(MailFiles.names(bank.outboxDirectory))
                .containsExactly(String.format("%020d-verification.eml", bob.seq()));
        Path deadLetter = bank.outboxDirectory.resolve("dead-letters")
                .resolve(String.format("%020d-verification.txt", alice.seq()));
        assertThat(Files.readString(deadLetter)).startsWith("seq: " + alice.seq() + "\n"
                + "kind: verification\n"
                + "message_id: <eventbank." + alice.seq() + ".verification." + alice.number() + "@bank.example>\n"
                + "to: alice@example.com\n"
                + "subject: Confirm your eventbank account\n"
                + "time: " + MailBank.START + "\n"
                + "account_number: " + alice.number() + "\n"
                + "amount: 0\n"
                + "balance_after: 0\n"
                + "refused: simulated refusal\n"
                + "set_aside_at: ")
                .matches("(?s).*set_aside_at: \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z\n");

        ScriptedTransport afterRestart = new ScriptedTransport(bank.fileTransport(new MailBank.Console().stream),
                ScriptedTransport.Step.DELIVER);
        try (MailBank.Running running = bank.start(afterRestart)) {
            running.awaitOutbox();
        }
        assertThat(afterRestart.attempts()).as("a mail set aside is not tried again after a restart").isEmpty();
    }

    @Test
    void aWithdrawalNoticeSetAsideIsMadeAgainWhole() throws Exception {
        MailBank bank = new MailBank(data);
        // Alice's verification goes out; her withdrawal notice is refused, then, retried by an
        // operator, refused once more, then retried again when the server takes it.
        ScriptedTransport transport = new ScriptedTransport(bank.fileTransport(new MailBank.Console().stream),
                ScriptedTransport.Step.DELIVER, ScriptedTransport.Step.DELIVER, ScriptedTransport.Step.REFUSE,
                ScriptedTransport.Step.REFUSE, ScriptedTransport.Step.FAIL);
        try (MailBank.Running running = bank.start(transport)) {
            MailBank.Opened alice = running.open("alice@example.com");
            running.verify(alice);
            long withdrawal = running.withdraw(alice, 123_45).seq();
            running.awaitOutbox();
            assertThat(running.outbox.mailsSetAside()).isEqualTo(1);
            OutgoingMail first = transport.attempts().get(1);
            assertThat(first.seq()).isEqualTo(withdrawal);

            List<DeadLetter> listed = running.outbox.deadLetters(0, 10);
            assertThat(listed).singleElement().satisfies(letter -> {
                assertThat(letter.seq()).isEqualTo(withdrawal);
                assertThat(letter.kind()).isEqualTo(OutgoingMail.Kind.WITHDRAWAL);
                assertThat(letter.amount()).isEqualTo(123_45);
                assertThat(letter.balanceAfter()).isEqualTo(1_000_00 - 123_45);
                assertThat(letter.reason()).isEqualTo("simulated refusal");
                assertThat(letter.setAsideAt()).as("set aside by the server's clock")
                        .isBetween(MailBank.START, bank.clock.instant());
            });
            assertThat(running.outbox.deadLetters(withdrawal, 10)).isEmpty();

            bank.clock.advance(Duration.ofHours(1));
            assertThatThrownBy(() -> running.outbox.retryDeadLetter(withdrawal))
                    .isInstanceOf(PermanentMailException.class);
            assertThat(running.outbox.deadLetters(0, 10)).singleElement()
                    .as("refused again, set aside again now").extracting(DeadLetter::setAsideAt)
                    .isEqualTo(bank.clock.instant());
            assertThatThrownBy(() -> running.outbox.retryDeadLetter(withdrawal)).isInstanceOf(IOException.class)
                    .isNotInstanceOf(PermanentMailException.class);
            assertThat(running.outbox.deadLetters(0, 10)).hasSize(1);
            assertThat(running.outbox.retryDeadLetter(withdrawal)).isPresent();
            assertThat(running.outbox.deadLetters(0, 10)).isEmpty();
            assertThat(running.outbox.retryDeadLetter(withdrawal)).isEmpty();
            assertThat(running.outbox.retryDeadLetter(1)).as("a mail that went out is no dead letter").isEmpty();

            // Each try is the mail first made: the same Message-ID, subject and bodies.
            List<OutgoingMail> tries = transport.attempts().subList(1, 5);
            assertThat(tries).allSatisfy(mail -> {
                assertThat(mail.messageId()).isEqualTo(first.messageId());
                assertThat(mail.subject()).isEqualTo(first.subject()).contains("$123.45");
                assertThat(mail.textBody()).isEqualTo(first.textBody()).contains("$876.55");
                assertThat(mail.htmlBody()).isEqualTo(first.htmlBody());
                assertThat(mail.time()).isEqualTo(first.time());
            });
            assertThat(transport.delivered()).extracting(OutgoingMail::seq).containsExactly(alice.seq(), withdrawal);
        }
        assertThat(MailFiles.names(bank.outboxDirectory)).hasSize(2);
    }

    @Test
    void aRefusedMailThatCannotBeSetAsideStopsTheOutboxBeforeIt() throws Exception {
        MailBank bank = new MailBank(data);
        // A file where the dead-letter directory should be: setting the mail aside fails.
        Files.createDirectories(bank.outboxDirectory);
        Files.writeString(bank.outboxDirectory.resolve("dead-letters"), "in the way");
        ScriptedTransport refusing = new ScriptedTransport(bank.fileTransport(new MailBank.Console().stream),
                ScriptedTransport.Step.REFUSE);
        try (MailBank.Running running = bank.start(refusing, MailBank.SETTINGS.withBackoff(1, 1))) {
            running.open("alice@example.com");
            assertThat(running.awaitStopped()).isInstanceOf(OutboxStoppedException.class)
                    .hasMessageContaining("refused for good").hasMessageContaining("could not be set aside");
            assertThat(running.outbox.checkpointSeq()).isZero();
        }
        assertThat(refusing.attempts()).hasSize(1);
    }

    @Test
    void userGivenTextIsHtmlEscaped() throws Exception {
        MailBank bank = new MailBank(data);
        String email = "<i>eve</i>&\"x'@example.com";
        MailBank.Opened eve;
        try (MailBank.Running running = bank.start(bank.fileTransport(new MailBank.Console().stream))) {
            eve = running.open(email);
            running.awaitOutbox();
        }
        MimeMessage message = MailFiles.read(bank.outboxDirectory.resolve(
                String.format("%020d-verification.eml", eve.seq())));
        // The local part is quoted, so the header names exactly this address and nothing else.
        assertThat(((InternetAddress) message.getRecipients(Message.RecipientType.TO)[0]).getAddress())
                .isEqualTo("\"<i>eve</i>&\\\"x'\"@example.com");
        MailFiles.Parts parts = MailFiles.parts(message);
        assertThat(parts.text()).contains(email);
        assertThat(parts.html()).contains("&lt;i&gt;eve&lt;/i&gt;&amp;&quot;x&#39;@example.com")
                .doesNotContain("<i>").doesNotContain(email);
    }

    @Test
    void aCheckpointPastTheJournalsHeadStopsTheOutboxInsteadOfSkippingMails() throws Exception {
        MailBank bank = new MailBank(data);
        new OutboxCheckpoint(new eventbank.engine.storage.FileStorage(), bank.outboxDirectory).write(5);
        try (MailBank.Running running = bank.start(bank.fileTransport(new MailBank.Console().stream))) {
            assertThat(running.awaitStopped()).hasMessageContaining("at seq 5, past the journal's head 0");
            running.open("alice@example.com");
        }
        assertThat(MailFiles.names(bank.outboxDirectory)).isEmpty();
    }

    private static Map<String, byte[]> contents(Path directory) throws Exception {
        Map<String, byte[]> contents = new TreeMap<>();
        for (String name : new ArrayList<>(MailFiles.names(directory))) {
            contents.put(name, Files.readAllBytes(directory.resolve(name)));
        }
        return contents;
    }
}
