package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.journal.HighWaterMark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read side over HTTP, on a real server: reports, the event explorer, the state as of a past
 * point, an account's history, and what-if histories that leave the journal's bytes and the
 * outbox exactly as they were.
 */
class HttpReadSideTest {
    static final String KEY = "operator-key-for-read-side-tests";

    @TempDir
    Path data;

    /** Alice sends Bob $500 (seq transferSeq), then Bob withdraws $1,200 (seq withdrawalSeq). */
    private record Story(TestServer.Holder alice, TestServer.Holder bob, String carol, long transferSeq,
                         long withdrawalSeq) {}

    private static Story story(TestServer server) throws Exception {
        TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
        TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
        String carol = server.open("carol@example.com"); // never verified, never active
        HttpApi.Response transfer = server.http.post("/api/money_transfer",
                Map.of("to_account_number", bob.number(), "amount", 50_000), alice.token(), null);
        assertThat(transfer.status()).as(transfer.toString()).isEqualTo(200);
        HttpApi.Response withdrawal = server.http.post("/api/withdraw", Map.of("amount", 120_000), bob.token(), null);
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(200);
        return new Story(alice, bob, carol, transfer.json().get("seq").asLong(),
                withdrawal.json().get("seq").asLong());
    }

    private static HttpApi.Response get(TestServer server, String path) throws Exception {
        return server.http.operatorGet(path, KEY);
    }

    private static HttpApi.Response ok(HttpApi.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response;
    }

    @Test
    void reportsAnswerFromTheReadModel() throws Exception {
        try (TestServer server = TestServer.start(data, Map.of("operator.key", KEY))) {
            Story story = story(server);
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            long moved = 50_000 + 120_000;
            assertThat(ok(get(server, "/api/report/sum_transactions")).json().get("sum").asLong()).isEqualTo(moved);
            String day = "year=" + today.getYear() + "&month=" + today.getMonthValue() + "&day=" + today.getDayOfMonth();
            // Run just after midnight, the events may have been stamped yesterday: min_seq waits, then both days add up.
            LocalDate yesterday = today.minusDays(1);
            String dayBefore = "year=" + yesterday.getYear() + "&month=" + yesterday.getMonthValue() + "&day="
                    + yesterday.getDayOfMonth();
            long todays = ok(get(server, "/api/report/sum_transactions?" + day + "&min_seq=" + story.withdrawalSeq()))
                    .json().get("sum").asLong();
            long yesterdays = ok(get(server, "/api/report/sum_transactions?" + dayBefore)).json().get("sum").asLong();
            assertThat(todays + yesterdays).isEqualTo(moved);
            assertThat(ok(get(server, "/api/report/sum_transactions?year=1999")).json().get("sum").asLong()).isZero();
            assertThat(ok(get(server, "/api/report/sum_transactions?year=2099&month=2")).json().get("sum").asLong())
                    .isZero();
            // Alice and Bob just moved money; Carol never did.
            assertThat(ok(get(server, "/api/report/inactive_users")).json().get("total").asLong()).isEqualTo(1);

            for (String bad : List.of("month=2", "year=2026&day=3", "year=2026&month=2&day=30", "year=1969",
                    "year=2026&month=13", "year=abc")) {
                HttpApi.Response refused = get(server, "/api/report/sum_transactions?" + bad);
                assertThat(refused.status()).as(bad).isEqualTo(400);
                assertThat(refused.error()).as(bad).isEqualTo("invalid_query");
            }
            assertThat(server.http.operatorGet("/api/report/inactive_users", null).error())
                    .isEqualTo("operator_key_invalid");
        }
    }

    /**
     * The three read models that live in memory follow the journal through one subscription,
     * which reads and decodes each batch once for them; the reports model, which starts from its
     * checkpoint, has its own. Each model still keeps its own applied seq.
     */
    @Test
    void everyReadModelFollowsTheJournalThroughOneSubscription() throws Exception {
        try (TestServer server = TestServer.start(data, Map.of("operator.key", KEY))) {
            Story story = story(server);
            List<String> names = server.service.engine().subscriptions().stream().map(Subscription::name).toList();
            assertThat(names).containsOnlyOnce("read-models").doesNotContain("accounts", "statements",
                    "operations", "reports");
            awaitEverySubscriber(server, story.withdrawalSeq());
            for (var model : server.service.readModels().all()) {
                assertThat(model.appliedSeq()).as(model.name()).isGreaterThanOrEqualTo(story.withdrawalSeq());
            }
        }
    }

    @Test
    void eventsPageThroughTheJournalWithTheFiltersOfTheCommandLine() throws Exception {
        try (TestServer server = TestServer.start(data, Map.of("operator.key", KEY))) {
            Story story = story(server);
            long head = story.withdrawalSeq();
            List<Long> seqs = new ArrayList<>();
            Long after = 0L;
            int pages = 0;
            while (after != null) {
                JsonNode page = ok(get(server, "/api/admin/events?limit=2&after_seq=" + after)).json();
                for (JsonNode event : page.get("events")) {
                    seqs.add(event.get("seq").asLong());
                    assertThat(event.path("data").has("password_hash")).isFalse();
                }
                after = page.get("next_after_seq").isNull() ? null : page.get("next_after_seq").asLong();
                pages++;
            }
            assertThat(seqs).hasSize((int) head);
            assertThat(seqs).isSorted().startsWith(1L).endsWith(head);
            assertThat(pages).as("the page that reaches the head says so").isEqualTo((int) (head + 1) / 2);

            JsonNode withdrawals = ok(get(server, "/api/admin/events?type=MoneyWithdrawn")).json();
            assertThat(withdrawals.get("events")).hasSize(1);
            JsonNode withdrawn = withdrawals.get("events").get(0);
            assertThat(withdrawn.get("seq").asLong()).isEqualTo(story.withdrawalSeq());
            assertThat(withdrawn.get("type").asText()).isEqualTo("MoneyWithdrawn");
            assertThat(withdrawn.get("data").get("account_number").asText()).isEqualTo(story.bob().number());
            assertThat(withdrawn.get("data").get("amount").asLong()).isEqualTo(120_000);
            assertThat(withdrawals.get("next_after_seq").isNull()).isTrue();

            JsonNode alices = ok(get(server, "/api/admin/events?account=" + story.alice().number())).json();
            assertThat(alices.get("events")).extracting(event -> event.get("type").asText())
                    .containsExactly("AccountOpened", "AccountVerified", "MoneyTransferred");
            JsonNode window = ok(get(server, "/api/admin/events?after_seq=" + (story.transferSeq() - 1)
                    + "&until_seq=" + story.transferSeq())).json();
            assertThat(window.get("events")).singleElement()
                    .satisfies(event -> assertThat(event.get("seq").asLong()).isEqualTo(story.transferSeq()));
            String future = Instant.now().plus(Duration.ofDays(1)).toString();
            assertThat(ok(get(server, "/api/admin/events?from=" + future)).json().get("events")).isEmpty();

            for (String bad : List.of("type=MoneyPrinted", "account=123", "after_seq=-1", "limit=0", "limit=1001",
                    "from=yesterday", "after_seq=5&until_seq=4")) {
                HttpApi.Response refused = get(server, "/api/admin/events?" + bad);
                assertThat(refused.status()).as(bad).isEqualTo(400);
                assertThat(refused.error()).as(bad).isEqualTo("invalid_query");
            }
        }
    }

    @Test
    void stateAsOfASeqOrAnInstantAndAnAccountsHistory() throws Exception {
        try (TestServer server = TestServer.start(data, Map.of("operator.key", KEY))) {
            Story story = story(server);
            JsonNode before = ok(get(server, "/api/admin/state?at_seq=" + (story.transferSeq() - 1))).json();
            assertThat(before.get("seq").asLong()).isEqualTo(story.transferSeq() - 1);
            assertThat(balances(before)).containsEntry(story.alice().number(), 100_000L)
                    .containsEntry(story.bob().number(), 100_000L);
            JsonNode now = ok(get(server, "/api/admin/state")).json();
            assertThat(now.get("seq").asLong()).isEqualTo(story.withdrawalSeq());
            assertThat(balances(now)).containsEntry(story.alice().number(), 50_000L)
                    .containsEntry(story.bob().number(), 30_000L).containsEntry(story.carol(), 100_000L);
            assertThat(now.get("totals").get("withdrawn").asLong()).isEqualTo(120_000);

            // A page asks for a few accounts, or the first few; the totals stay the whole bank's.
            JsonNode bobOnly = ok(get(server, "/api/admin/state?account=" + story.bob().number())).json();
            assertThat(balances(bobOnly)).containsOnlyKeys(story.bob().number());
            assertThat(bobOnly.get("totals")).isEqualTo(now.get("totals"));
            JsonNode two = ok(get(server, "/api/admin/state?account=" + story.bob().number() + "&account="
                    + story.carol() + "&account=9999999999999999")).json();
            assertThat(balances(two)).containsOnlyKeys(story.bob().number(), story.carol());
            JsonNode first = ok(get(server, "/api/admin/state?limit=1")).json();
            assertThat(first.get("accounts")).hasSize(1);
            assertThat(first.get("accounts").get(0)).isEqualTo(now.get("accounts").get(0));
            assertThat(first.get("totals").get("accounts").asLong()).isEqualTo(3);

            // at_time picks the last event at or before the instant: the transfer's own time.
            String transferTime = ok(get(server, "/api/admin/events?after_seq=" + (story.transferSeq() - 1)
                    + "&limit=1")).json().get("events").get(0).get("time").asText();
            JsonNode atTime = ok(get(server, "/api/admin/state?at_time=" + transferTime)).json();
            assertThat(atTime.get("seq").asLong()).isEqualTo(story.transferSeq());
            assertThat(atTime.get("time").asText()).isEqualTo(transferTime);
            assertThat(ok(get(server, "/api/admin/state?at_time=2000-01-01T00:00:00Z")).json().get("seq").asLong())
                    .isZero();
            for (String bad : List.of("at_seq=" + (story.withdrawalSeq() + 1), "at_seq=x", "at_time=noon",
                    "at_seq=1&at_time=2026-01-01T00:00:00Z", "account=12", "limit=-1",
                    "account=1000000000000001" + "&account=1000000000000001".repeat(100))) {
                HttpApi.Response refused = get(server, "/api/admin/state?" + bad);
                assertThat(refused.status()).as(bad).isEqualTo(400);
                assertThat(refused.error()).as(bad).isEqualTo("invalid_query");
            }

            JsonNode history = ok(get(server, "/api/admin/accounts/" + story.bob().number() + "/history")).json();
            assertThat(history.get("items")).extracting(item -> item.get("type").asText())
                    .containsExactly("opened", "verified", "transfer_in", "withdrawal");
            assertThat(history.get("items")).extracting(item -> item.get("delta").asLong())
                    .containsExactly(100_000L, 0L, 50_000L, -120_000L);
            assertThat(history.get("items")).extracting(item -> item.get("balance_after").asLong())
                    .containsExactly(100_000L, 100_000L, 150_000L, 30_000L);
            assertThat(history.get("items").get(3).get("seq").asLong()).isEqualTo(story.withdrawalSeq());
            HttpApi.Response unknown = get(server, "/api/admin/accounts/9999999999999999/history");
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.error()).isEqualTo("account_not_found");
            assertThat(get(server, "/api/admin/accounts/12/history").error()).isEqualTo("invalid_query");
            assertThat(server.http.operatorGet("/api/admin/state", "wrong-key-wrong-key").status()).isEqualTo(401);
        }
    }

    private static Map<String, Long> balances(JsonNode state) {
        Map<String, Long> balances = new TreeMap<>();
        for (JsonNode account : state.get("accounts")) {
            balances.put(account.get("account_number").asText(), account.get("balance").asLong());
        }
        return balances;
    }

    @Test
    void leavingOutAnEarlyTransferMakesALaterWithdrawalFailAndChangesNothing() throws Exception {
        try (TestServer server = TestServer.start(data, Map.of("operator.key", KEY))) {
            Story story = story(server);
            awaitEverySubscriber(server, story.withdrawalSeq());
            Map<String, String> journalBefore = digests(data.resolve("journal"));
            Map<String, String> outboxBefore = digests(data.resolve("outbox"));

            HttpApi.Response response = server.http.operatorPost("/api/admin/what-if",
                    "{\"exclude_seqs\": [" + story.transferSeq() + "]}", KEY);
            JsonNode answer = ok(response).json();
            assertThat(answer.get("branch_seq").asLong()).isEqualTo(story.transferSeq() - 1);
            assertThat(answer.get("until_seq").asLong()).isEqualTo(story.withdrawalSeq());
            assertThat(answer.get("rejected")).singleElement().satisfies(rejected -> {
                assertThat(rejected.get("seq").asLong()).isEqualTo(story.withdrawalSeq());
                assertThat(rejected.get("type").asText()).isEqualTo("MoneyWithdrawn");
                assertThat(rejected.get("accepted").asBoolean()).isFalse();
                assertThat(rejected.get("reason").asText()).isEqualTo("insufficient_funds");
            });
            assertThat(differences(answer)).containsExactly(
                    Map.entry(story.alice().number(), List.of(50_000L, 100_000L, 50_000L)),
                    Map.entry(story.bob().number(), List.of(30_000L, 100_000L, 70_000L)));

            // The same, with a smaller transfer added in its place: now the withdrawal goes through.
            String instead = "{\"exclude_seqs\": [" + story.transferSeq() + "], \"commands\": [{\"after_seq\": "
                    + story.transferSeq() + ", \"type\": \"transfer\", \"from_account_number\": \""
                    + story.alice().number() + "\", \"to_account_number\": \"" + story.bob().number()
                    + "\", \"amount\": 20000}]}";
            JsonNode smaller = ok(server.http.operatorPost("/api/admin/what-if", instead, KEY)).json();
            assertThat(smaller.get("rejected")).isEmpty();
            assertThat(smaller.get("commands")).singleElement().satisfies(outcome -> {
                assertThat(outcome.get("type").asText()).isEqualTo("transfer");
                assertThat(outcome.get("accepted").asBoolean()).isTrue();
            });
            assertThat(differences(smaller)).containsExactly(
                    Map.entry(story.alice().number(), List.of(50_000L, 80_000L, 30_000L)),
                    Map.entry(story.bob().number(), List.of(30_000L, 0L, -30_000L)));

            // A hypothetical withdrawal larger than the balance is refused; stopping before Bob's
            // withdrawal leaves it out of the comparison.
            String refusedCommand = "{\"until_seq\": " + story.transferSeq() + ", \"commands\": [{\"after_seq\": "
                    + story.transferSeq() + ", \"type\": \"withdraw\", \"account_number\": \"" + story.alice().number()
                    + "\", \"amount\": 50001}]}";
            JsonNode refused = ok(server.http.operatorPost("/api/admin/what-if", refusedCommand, KEY)).json();
            assertThat(refused.get("commands").get(0).get("accepted").asBoolean()).isFalse();
            assertThat(refused.get("commands").get(0).get("reason").asText()).isEqualTo("insufficient_funds");
            assertThat(refused.get("balance_differences")).isEmpty();
            assertThat(refused.get("events_replayed").asLong()).isZero();

            awaitEverySubscriber(server, story.withdrawalSeq());
            assertThat(digests(data.resolve("journal"))).isEqualTo(journalBefore);
            assertThat(digests(data.resolve("outbox"))).isEqualTo(outboxBefore);
            assertThat(server.service.engine().committedSeq()).isEqualTo(story.withdrawalSeq());
        }
    }

    @Test
    void whatIfRefusesBadRequestsAndMoreEventsThanItsCap() throws Exception {
        try (TestServer server = TestServer.start(data, Map.of("operator.key", KEY,
                "whatif.replay_events_max", "2"))) {
            Story story = story(server);
            Map<String, String> cases = Map.of(
                    "{\"exclude_seqs\": [" + (story.withdrawalSeq() + 1) + "]}", "invalid_field",
                    "{\"until_seq\": " + (story.withdrawalSeq() + 1) + "}", "invalid_field",
                    "{\"exclude_seqs\": [1]}", "invalid_field", // the cap: 7 events to replay
                    "{\"commands\": [{\"after_seq\": 1, \"type\": \"borrow\"}]}", "invalid_field",
                    "{\"commands\": [{\"after_seq\": 1, \"type\": \"withdraw\", \"account_number\": \"1000000000000001\","
                            + " \"amount\": 5, \"to_account_number\": \"1000000000000002\"}]}", "unknown_field",
                    "{\"skip_seqs\": [1]}", "unknown_field",
                    "{\"exclude_seqs\": [0]}", "invalid_field",
                    "[1, 2]", "malformed_json");
            for (Map.Entry<String, String> bad : cases.entrySet()) {
                HttpApi.Response refused = server.http.operatorPost("/api/admin/what-if", bad.getKey(), KEY);
                assertThat(refused.status()).as(bad.getKey()).isEqualTo(400);
                assertThat(refused.error()).as(bad.getKey() + " " + refused).isEqualTo(bad.getValue());
            }
            HttpApi.Response capped = server.http.operatorPost("/api/admin/what-if", "{\"exclude_seqs\": [1]}", KEY);
            assertThat(capped.json().get("message").asText()).contains("whatif.replay_events_max");
            // Within the cap it runs: the withdrawal alone, left out.
            JsonNode within = ok(server.http.operatorPost("/api/admin/what-if",
                    "{\"exclude_seqs\": [" + story.withdrawalSeq() + "]}", KEY)).json();
            assertThat(differences(within)).containsExactly(
                    Map.entry(story.bob().number(), List.of(30_000L, 150_000L, 120_000L)));
            assertThat(server.http.operatorPost("/api/admin/what-if", "{}", null).status()).isEqualTo(401);
        }
    }

    /** account → [balance, what-if balance, difference], in the answer's order. */
    private static Map<String, List<Long>> differences(JsonNode answer) {
        Map<String, List<Long>> differences = new java.util.LinkedHashMap<>();
        for (JsonNode difference : answer.get("balance_differences")) {
            differences.put(difference.get("account_number").asText(), List.of(difference.get("balance").asLong(),
                    difference.get("what_if_balance").asLong(), difference.get("difference").asLong()));
        }
        return differences;
    }

    /** Waits (bounded) until every subscriber, the outbox included, has been handed seq. */
    private static void awaitEverySubscriber(TestServer server, long seq) throws InterruptedException {
        for (Subscription subscription : server.service.engine().subscriptions()) {
            assertThat(subscription.awaitDelivered(seq, 20_000)).as(subscription.name()).isTrue();
        }
    }

    /** Every file under a directory, by relative path, with the SHA-256 of its bytes. */
    private static Map<String, String> digests(Path directory) throws Exception {
        Map<String, String> digests = new TreeMap<>();
        if (!Files.isDirectory(directory)) {
            return digests;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            // Not the high-water mark: the engine rewrites it on its own as the committed head
            // moves (the story's last commits may reach it during the what-if), and it is no event.
            for (Path file : files.filter(Files::isRegularFile)
                    .filter(file -> !file.getFileName().toString().equals(HighWaterMark.FILE_NAME)).toList()) {
                byte[] hash = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
                digests.put(directory.relativize(file).toString(), HexFormat.of().formatHex(hash));
            }
        }
        return digests;
    }
}
