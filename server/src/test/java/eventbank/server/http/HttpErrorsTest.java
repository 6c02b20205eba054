package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every error path of the contract, with its status and code; none changes anything. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpErrorsTest {
    @TempDir
    static Path temp;
    TestServer server;
    HttpApi http;
    TestServer.Holder alice;
    TestServer.Holder bob;
    String unverified;
    String unverifiedToken;

    @BeforeAll
    void start() throws Exception {
        server = TestServer.start(temp.resolve("data"), Map.of("http.request_body_bytes_max", "4096"));
        http = server.http;
        alice = server.openVerifiedHolder("alice@example.com");
        bob = server.openVerifiedHolder("bob@example.com");
        unverified = server.open("carol@example.com");
        unverifiedToken = server.login(unverified, "password-carol@example.com");
    }

    @AfterAll
    void stop() throws Exception {
        server.close();
    }

    private void expect(HttpApi.Response response, int status, String error) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.error()).as(response.toString()).isEqualTo(error);
        assertThat(response.json().get("message").asText()).isNotBlank();
        assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private HttpApi.Response transfer(String json) throws Exception {
        return http.postRaw("/api/money_transfer", json, "application/json", alice.token(), null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "[]", "\"x\"", "42", "null", "{\"amount\": 1} {}", "{\"amount\":1,\"amount\":2}",
            "{'amount': 1}", "{\"amount\": 01}"})
    void malformedJson(String body) throws Exception {
        expect(http.postRaw("/api/withdraw", body, "application/json", alice.token(), null), 400, "malformed_json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.5", "1.0", "1e3", "\"100\"", "0", "-1", "1000000000001", "99999999999999999999999",
            "true", "null", "{}", "[1]"})
    void badAmounts(String amount) throws Exception {
        expect(transfer("{\"to_account_number\":\"" + bob.number() + "\",\"amount\":" + amount + "}"), 400,
                "invalid_field");
        expect(http.postRaw("/api/withdraw", "{\"amount\":" + amount + "}", "application/json", alice.token(), null),
                400, "invalid_field");
    }

    @Test
    void theLargestAmountIsAllowedButMoreThanTheBalanceIsNot() throws Exception {
        expect(http.post("/api/withdraw", Map.of("amount", 1_000_000_000_000L), alice.token(), null), 422,
                "insufficient_funds");
    }

    @Test
    void missingAndUnknownFields() throws Exception {
        expect(transfer("{\"amount\":1}"), 400, "invalid_field");
        expect(transfer("{\"to_account_number\":\"" + bob.number() + "\"}"), 400, "invalid_field");
        expect(transfer("{\"to_account_number\":\"" + bob.number() + "\",\"amount\":1,\"from_account_number\":\""
                + bob.number() + "\"}"), 400, "unknown_field");
        expect(http.post("/api/account", Map.of("email", "x@example.com", "password", "12345678", "admin", true),
                null, null), 400, "unknown_field");
    }

    @Test
    void accountNumbersAreStringsOfSixteenDigits() throws Exception {
        expect(transfer("{\"to_account_number\":" + bob.number() + ",\"amount\":1}"), 400, "invalid_field");
        expect(transfer("{\"to_account_number\":\"12\",\"amount\":1}"), 400, "invalid_field");
        expect(transfer("{\"to_account_number\":\"1000000000000000\",\"amount\":1}"), 404, "account_not_found");
    }

    @Test
    void rejectionsOfTheBank() throws Exception {
        expect(transfer("{\"to_account_number\":\"" + alice.number() + "\",\"amount\":1}"), 422, "same_account");
        expect(transfer("{\"to_account_number\":\"" + unverified + "\",\"amount\":1}"), 422,
                "recipient_not_verified");
        expect(http.post("/api/withdraw", Map.of("amount", 1), unverifiedToken, null), 422, "account_not_verified");
        expect(http.post("/api/account", Map.of("email", "ALICE@example.com", "password", "12345678"), null, null),
                409, "email_taken");
        expect(http.post("/api/account", Map.of("email", "not an email", "password", "12345678"), null, null),
                400, "invalid_field");
        expect(http.get("/api/verify?account_number=" + unverified + "&code=wrong", null), 422, "wrong_code");
        expect(http.get("/api/verify?account_number=1000000000000000&code=wrong", null), 422, "wrong_code");
    }

    @Test
    void passwordLength() throws Exception {
        expect(http.post("/api/account", Map.of("email", "short@example.com", "password", "1234567"), null, null),
                400, "invalid_field");
        expect(http.post("/api/account", Map.of("email", "long@example.com", "password", "x".repeat(129)), null, null),
                400, "invalid_field");
    }

    @Test
    void queries() throws Exception {
        expect(http.get("/api/verify?account_number=12&code=x", null), 400, "invalid_query");
        expect(http.get("/api/verify?account_number=" + unverified, null), 400, "invalid_query");
        for (String query : new String[] {"limit=0", "limit=101", "limit=x", "before_seq=0", "before_seq=-1",
                "min_seq=abc", "min_seq=999999"}) {
            expect(http.get("/api/account/transactions?" + query, alice.token()), 400, "invalid_query");
        }
    }

    @Test
    void tokens() throws Exception {
        expect(http.get("/api/account", null), 401, "missing_token");
        expect(http.post("/api/withdraw", Map.of("amount", 1), null, null), 401, "missing_token");
        expect(http.get("/api/account", "not.a.token"), 401, "invalid_token");
        expect(http.send(http.request("/api/account", null).header("Authorization", "Basic abc").GET().build()),
                401, "invalid_token");
    }

    @Test
    void login() throws Exception {
        expect(http.post("/api/login", Map.of("account_number", "1000000000000000", "password", "whatever1"), null,
                null), 401, "invalid_credentials");
        expect(http.post("/api/login", Map.of("account_number", "abc", "password", "whatever1"), null, null), 401,
                "invalid_credentials");
        expect(http.post("/api/login", Map.of("account_number", 1234), null, null), 400, "invalid_field");
    }

    @Test
    void routesMethodsMediaTypesAndSizes() throws Exception {
        expect(http.get("/api/nothing", null), 404, "not_found");
        expect(http.send("DELETE", "/api/account", alice.token()), 405, "method_not_allowed");
        expect(http.get("/api/withdraw", alice.token()), 405, "method_not_allowed");
        expect(http.postRaw("/api/withdraw", "{\"amount\":1}", "text/plain", alice.token(), null), 415,
                "unsupported_media_type");
        expect(http.postRaw("/api/withdraw", "{\"amount\":1}", null, alice.token(), null), 415,
                "unsupported_media_type");
        HttpApi.Response tooLarge = http.postRaw("/api/account", "{\"email\":\"" + "x".repeat(5000) + "\"}",
                "application/json", null, null);
        expect(tooLarge, 413, "body_too_large");
        // The rest of the body stays unread, so the server closes the connection: it says so, and a
        // keep-alive client opens a new one for its next request instead of getting no reply.
        assertThat(tooLarge.header("Connection")).isEqualToIgnoringCase("close");
        HttpApi.Response refusedUnread = http.postRaw("/api/withdraw", "{\"amount\":1,\"pad\":\""
                + "x".repeat(3000) + "\"}", "text/plain", alice.token(), null);
        expect(refusedUnread, 415, "unsupported_media_type");
        expect(http.get("/api/operations/unknown-key", alice.token()), 404, "not_found");
        expect(http.get("/api/operations/unknown-key", alice.token()), 404, "not_found");
    }

    @Test
    void idempotencyKeyFormat() throws Exception {
        expect(http.post("/api/withdraw", Map.of("amount", 1), alice.token(), "x".repeat(256)), 400, "invalid_field");
        expect(http.post("/api/withdraw", Map.of("amount", 1), alice.token(), ""), 400, "invalid_field");
    }
}
