package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.postgres.PostgresExtension;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The outbox's tables in a real PostgreSQL: what is written reads back, and a deposed epoch writes nothing. */
class PostgresOutboxStoreTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path data;

    @Test
    void theCheckpointAndTheDeadLettersRoundTrip() throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader leader = cluster.lead("node-a");
            MailBank.Opened alice = leader.openVerified("alice@example.com");
            long withdrawal = leader.withdraw(alice, 12_34);
            PostgresOutboxStore store = cluster.store("node-a");
            long epoch = leader.epoch();

            assertThat(store.checkpoint()).as("a new journal's outbox sent nothing").isZero();
            assertThat(store.claim(epoch)).isEqualTo(OptionalLong.of(0));
            assertThat(store.writeCheckpoint(alice.seq(), epoch)).isTrue();
            assertThat(store.checkpoint()).isEqualTo(alice.seq());
            assertThat(cluster.store("node-b").checkpoint()).as("read by another node").isEqualTo(alice.seq());
            assertThat(store.claim(epoch)).as("claimed again at the same epoch").isEqualTo(OptionalLong.of(alice.seq()));

            DeadLetter verification = letter(alice.seq(), OutgoingMail.Kind.VERIFICATION, 0, 0,
                    "550 5.1.1 <alice@example.com>: no such user", Instant.parse("2026-11-26T10:00:01.123456789Z"));
            DeadLetter notice = letter(withdrawal, OutgoingMail.Kind.WITHDRAWAL, 12_34, 1_000_00 - 12_34,
                    "552 mailbox full", Instant.parse("2026-11-26T10:00:02.5Z"));
            assertThat(store.setAside(notice, epoch)).isTrue();
            assertThat(store.setAside(verification, epoch)).isTrue();
            DeadLetter verificationRead = withSetAsideAt(verification,
                    verification.setAsideAt().truncatedTo(ChronoUnit.MICROS));
            assertThat(store.deadLetters(0, 10)).as("in seq order, times to the microsecond")
                    .containsExactly(verificationRead, notice);
            assertThat(store.deadLetters(alice.seq(), 10)).containsExactly(notice);
            assertThat(store.deadLetters(0, 1)).containsExactly(verificationRead);
            assertThat(store.deadLetter(withdrawal)).contains(notice);
            assertThat(store.deadLetter(withdrawal + 1)).isEmpty();

            DeadLetter refusedAgain = withSetAsideAt(notice, notice.setAsideAt().plusSeconds(3600));
            assertThat(store.setAside(refusedAgain, epoch)).isTrue();
            assertThat(store.deadLetters(0, 10)).as("set aside again, replaced")
                    .containsExactly(verificationRead, refusedAgain);
            assertThat(store.remove(refusedAgain, epoch)).isTrue();
            assertThat(store.deadLetters(0, 10)).containsExactly(verificationRead);
            assertThat(store.deadLetter(withdrawal)).isEmpty();

            assertThat(store.writeCheckpoint(withdrawal + 1, epoch)).isTrue();
            assertThatThrownBy(store::checkpoint).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("eventbank_outbox is at seq " + (withdrawal + 1))
                    .hasMessageContaining("past the journal's head " + withdrawal);
        }
    }

    @Test
    void aTakeoverFencesTheOldEpochsWritesAndTheNewOneClaimsTheCheckpoint() throws Exception {
        try (MailCluster cluster = new MailCluster(postgres.url(), data)) {
            MailCluster.Leader first = cluster.lead("node-a");
            MailBank.Opened alice = first.openVerified("alice@example.com");
            long withdrawal = first.withdraw(alice, 1_00);
            PostgresOutboxStore oldStore = cluster.store("node-a");
            long oldEpoch = first.epoch();
            assertThat(oldStore.claim(oldEpoch)).isPresent();
            assertThat(oldStore.writeCheckpoint(alice.seq(), oldEpoch)).isTrue();
            DeadLetter kept = letter(alice.seq(), OutgoingMail.Kind.VERIFICATION, 0, 0, "550 no such user",
                    MailBank.START);
            assertThat(oldStore.setAside(kept, oldEpoch)).isTrue();

            // Another node takes the journal over: the head's epoch goes up by one.
            MailCluster.Leader second = cluster.lead("node-b");
            long newEpoch = second.epoch();
            assertThat(newEpoch).isEqualTo(oldEpoch + 1);
            DeadLetter late = letter(withdrawal, OutgoingMail.Kind.WITHDRAWAL, 1_00, 999_00, "552 full",
                    MailBank.START);
            assertThat(oldStore.writeCheckpoint(withdrawal, oldEpoch)).as("the old epoch's checkpoint").isFalse();
            assertThat(oldStore.setAside(late, oldEpoch)).as("the old epoch's dead letter").isFalse();
            assertThat(oldStore.remove(kept, oldEpoch)).as("the old epoch's deletion").isFalse();
            assertThat(oldStore.claim(oldEpoch)).as("the old epoch's claim").isEmpty();
            assertThat(oldStore.checkpoint()).as("read all the same").isEqualTo(alice.seq());
            assertThat(oldStore.deadLetters(0, 10)).containsExactly(kept);

            PostgresOutboxStore newStore = cluster.store("node-b");
            assertThat(newStore.writeCheckpoint(withdrawal, newEpoch)).as("a checkpoint before the claim").isFalse();
            assertThat(newStore.claim(newEpoch)).isEqualTo(OptionalLong.of(alice.seq()));
            assertThat(newStore.writeCheckpoint(withdrawal, newEpoch)).isTrue();
            assertThat(newStore.setAside(late, newEpoch)).isTrue();
            assertThat(newStore.remove(kept, newEpoch)).isTrue();
            assertThat(oldStore.checkpoint()).isEqualTo(withdrawal);
            assertThat(oldStore.deadLetters(0, 10)).containsExactly(late);
            assertThat(oldStore.claim(oldEpoch)).as("an earlier epoch never claims it back").isEmpty();
        }
    }

    private static DeadLetter letter(long seq, OutgoingMail.Kind kind, long amount, long balanceAfter, String reason,
                                     Instant setAsideAt) {
        long account = 1_000_000_000_000_001L;
        String messageId = MailTemplates.messageId(seq, kind, account, "bank.example");
        return new DeadLetter(seq, kind, messageId, "alice@example.com", "Subject of seq " + seq,
                MailBank.START.plusSeconds(seq), account, amount, balanceAfter, reason, setAsideAt);
    }

    private static DeadLetter withSetAsideAt(DeadLetter letter, Instant setAsideAt) {
        return new DeadLetter(letter.seq(), letter.kind(), letter.messageId(), letter.to(), letter.subject(),
                letter.time(), letter.accountNumber(), letter.amount(), letter.balanceAfter(), letter.reason(),
                setAsideAt);
    }
}
