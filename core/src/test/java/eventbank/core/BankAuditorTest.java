package eventbank.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The auditor: thousands of random command sequences, each decided by the real bank and by
 * {@link ReferenceBank}, a plain model written apart from it. After every step both must agree
 * on the decision, on every balance and flag, and on the money: the balances add up to what
 * was opened minus what was withdrawn, and none is below zero. A failure names its seed, and
 * {@link #replayOneSeed()} runs that seed alone.
 */
class BankAuditorTest {
    private static final int SEQUENCES = 2_000;
    private static final int COMMANDS_MIN = 50;
    private static final int COMMANDS_MAX = 300;
    /**
     * Short enough that keys expire within one sequence: steps are a hundred microseconds
     * apart on average, so a key lives for about fifty steps.
     */
    private static final long KEY_WINDOW_MICROS = 5_000;

    @Test
    void theBankAgreesWithTheReferenceModel() {
        Outcomes seen = new Outcomes();
        for (long seed = 1; seed <= SEQUENCES; seed++) {
            audit(seed, seen);
        }
        // An auditor whose commands never reach a rule checks nothing about it.
        assertThat(seen.rejections).as("rejections the random commands ran into")
                .containsOnlyKeys(EnumSet.allOf(Rejection.class));
        assertThat(seen.replays).as("retries answered with their first outcome").isGreaterThan(100);
        assertThat(seen.verifiedAgain).as("verifications of verified accounts").isGreaterThan(100);
        assertThat(seen.emptiedAccounts).as("accepted debits that left a balance at zero")
                .isGreaterThan(100);
        assertThat(seen.keyReusedAfterExpiry).as("keys accepted again after they expired").isGreaterThan(10);
        assertThat(seen.oneByOneMixed).as("one-by-one batches with refused and recorded transfers").isGreaterThan(100);
    }

    /**
     * Runs one sequence alone, to look at a failure: {@code ./mvnw -pl core test
     * -Dtest=BankAuditorTest#replayOneSeed -Dauditor.seed=N} with the seed the failure printed.
     */
    @Test
    void replayOneSeed() {
        audit(Long.getLong("auditor.seed", 42), new Outcomes());
    }

    private static void audit(long seed, Outcomes seen) {
        SplittableRandom random = new SplittableRandom(seed);
        Bank bank = new Bank(KEY_WINDOW_MICROS);
        Decider decider = new Decider(Scenario.CODES);
        ReferenceBank model = new ReferenceBank(Scenario.SERVER_KEY, KEY_WINDOW_MICROS);
        CommandGenerator commands = new CommandGenerator(random, model);
        long nowMicros = Scenario.START_MICROS;
        long seq = 0;
        Set<String> acceptedKeys = new HashSet<>();

        int steps = COMMANDS_MIN + random.nextInt(COMMANDS_MAX - COMMANDS_MIN + 1);
        for (int step = 1; step <= steps; step++) {
            nowMicros += random.nextInt(100) < 3 ? KEY_WINDOW_MICROS : random.nextInt(200);
            Command command = commands.next();
            commands.sent(command);
            Supplier<String> where = describe(seed, step, command);

            Decision expected = model.decide(command, nowMicros);
            Decision actual = decider.decide(bank, command, nowMicros);
            assertThat(actual).as(where).isEqualTo(expected);

            for (Event decided : eventsOf(actual)) {
                // As the engine records it: most openings with their personal fields sealed
                // (forgettable), some as before sealing.
                Event event = decided instanceof Event.AccountOpened opened && random.nextInt(4) != 0
                        ? new Event.AccountOpened(opened.accountNumber(), new Scenario.Sealed(opened.email(),
                                opened.passwordHash()), opened.openingBalance(), opened.idempotency())
                        : decided;
                seq++;
                bank.evolve(seq, nowMicros, event);
                model.apply(seq, nowMicros, event);
            }
            checkSameState(bank, model, where);
            seen.count(actual, bank, acceptedKeys);
        }
        checkAtTheEnd(bank, model, describe(seed, steps, null));
    }

    /** The events a decision records, in order: an accepted one's, or a batch's accepted parts'. */
    static List<Event> eventsOf(Decision decision) {
        return switch (decision) {
            case Decision.Accepted accepted -> accepted.events();
            case Decision.OneByOne oneByOne -> {
                List<Event> events = new ArrayList<>();
                for (Decision part : oneByOne.parts()) {
                    events.addAll(eventsOf(part));
                }
                yield events;
            }
            case Decision.Rejected rejected -> List.of();
            case Decision.Replayed replayed -> List.of();
        };
    }

    private static Supplier<String> describe(long seed, int step, Command command) {
        return () -> "seed " + seed + ", step " + step + (command == null ? "" : ", command " + command);
    }

    /** After every step: the same accounts, balances, flags and totals, and the invariant. */
    private static void checkSameState(Bank bank, ReferenceBank model, Supplier<String> where) {
        for (long number : model.accountNumbers()) {
            ReferenceBank.Account account = model.account(number);
            if (!bank.exists(number) || bank.balanceOf(number) != account.balance
                    || bank.isVerified(number) != account.verified) {
                throw new AssertionError(where.get() + ": account " + number + " differs: the model has"
                        + " balance " + account.balance + ", verified " + account.verified);
            }
            if (account.balance < 0) {
                throw new AssertionError(where.get() + ": account " + number + " is below zero");
            }
        }
        if (bank.accountCount() != model.accountNumbers().size()
                || bank.openedTotal() != model.openedTotal()
                || bank.withdrawnTotal() != model.withdrawnTotal()
                || bank.forfeitedTotal() != model.forfeitedTotal()
                || bank.balanceTotal() != model.balanceTotal()) {
            throw new AssertionError(where.get() + ": the bank's counts or totals differ from the model's");
        }
        if (model.balanceTotal() != model.openedTotal() - model.withdrawnTotal() - model.forfeitedTotal()) {
            throw new AssertionError(where.get() + ": money was created or destroyed");
        }
        String breach = bank.checkInvariant();
        if (breach != null) {
            throw new AssertionError(where.get() + ": " + breach);
        }
    }

    /**
     * At the end of a sequence, the checks too slow for every step: emails, opening seqs, the
     * keys still remembered, and that replaying the log rebuilds the very same state.
     */
    private static void checkAtTheEnd(Bank bank, ReferenceBank model, Supplier<String> where) {
        for (String email : model.emails()) {
            assertThat(bank.isEmailTaken(email.toUpperCase(Locale.ROOT))).as(where).isTrue();
        }
        for (long number : model.accountNumbers()) {
            assertThat(bank.openedSeqOf(number)).as(where).isEqualTo(model.account(number).openedSeq);
        }
        assertThat(bank.lastSeq()).as(where).isEqualTo(model.log().size());
        assertThat(Scenario.keysIn(bank)).as(where).isEqualTo(model.keysRememberedAt(bank.lastTimeMicros()));

        Bank replayed = new Bank(KEY_WINDOW_MICROS);
        model.log().forEach(replayed::evolve);
        assertThat(replayed.stateDigest()).as(where).isEqualTo(bank.stateDigest());
    }

    /** What the random commands ran into, over all sequences. */
    private static final class Outcomes {
        final Map<Rejection, Integer> rejections = new EnumMap<>(Rejection.class);
        int replays;
        int verifiedAgain;
        int emptiedAccounts;
        int keyReusedAfterExpiry;
        int oneByOneBatches;
        /** Refused parts of one-by-one batches that also recorded some of their transfers. */
        int oneByOneMixed;

        void count(Decision decision, Bank bank, Set<String> acceptedKeys) {
            switch (decision) {
                case Decision.OneByOne oneByOne -> {
                    oneByOneBatches++;
                    for (Decision part : oneByOne.parts()) {
                        if (part instanceof Decision.Rejected && oneByOne.parts().stream()
                                .anyMatch(Decision.Accepted.class::isInstance)) {
                            oneByOneMixed++;
                        }
                        count(part, bank, acceptedKeys);
                    }
                }
                case Decision.Rejected rejected -> rejections.merge(rejected.reason(), 1, Integer::sum);
                case Decision.Replayed replayed -> replays++;
                case Decision.Accepted accepted when accepted.events().isEmpty() -> verifiedAgain++;
                case Decision.Accepted accepted -> {
                    Event event = accepted.events().get(0);
                    long debited = switch (event) {
                        case Event.AccountOpened e -> 0;
                        case Event.AccountVerified e -> 0;
                        case Event.MoneyTransferred e -> e.fromAccountNumber();
                        case Event.MoneyWithdrawn e -> e.accountNumber();
                        case Event.AccountClosed e -> e.accountNumber();
                        case Event.AccountForgotten e -> 0;
                    };
                    if (debited != 0 && bank.balanceOf(debited) == 0) {
                        emptiedAccounts++;
                    }
                    // Keys of openings have a scope of their own; the others belong to the debited account.
                    Idempotency key = Event.idempotencyOf(event);
                    if (key != null && !acceptedKeys.add(debited + "/" + key.key())) {
                        keyReusedAfterExpiry++;
                    }
                }
            }
        }
    }
}
