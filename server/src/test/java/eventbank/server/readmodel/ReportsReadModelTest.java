package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Recorded;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reports over a history spread across days, months and a year boundary, made through a real
 * engine whose clock the test sets; the inactive-users cut-off right at one calendar month; and
 * the model's own checkpoint across restarts, damaged, or made for another journal.
 */
class ReportsReadModelTest {
    @TempDir
    Path data;

    private static long micros(String instant) {
        return EpochMicros.of(Instant.parse(instant));
    }

    /** Alice, Bob and Carol, verified on 2025-12-30; Dave opened then and never active. */
    private record People(long alice, long bob, long carol, long dave) {}

    private static People history(ReadModelBank bank) {
        bank.clock.set(micros("2025-12-30T09:00:00Z"));
        People people = new People(bank.openVerified("alice@example.com"), bank.openVerified("bob@example.com"),
                bank.openVerified("carol@example.com"), bank.open("dave@example.com", null));
        // The last second of 2025 and the first of 2026, either side of the year boundary.
        bank.clock.set(micros("2025-12-31T23:59:59.999999Z"));
        bank.transfer(people.alice, people.bob, 1_000, null);
        bank.clock.set(micros("2026-01-01T00:00:00Z"));
        bank.withdraw(people.bob, 200, null);
        // Two on one day in January, one in February, one at the end of March.
        bank.clock.set(micros("2026-01-15T10:00:00Z"));
        bank.transfer(people.bob, people.carol, 300, null);
        bank.withdraw(people.carol, 40, null); // a second later: the helper moves the clock
        bank.clock.set(micros("2026-02-28T12:00:00Z"));
        bank.transfer(people.carol, people.alice, 5, null);
        bank.clock.set(micros("2026-03-31T08:00:00Z"));
        bank.withdraw(people.bob, 7, null);
        return people;
    }

    @Test
    void sumsPerYearMonthAndDayAcrossAYearBoundary() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            history(bank);
            bank.awaitReadModels();
            ReportsReadModel reports = bank.reports;
            assertThat(reports.sumAllTime()).isEqualTo(1_000 + 200 + 300 + 40 + 5 + 7);
            assertThat(reports.sum(LocalDate.of(2025, 1, 1), LocalDate.of(2026, 1, 1))).isEqualTo(1_000);
            assertThat(reports.sum(LocalDate.of(2025, 12, 31), LocalDate.of(2026, 1, 1))).isEqualTo(1_000);
            assertThat(reports.sum(LocalDate.of(2026, 1, 1), LocalDate.of(2027, 1, 1))).isEqualTo(200 + 300 + 40 + 5 + 7);
            assertThat(reports.sum(LocalDate.of(2026, 1, 1), LocalDate.of(2026, 1, 2))).isEqualTo(200);
            assertThat(reports.sum(LocalDate.of(2026, 1, 1), LocalDate.of(2026, 2, 1))).isEqualTo(200 + 300 + 40);
            assertThat(reports.sum(LocalDate.of(2026, 1, 15), LocalDate.of(2026, 1, 16))).isEqualTo(340);
            assertThat(reports.sum(LocalDate.of(2026, 2, 1), LocalDate.of(2026, 3, 1))).isEqualTo(5);
            assertThat(reports.sum(LocalDate.of(2026, 3, 1), LocalDate.of(2026, 4, 1))).isEqualTo(7);
            assertThat(reports.sum(LocalDate.of(2026, 4, 1), LocalDate.of(2026, 5, 1))).isZero();
        }
    }

    /**
     * The model adds a movement to the open day when its time falls within that day's bounds,
     * and opens its day otherwise: each day's sum matches a reference that divides every time,
     * for times either side of midnight, a clock back on an earlier day, before 1970, and at
     * the two ends of a long (whose days' bounds do not fit in one).
     */
    @Test
    void eachDaysSumMatchesTheDayEveryMovementsTimeFallsOn() {
        long day = 86_400_000_000L;
        long[] times = {0, day - 1, day, 2 * day - 1, day - 1, 5 * day + 7, -1, -day, -day - 1, 0,
                Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, 3 * day};
        ReportsReadModel reports = new ReportsReadModel();
        reports.start();
        long seq = 0;
        reports.onEvent(new Recorded(++seq, 0, new Event.AccountOpened(1, "a@example.com", "h", 1_000_000, null)));
        reports.onEvent(new Recorded(++seq, 0, new Event.AccountOpened(2, "b@example.com", "h", 1_000_000, null)));
        TreeMap<Long, Long> expected = new TreeMap<>();
        for (int i = 0; i < times.length; i++) {
            long amount = 1L << i;
            reports.onEvent(new Recorded(++seq, times[i], new Event.MoneyTransferred(1 + i % 2, 2 - i % 2, amount,
                    null)));
            expected.merge(Math.floorDiv(times[i], day), amount, Long::sum);
        }
        for (var sum : expected.entrySet()) {
            LocalDate date = LocalDate.ofEpochDay(sum.getKey());
            assertThat(reports.sum(date, date.plusDays(1))).as("the sum of %s", date).isEqualTo(sum.getValue());
        }
        assertThat(reports.sum(LocalDate.ofEpochDay(Math.floorDiv(Long.MIN_VALUE, day)),
                LocalDate.ofEpochDay(Long.MAX_VALUE / day + 1)))
                .isEqualTo(reports.sumAllTime()).isEqualTo((1L << times.length) - 1);
        assertThat(reports.sum(LocalDate.ofEpochDay(2), LocalDate.ofEpochDay(3))).isZero();
    }

    @Test
    void inactiveUsersAtTheOneMonthBoundary() throws Exception {
        try (ReadModelBank bank = ReadModelBank.start(data, ReadModelBank.newClock())) {
            People people = history(bank);
            bank.awaitReadModels();
            ReportsReadModel reports = bank.reports;
            // Last activity: Alice 2026-02-28T12:00, Bob 2026-03-31T08:00, Carol 2026-02-28T12:00,
            // Dave never. One calendar month before 2026-03-28T12:00 is 2026-02-28T12:00: an
            // activity exactly then is "since" the cut-off, so Alice and Carol are still active.
            assertThat(inactiveAt(reports, "2026-03-28T12:00:00Z")).isEqualTo(1); // Dave
            // A microsecond later the cut-off passes them.
            assertThat(inactiveAt(reports, "2026-03-28T12:00:00.000001Z")).isEqualTo(3);
            // March 29, 30 and 31 all step back to February 28 (2026 is no leap year).
            assertThat(ReportsReadModel.inactiveSinceMicros(Instant.parse("2026-03-31T12:00:00Z")))
                    .isEqualTo(micros("2026-02-28T12:00:00Z"));
            assertThat(inactiveAt(reports, "2026-03-31T12:00:00Z")).isEqualTo(1);
            // No "now" has March 31 as its cut-off (April has 30 days): Bob, last active on
            // 2026-03-31T08:00, counts as active through April 30 and as inactive from May 1.
            assertThat(inactiveAt(reports, "2026-04-30T23:59:59.999999Z")).isEqualTo(3);
            assertThat(inactiveAt(reports, "2026-05-01T00:00:00Z")).isEqualTo(4);
            // Never-active Dave always counts; with a cut-off before every activity, only he does.
            assertThat(reports.inactiveCount(micros("2025-12-31T23:59:59.999999Z"))).isEqualTo(1);
            assertThat(reports.inactiveCount(micros("2026-02-28T12:00:00Z"))).isEqualTo(1);
            assertThat(reports.inactiveCount(micros("2026-02-28T12:00:00.000001Z"))).isEqualTo(3);
            assertThat(bank.accounts.account(people.dave()).orElseThrow().everActive()).isFalse();
        }
    }

    /** The count for a "now": one calendar month before it is the cut-off. */
    private static long inactiveAt(ReportsReadModel reports, String now) {
        return reports.inactiveCount(ReportsReadModel.inactiveSinceMicros(Instant.parse(now)));
    }

    @Test
    void aRestartStartsFromTheCheckpointAndAnswersTheSame() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        long sum;
        long inactive;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            manyTransfers(bank, 120);
            bank.awaitReadModels();
            sum = bank.reports.sumAllTime();
            inactive = bank.reports.inactiveCount(clock.get());
            assertThat(bank.reports.checkpointSeq()).isGreaterThanOrEqualTo(ReadModelBank.CHECKPOINT_EVERY_EVENTS);
        }
        Path file = data.resolve("readmodels").resolve("reports.checkpoint");
        assertThat(file).exists();
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.reports.restoredSeq()).isPositive();
            assertThat(bank.reports.restoreProblem()).isNull();
            assertThat(bank.reports.sumAllTime()).isEqualTo(sum);
            assertThat(bank.reports.inactiveCount(clock.get())).isEqualTo(inactive);
        }
    }

    @Test
    void aDamagedCheckpointIsSetAsideAndTheReportsRebuiltFromSeqZero() throws Exception {
        AtomicLong clock = ReadModelBank.newClock();
        long sum;
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            manyTransfers(bank, 120);
            bank.awaitReadModels();
            sum = bank.reports.sumAllTime();
        }
        Path file = data.resolve("readmodels").resolve("reports.checkpoint");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
        try (ReadModelBank bank = ReadModelBank.start(data, clock)) {
            bank.awaitReadModels();
            assertThat(bank.reports.restoredSeq()).isZero();
            assertThat(bank.reports.restoreProblem()).contains("CRC32C");
            assertThat(bank.reports.sumAllTime()).isEqualTo(sum);
        }
    }

    @Test
    void aCheckpointOfAnotherJournalIsNotUsed() throws Exception {
        Path other = data.resolve("other");
        Path mine = data.resolve("mine");
        AtomicLong clock = ReadModelBank.newClock();
        try (ReadModelBank bank = ReadModelBank.start(other, clock)) {
            manyTransfers(bank, 100); // a shorter history with other amounts: its checkpoint lies within mine
            bank.awaitReadModels();
        }
        long sum;
        AtomicLong clockOfMine = ReadModelBank.newClock();
        try (ReadModelBank bank = ReadModelBank.start(mine, clockOfMine)) {
            manyTransfers(bank, 120);
            bank.awaitReadModels();
            sum = bank.reports.sumAllTime();
        }
        copyCheckpoint(other, mine);
        try (ReadModelBank bank = ReadModelBank.start(mine, clockOfMine)) {
            bank.awaitReadModels();
            assertThat(bank.reports.restoredSeq()).isZero();
            assertThat(bank.reports.restoreProblem()).contains("chain hash");
            assertThat(bank.reports.sumAllTime()).isEqualTo(sum);
        }
    }

    private static void copyCheckpoint(Path from, Path to) throws IOException {
        Path name = Path.of("readmodels", "reports.checkpoint");
        Files.copy(from.resolve(name), to.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Two accounts sending each other small, varying amounts: 4 + {@code count} events. */
    private static void manyTransfers(ReadModelBank bank, int count) {
        long a = bank.openVerified("a@example.com");
        long b = bank.openVerified("b@example.com");
        for (int i = 0; i < count; i++) {
            bank.transfer(i % 2 == 0 ? a : b, i % 2 == 0 ? b : a, 1 + i % 7 + count, null);
        }
    }
}
