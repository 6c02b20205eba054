package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.server.readmodel.ReadModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's restart on a small journal: a server is stopped and started, and every read model
 * starts from its checkpoint (it reads none of the journal before it) and answers every read
 * route exactly as before the stop; a damaged or foreign checkpoint is set aside, the model is
 * rebuilt from the journal, and the answers are the same again. ({@code bench/RestartTime}
 * times the same path on 10M events.)
 */
class HttpRestartTest {
    private static final String KEY = "operator-key-for-restart-tests";
    /** Checkpoints every few events, so that they land in the middle of the history too. */
    private static final Map<String, String> SETTINGS = Map.of("operator.key", KEY, "checkpoint.every_events", "7");

    @TempDir
    Path temporary;

    /** Holders, with the keys of the operations they made. */
    private record Bank(List<TestServer.Holder> holders, List<String> emails, List<String> keys, long lastSeq) {}

    /** Four holders, transfers and withdrawals among them, most under an Idempotency-Key. */
    private static Bank story(TestServer server, String prefix) throws Exception {
        List<TestServer.Holder> holders = new ArrayList<>();
        List<String> emails = new ArrayList<>();
        for (int index = 0; index < 4; index++) {
            emails.add(prefix + index + "@example.com");
            holders.add(server.openVerifiedHolder(emails.getLast()));
        }
        server.open(prefix + "-unverified@example.com");
        List<String> keys = new ArrayList<>();
        long lastSeq = 0;
        for (int index = 0; index < 30; index++) {
            TestServer.Holder from = holders.get(index % 4);
            TestServer.Holder to = holders.get((index + 1 + index / 4) % 4 == index % 4 ? (index + 2) % 4
                    : (index + 1 + index / 4) % 4);
            String key = index % 5 == 4 ? null : prefix + "-op-" + index;
            HttpApi.Response reply = index % 6 == 5
                    ? server.http.post("/api/withdraw", Map.of("amount", 100 + index), from.token(), key)
                    : server.http.post("/api/money_transfer", Map.of("to_account_number", to.number(),
                            "amount", 1_000 + index), from.token(), key);
            assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
            lastSeq = reply.json().get("seq").asLong();
            if (key != null) {
                keys.add(key);
            }
        }
        return new Bank(holders, emails, keys, lastSeq);
    }

    /** Everything the read routes answer about the bank, waiting for {@code minSeq} first. */
    private static Map<String, JsonNode> views(TestServer server, Bank bank, long minSeq) throws Exception {
        Map<String, JsonNode> views = new LinkedHashMap<>();
        String wait = "min_seq=" + minSeq;
        for (TestServer.Holder holder : bank.holders()) {
            views.put("account " + holder.number(), ok(server.http.get("/api/account?" + wait, holder.token())));
            String before = "";
            for (int page = 0; ; page++) {
                JsonNode statement = ok(server.http.get("/api/account/transactions?limit=4&" + wait + before,
                        holder.token()));
                views.put("statement " + holder.number() + " page " + page, statement);
                if (statement.get("next_before_seq").isNull()) {
                    break;
                }
                before = "&before_seq=" + statement.get("next_before_seq").asLong();
            }
            views.put("history " + holder.number(), ok(server.http.operatorGet(
                    "/api/admin/accounts/" + holder.number() + "/history", KEY)));
            for (String key : bank.keys()) {
                HttpApi.Response operation = server.http.get("/api/operations/" + key + "?" + wait, holder.token());
                if (operation.status() == 200) {
                    views.put("operation " + key + " of " + holder.number(), operation.json());
                }
            }
        }
        views.put("sum", ok(server.http.operatorGet("/api/report/sum_transactions?" + wait, KEY)));
        views.put("inactive", ok(server.http.operatorGet("/api/report/inactive_users?" + wait, KEY)));
        return views;
    }

    private static JsonNode ok(HttpApi.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    private static void assertEveryModelRestoredAt(TestServer server, long seq) {
        for (ReadModel model : server.service.readModels().all()) {
            assertThat(model.restoredSeq()).as(model.name() + " starts from its checkpoint").isEqualTo(seq);
            assertThat(model.restoreProblem()).as(model.name()).isNull();
        }
    }

    private static void assertHealthOk(TestServer server) throws Exception {
        JsonNode health = ok(server.http.get("/health", null));
        assertThat(health.get("status").asText()).as(health.toString()).isEqualTo("ok");
    }

    @Test
    void aCleanRestartStartsEveryModelFromItsCheckpointWithTheSameAnswers() throws Exception {
        Path data = temporary.resolve("data");
        Bank bank;
        Map<String, JsonNode> before;
        long stoppedAt;
        try (TestServer server = TestServer.start(data, SETTINGS)) {
            bank = story(server, "clean");
            before = views(server, bank, bank.lastSeq());
            stoppedAt = server.service.engine().committedSeq();
        }
        try (TestServer server = TestServer.start(data, SETTINGS)) {
            // The models start on the feed's thread: the views wait for them, then they tell how.
            assertThat(views(server, bank, bank.lastSeq())).isEqualTo(before);
            assertEveryModelRestoredAt(server, stoppedAt);
            assertHealthOk(server);
            // The restarted models go on from there: a login (accounts) and a new transfer.
            TestServer.Holder first = bank.holders().getFirst();
            assertThat(server.login(first.number(), "password-" + bank.emails().getFirst())).isNotBlank();
            HttpApi.Response transfer = server.http.post("/api/money_transfer",
                    Map.of("to_account_number", bank.holders().get(1).number(), "amount", 7), first.token(), "after");
            assertThat(transfer.status()).as(transfer.toString()).isEqualTo(200);
            long seq = transfer.json().get("seq").asLong();
            JsonNode statement = ok(server.http.get("/api/account/transactions?limit=1&min_seq=" + seq, first.token()));
            assertThat(statement.get("transactions").get(0).get("seq").asLong()).isEqualTo(seq);
            assertThat(ok(server.http.get("/api/operations/after?min_seq=" + seq, first.token())).get("seq").asLong())
                    .isEqualTo(seq);
        }
    }

    @Test
    void aDamagedOrForeignCheckpointIsSetAsideAndTheModelRebuiltToTheSameAnswers() throws Exception {
        Path data = temporary.resolve("data");
        Path other = temporary.resolve("other");
        Bank bank;
        Map<String, JsonNode> before;
        try (TestServer server = TestServer.start(data, SETTINGS)) {
            bank = story(server, "mine");
            before = views(server, bank, bank.lastSeq());
        }
        try (TestServer server = TestServer.start(other, SETTINGS)) {
            story(server, "theirs");
        }
        Path checkpoints = data.resolve("readmodels");
        List<Path> files;
        try (Stream<Path> listed = Files.list(checkpoints)) {
            files = listed.filter(file -> file.getFileName().toString().endsWith(".checkpoint")).sorted().toList();
        }
        assertThat(files).extracting(file -> file.getFileName().toString())
                .contains("accounts.checkpoint", "statements.checkpoint", "operations.checkpoint", "reports.checkpoint");
        // Half of the models get a flipped byte in their state, the other half another bank's checkpoint.
        for (int index = 0; index < files.size(); index++) {
            Path file = files.get(index);
            if (index % 2 == 0) {
                byte[] bytes = Files.readAllBytes(file);
                bytes[bytes.length - 9] ^= 0x40;
                Files.write(file, bytes);
            } else {
                Files.copy(other.resolve("readmodels").resolve(file.getFileName()), file,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (TestServer server = TestServer.start(data, SETTINGS)) {
            // The models start on the feed's thread: the views wait for them, then they tell how.
            assertThat(views(server, bank, bank.lastSeq())).isEqualTo(before);
            for (ReadModel model : server.service.readModels().all()) {
                if (files.contains(checkpoints.resolve(model.name() + ".checkpoint"))) {
                    assertThat(model.restoredSeq()).as(model.name()).isZero();
                    assertThat(model.restoreProblem()).as(model.name()).isNotNull();
                    assertThat(checkpoints.resolve(model.name() + ".checkpoint.unusable")).as(model.name()).exists();
                }
            }
            assertHealthOk(server);
        }
    }
}
