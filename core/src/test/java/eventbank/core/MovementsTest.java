package eventbank.core;

import static eventbank.core.Scenario.key;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transferred;
import static eventbank.core.Scenario.verified;
import static eventbank.core.Scenario.withdrawn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one function that says who gains and who loses from an event: one row per kind of event,
 * the events that cannot be facts, and a sink that follows the movements literally against the
 * auditor's reference model.
 */
class MovementsTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;

    /** One call the sink heard. */
    private sealed interface Heard {}

    private record Opened(long seq, long timeMicros, Event.AccountOpened event) implements Heard {}

    private record Verified(long seq, long timeMicros, Event.AccountVerified event) implements Heard {}

    private record Closed(long seq, long timeMicros, Event.AccountClosed event) implements Heard {}

    private record Forgotten(long seq, long timeMicros, Event.AccountForgotten event) implements Heard {}

    private record Moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount, long creditAccount,
                         long amount) implements Heard {}

    private static final long SEQ = 42;
    private static final long TIME = Scenario.START_MICROS;

    private static final class Recording implements Movements.Sink {
        final List<Heard> heard = new ArrayList<>();

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened opened) {
            heard.add(new Opened(seq, timeMicros, opened));
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified verified) {
            heard.add(new Verified(seq, timeMicros, verified));
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount, long creditAccount,
                          long amount) {
            heard.add(new Moved(seq, timeMicros, kind, debitAccount, creditAccount, amount));
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed closed) {
            heard.add(new Closed(seq, timeMicros, closed));
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten forgotten) {
            heard.add(new Forgotten(seq, timeMicros, forgotten));
        }
    }

    /** What a sink hears of the event, recorded at {@link #SEQ} and {@link #TIME}. */
    private static List<Heard> heard(Event event) {
        Recording sink = new Recording();
        Movements.of(SEQ, TIME, event, sink);
        return sink.heard;
    }

    // ---- One row per event ----

    @Test
    void anOpeningBringsTheAccountWithItsBonusAndMovesNothing() {
        Event.AccountOpened opening = opened(ALICE, "alice@example.com", key("open-alice", "fp-1"));
        assertThat(opening.openingBalance()).isEqualTo(Limits.OPENING_BALANCE_DEFAULT);
        assertThat(heard(opening)).containsExactly(new Opened(SEQ, TIME, opening));
    }

    @Test
    void anOpeningWithoutBonusIsAFactToo() {
        Event.AccountOpened opening = new Event.AccountOpened(ALICE, "alice@example.com", Scenario.PASSWORD_HASH,
                0, null);
        assertThat(heard(opening)).containsExactly(new Opened(SEQ, TIME, opening));
    }

    @Test
    void aVerificationMovesNothing() {
        assertThat(heard(verified(ALICE))).containsExactly(new Verified(SEQ, TIME, verified(ALICE)));
    }

    @Test
    void aTransferDebitsTheSenderAndCreditsTheRecipient() {
        assertThat(heard(transferred(ALICE, BOB, 250_00, key("k1", "fp-2"))))
                .containsExactly(new Moved(SEQ, TIME, Movements.Kind.TRANSFER, ALICE, BOB, 250_00));
    }

    @Test
    void aWithdrawalDebitsTheAccountAndCreditsTheOutside() {
        assertThat(heard(withdrawn(BOB, 75_00)))
                .containsExactly(new Moved(SEQ, TIME, Movements.Kind.WITHDRAWAL, BOB, Movements.OUTSIDE, 75_00));
        assertThat(Limits.isAccountNumber(Movements.OUTSIDE)).as("no account is the outside").isFalse();
    }

    @Test
    void aClosingWithAForfeitMovesTheBonusOutsideBeforeItCloses() {
        Event.AccountClosed closing = new Event.AccountClosed(ALICE, Limits.OPENING_BALANCE_DEFAULT);
        assertThat(heard(closing)).containsExactly(
                new Moved(SEQ, TIME, Movements.Kind.FORFEIT, ALICE, Movements.OUTSIDE, Limits.OPENING_BALANCE_DEFAULT),
                new Closed(SEQ, TIME, closing));
    }

    @Test
    void aClosingAtZeroMovesNothing() {
        Event.AccountClosed closing = new Event.AccountClosed(ALICE, 0);
        assertThat(heard(closing)).containsExactly(new Closed(SEQ, TIME, closing));
    }

    @Test
    void aForgettingMovesNothing() {
        Event.AccountForgotten forgetting = new Event.AccountForgotten(ALICE);
        assertThat(heard(forgetting)).containsExactly(new Forgotten(SEQ, TIME, forgetting));
    }

    /** The rows above, one per event type: a new event fails here until it has a row of its own. */
    @Test
    void everyEventHasARow() {
        List<Class<?>> withRows = List.of(Event.AccountOpened.class, Event.AccountVerified.class,
                Event.MoneyTransferred.class, Event.MoneyWithdrawn.class, Event.AccountClosed.class,
                Event.AccountForgotten.class);
        assertThat(Arrays.asList(Event.class.getPermittedSubclasses())).containsExactlyInAnyOrderElementsOf(withRows);
        assertThat(Movements.Kind.values()).containsExactly(Movements.Kind.TRANSFER, Movements.Kind.WITHDRAWAL,
                Movements.Kind.FORFEIT);
    }

    // ---- What cannot be a fact ----

    static Stream<Event> impossible() {
        return Stream.of(
                new Event.AccountOpened(ALICE, "alice@example.com", Scenario.PASSWORD_HASH, -1, null),
                transferred(ALICE, BOB, 0),
                transferred(ALICE, BOB, -1),
                transferred(ALICE, BOB, Long.MIN_VALUE),
                transferred(ALICE, ALICE, 1),
                withdrawn(ALICE, 0),
                withdrawn(ALICE, -1),
                new Event.AccountClosed(ALICE, -1));
    }

    @ParameterizedTest
    @MethodSource("impossible")
    void anEventThatCannotBeAFactIsRefusedBeforeTheSinkHearsOfIt(Event event) {
        Recording sink = new Recording();
        assertThatIllegalStateException().isThrownBy(() -> Movements.of(SEQ, TIME, event, sink))
                .withMessageContaining("the log or the code is broken");
        assertThat(sink.heard).isEmpty();
    }

    // ---- Against the reference model ----

    /**
     * The plainest sink: a map of balances that takes each movement literally. Over random
     * histories that the reference model decided, it must hold every balance the model holds,
     * and the money that left the bank must be the model's withdrawals.
     */
    @Test
    void aSinkThatFollowsTheMovementsKeepsTheReferenceModelsBalances() {
        for (long seed = 1; seed <= 100; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            ReferenceBank model = new ReferenceBank(Scenario.SERVER_KEY, Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
            CommandGenerator commands = new CommandGenerator(random, model);
            Balances balances = new Balances();
            long now = Scenario.START_MICROS;
            long seq = 0;
            for (int step = 0; step < 200; step++) {
                now += random.nextInt(1_000);
                Command command = commands.next();
                commands.sent(command);
                if (model.decide(command, now) instanceof Decision.Accepted accepted) {
                    for (Event event : accepted.events()) {
                        model.apply(++seq, now, event);
                        Movements.of(seq, now, event, balances);
                    }
                }
            }
            for (long number : model.accountNumbers()) {
                assertThat(balances.byAccount.get(number)).as("seed %d, account %d", seed, number)
                        .isEqualTo(model.account(number).balance);
            }
            assertThat(balances.byAccount).as("seed %d", seed).hasSize(model.accountNumbers().size());
            assertThat(balances.movedOut).as("seed %d", seed).isEqualTo(model.withdrawnTotal() + model.forfeitedTotal());
        }
    }

    private static final class Balances implements Movements.Sink {
        final Map<Long, Long> byAccount = new HashMap<>();
        long movedOut;

        @Override
        public void opened(long seq, long timeMicros, Event.AccountOpened opened) {
            assertThat(byAccount.put(opened.accountNumber(), opened.openingBalance())).isNull();
        }

        @Override
        public void verified(long seq, long timeMicros, Event.AccountVerified verified) {
            assertThat(byAccount).containsKey(verified.accountNumber());
        }

        @Override
        public void moved(long seq, long timeMicros, Movements.Kind kind, long debitAccount, long creditAccount,
                          long amount) {
            assertThat(debitAccount).isNotEqualTo(Movements.OUTSIDE).isNotEqualTo(creditAccount);
            assertThat(amount).isPositive();
            byAccount.merge(debitAccount, -amount, Long::sum);
            if (creditAccount == Movements.OUTSIDE) {
                movedOut += amount;
            } else {
                byAccount.merge(creditAccount, amount, Long::sum);
            }
        }

        @Override
        public void closed(long seq, long timeMicros, Event.AccountClosed closed) {
            assertThat(byAccount.get(closed.accountNumber())).isZero();
        }

        @Override
        public void forgotten(long seq, long timeMicros, Event.AccountForgotten forgotten) {
            assertThat(byAccount).containsKey(forgotten.accountNumber());
        }
    }
}
