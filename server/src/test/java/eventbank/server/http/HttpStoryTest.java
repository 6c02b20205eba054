package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole story through a real server and a real HTTP client. */
class HttpStoryTest {
    @TempDir
    Path temp;

    @Test
    void openVerifyLoginTransferWithdrawAndReadTheStatement() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            HttpApi http = server.http;
            HttpApi.Response openedA = http.post("/api/account",
                    Map.of("email", "alice@example.com", "password", "correct horse"), null, null);
            assertThat(openedA.status()).as(openedA.toString()).isEqualTo(201);
            String a = openedA.json().get("account_number").asText();
            assertThat(openedA.json().get("account_number").isTextual()).isTrue();
            assertThat(a).matches("[1-9][0-9]{15}");
            assertThat(openedA.json().get("seq").asLong()).isEqualTo(1);
            String b = server.open("bob@example.com");

            // Unverified: may log in and look, may not move money.
            String tokenA = server.login(a, "correct horse");
            HttpApi.Response unverified = http.post("/api/withdraw", Map.of("amount", 100), tokenA, null);
            assertThat(unverified.status()).isEqualTo(422);
            assertThat(unverified.error()).isEqualTo("account_not_verified");

            // The link from the mail, as a browser and as a program would follow it.
            String queryA = server.verificationQuery(a);
            assertThat(server.awaitConsole("/api/verify?" + queryA)).contains("/api/verify?" + queryA);
            HttpApi.Response verifiedA = http.get("/api/verify?" + queryA, null);
            assertThat(verifiedA.status()).as(verifiedA.toString()).isEqualTo(200);
            assertThat(verifiedA.json().get("verified").asBoolean()).isTrue();
            assertThat(verifiedA.json().get("account_number").asText()).isEqualTo(a);
            HttpApi.Response again = http.send(http.request("/api/verify?" + queryA, null)
                    .header("Accept", "text/html,application/xhtml+xml").GET().build());
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.header("Content-Type")).startsWith("text/html");
            assertThat(again.body()).contains("Already verified");
            assertThat(http.get("/api/verify?" + server.verificationQuery(b), null).status()).isEqualTo(200);

            HttpApi.Response transfer = http.post("/api/money_transfer",
                    Map.of("to_account_number", b, "amount", 2_500), tokenA, null);
            assertThat(transfer.status()).as(transfer.toString()).isEqualTo(200);
            JsonNode t = transfer.json();
            assertThat(t.get("from_account_number").asText()).isEqualTo(a);
            assertThat(t.get("to_account_number").asText()).isEqualTo(b);
            assertThat(t.get("amount").asLong()).isEqualTo(2_500);
            assertThat(t.get("balance").asLong()).isEqualTo(97_500);

            HttpApi.Response withdraw = http.post("/api/withdraw", Map.of("amount", 500), tokenA, null);
            assertThat(withdraw.status()).as(withdraw.toString()).isEqualTo(200);
            assertThat(withdraw.json().get("balance").asLong()).isEqualTo(97_000);
            long lastSeq = withdraw.json().get("seq").asLong();

            HttpApi.Response account = http.get("/api/account?min_seq=" + lastSeq, tokenA);
            assertThat(account.status()).as(account.toString()).isEqualTo(200);
            assertThat(account.json().get("account_number").asText()).isEqualTo(a);
            assertThat(account.json().get("email").asText()).isEqualTo("alice@example.com");
            assertThat(account.json().get("verified").asBoolean()).isTrue();
            assertThat(account.json().get("balance").asLong()).isEqualTo(97_000);
            assertThat(account.json().get("opened_at").asText()).endsWith("Z");

            HttpApi.Response statement = http.get("/api/account/transactions?min_seq=" + lastSeq, tokenA);
            assertThat(statement.status()).as(statement.toString()).isEqualTo(200);
            JsonNode lines = statement.json().get("transactions");
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0).get("type").asText()).isEqualTo("withdrawal");
            assertThat(lines.get(0).get("amount").asLong()).isEqualTo(500);
            assertThat(lines.get(0).get("balance_after").asLong()).isEqualTo(97_000);
            assertThat(lines.get(0).get("counterparty_account_number").isNull()).isTrue();
            assertThat(lines.get(1).get("type").asText()).isEqualTo("transfer_out");
            assertThat(lines.get(1).get("counterparty_account_number").asText()).isEqualTo(b);
            assertThat(statement.json().get("next_before_seq").isNull()).isTrue();

            HttpApi.Response page = http.get("/api/account/transactions?limit=1&min_seq=" + lastSeq, tokenA);
            assertThat(page.json().get("transactions")).hasSize(1);
            long next = page.json().get("next_before_seq").asLong();
            HttpApi.Response older = http.get("/api/account/transactions?limit=1&before_seq=" + next, tokenA);
            assertThat(older.json().get("transactions").get(0).get("type").asText()).isEqualTo("transfer_out");

            String tokenB = server.login(b, "password-bob@example.com");
            HttpApi.Response statementB = http.get("/api/account/transactions?min_seq=" + lastSeq, tokenB);
            assertThat(statementB.json().get("transactions").get(0).get("type").asText()).isEqualTo("transfer_in");
            assertThat(statementB.json().get("transactions").get(0).get("balance_after").asLong()).isEqualTo(102_500);

            HttpApi.Response health = http.get("/health", null);
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.json().get("status").asText()).isEqualTo("ok");
            assertThat(health.json().get("last_seq").asLong()).isEqualTo(lastSeq);
        }
    }
}
