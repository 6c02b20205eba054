package eventbank.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import eventbank.postgres.PostgresExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A tiny run of {@link ReaderLag} on the tests' PostgreSQL: its report adds up. */
class ReaderLagTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @Test
    void aShortRunReportsTheReadersLagForEveryCommitAndEndsWithTheReaderHoldingTheLeadersHistory() throws Exception {
        int rate = 2_000;
        int seconds = 2;
        int accounts = 1_000;
        ReaderLag.Options options = new ReaderLag.Options(rate, seconds, 1, accounts, Duration.ofMillis(100),
                PostgresExtension.urlOf(PostgresExtension.newDatabase()));

        ReaderLag.Report report = ReaderLag.run(options, System.out);
        report.print(System.out);

        assertThat(report.readerHoldsLeaders()).as("the reader ends at the leader's seq and chain hash").isTrue();
        assertThat(report.notCommitted()).isZero();
        assertThat(report.committed()).as("every transfer of the measured seconds committed")
                .isCloseTo((long) rate * seconds, within(1L));
        assertThat(report.committedPerSecond()).isBetween(rate * 0.5, rate * 1.5);
        assertThat(report.leaderSeq()).isGreaterThanOrEqualTo(2L * accounts + (long) rate * seconds);
        assertThat(report.lagPerCommit().getTotalCount()).isPositive();
        assertThat(report.lagPerTransfer().getTotalCount()).as("each commit weighed by its transfers")
                .isBetween(rate * seconds / 2L, rate * seconds * 3L / 2);
        assertThat(report.lagPerCommit().getMinValue()).as("a reader shows a commit only after it").isPositive();
        assertThat(report.lagPerCommit().getMaxValue()).isLessThan(Duration.ofSeconds(30).toNanos());
        assertThat(report.publishedPerCommit().getTotalCount()).isPositive();
        assertThat(report.shownAfterPublished().getTotalCount())
                .isEqualTo(report.publishedPerCommit().getTotalCount());
        assertThat(report.replyLatency().getTotalCount()).isCloseTo((long) rate * seconds, within(1L));
    }
}
