package eventbank.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A tiny run of {@link RestartTime}, issue 15's restart benchmark, with real server processes:
 * every start serves {@code /health} ok and an account's history, every clean stop ends with
 * exit code 0 (the tool throws otherwise), and the report holds what was measured.
 */
class RestartTimeTest {
    @Test
    void aTinyJournalIsRestartedAfterCleanStopsAndAKillAndEachStartAndStopIsTimed() throws Exception {
        RestartTime bench = new RestartTime(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), false, false);

        RestartTime.Result result = bench.measure(20_000, 500, 2);

        assertThat(result.events()).isEqualTo(20_000);
        assertThat(result.restarts()).hasSize(2);
        for (RestartTime.Start start : allOf(result)) {
            assertThat(start.readySeconds()).isPositive();
            assertThat(start.cpuSeconds()).isPositive();
            assertThat(start.heapUsedBytes()).as("the heap after a full GC, from jcmd").isPositive();
            assertThat(start.stopSeconds()).isPositive();
        }
        assertThat(result.cleanStops()).as("the restarts' clean stops, the killed one left out").hasSize(1);
    }

    private static List<RestartTime.Start> allOf(RestartTime.Result result) {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(result.first(), result.afterKill()),
                result.restarts().stream()).toList();
    }
}
