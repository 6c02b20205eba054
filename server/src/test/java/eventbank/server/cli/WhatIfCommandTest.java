package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.journal.HighWaterMark;
import eventbank.engine.storage.FileStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventbank what-if --file F} over the story of {@link TestBank} (seqs 1 to 8): the JSON of
 * {@code POST /api/admin/what-if}, read-only, beside a running engine that holds the lock.
 */
class WhatIfCommandTest {
    private static final String WITHOUT_BOBS_VERIFICATION = "{\"branch_seq\":3,\"until_seq\":8,\"events_replayed\":5,"
            + "\"excluded_seqs\":[4],\"rejected\":["
            + "{\"seq\":5,\"type\":\"MoneyTransferred\",\"accepted\":false,\"reason\":\"recipient_not_verified\","
            + "\"message\":\"The recipient's email address is not verified yet.\"},"
            + "{\"seq\":6,\"type\":\"MoneyWithdrawn\",\"accepted\":false,\"reason\":\"account_not_verified\","
            + "\"message\":\"The account's email address is not verified yet.\"},"
            + "{\"seq\":8,\"type\":\"MoneyTransferred\",\"accepted\":false,\"reason\":\"account_not_verified\","
            + "\"message\":\"The account's email address is not verified yet.\"}],"
            + "\"commands\":[{\"index\":0,\"after_seq\":8,\"type\":\"open\",\"accepted\":true}],"
            + "\"balance_differences\":["
            + "{\"account_number\":\"1000000000000001\",\"balance\":92500,\"what_if_balance\":100000,\"difference\":7500},"
            + "{\"account_number\":\"1000000000000002\",\"balance\":102500,\"what_if_balance\":100000,\"difference\":-2500},"
            + "{\"account_number\":\"1000000000000009\",\"balance\":null,\"what_if_balance\":500,\"difference\":500}]}\n";

    @TempDir
    Path data;

    @Test
    void printsTheAlternativeHistoryBesideARunningEngineAndChangesNothing() throws Exception {
        Path data = this.data.resolve("data");
        Path request = this.data.resolve("request.json");
        Files.writeString(request, "{\"exclude_seqs\": [4], \"commands\": [{\"after_seq\": 8, \"type\": \"open\","
                + " \"account_number\": \"1000000000000009\", \"email\": \"dave@example.com\", \"opening_balance\": 500}]}");
        try (TestBank bank = TestBank.start(data)) {
            bank.tellStory();
            bank.awaitSnapshots();
            awaitHighWaterMark(bank, data);
            Map<String, String> before = DataFiles.contents(data);
            Cli.Run run = Cli.run(Map.of(), "what-if", "--file", request.toString(), "--data-dir", data.toString());
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).isEqualTo(WITHOUT_BOBS_VERIFICATION);
            assertThat(run.err()).isEmpty();
            assertThat(DataFiles.contents(data)).as("nothing written").containsExactlyInAnyOrderEntriesOf(before);
        }
    }

    /**
     * The running engine writes its high-water mark up to an interval after the last commit: wait
     * until the mark holds that commit, so that the files compared before and after are settled.
     */
    private static void awaitHighWaterMark(TestBank bank, Path data) throws Exception {
        Path journal = data.resolve("journal");
        long committed = bank.engine.committedSeq();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HighWaterMark.Mark mark = HighWaterMark.read(new FileStorage(), journal);
        while (mark == null || mark.seq() != committed) {
            assertThat(System.nanoTime()).as("the high-water mark reaches seq " + committed).isLessThan(deadline);
            Thread.sleep(10);
            mark = HighWaterMark.read(new FileStorage(), journal);
        }
    }

    @Test
    void refusesABadRequestOrOneBeyondTheJournal() throws Exception {
        Path data = this.data.resolve("data");
        TestBank.writeStory(data);
        Path request = this.data.resolve("request.json");
        Files.writeString(request, "{\"exclude_seqs\": [4], \"skip\": true}");
        Cli.Run unknown = Cli.run(Map.of(), "what-if", "--file", request.toString(), "--data-dir", data.toString());
        assertThat(unknown.exitCode()).as(unknown.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).startsWith("eventbank what-if: --file: unknown_field: ");

        Files.writeString(request, "{\"until_seq\": 9}");
        Cli.Run beyond = Cli.run(Map.of(), "what-if", "--file", request.toString(), "--data-dir", data.toString());
        assertThat(beyond.exitCode()).as(beyond.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(beyond.err()).isEqualTo("eventbank what-if: until_seq 9 is past the last recorded event, seq 8\n");

        Files.writeString(request, "{\"exclude_seqs\": [1]}");
        Cli.Run capped = Cli.run(Map.of(), "what-if", "--file", request.toString(), "--replay-events-max", "7",
                "--data-dir", data.toString());
        assertThat(capped.exitCode()).as(capped.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(capped.err()).contains("would replay 8 events").contains("limit of 7");

        Cli.Run missing = Cli.run(Map.of(), "what-if", "--file", this.data.resolve("none.json").toString(),
                "--data-dir", data.toString());
        assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(Cli.run("what-if", "--help").out()).contains("--file=FILE").contains("--data-dir");
    }
}
