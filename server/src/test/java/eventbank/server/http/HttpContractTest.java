package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.server.openapi.ApiDocs;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding 8 of docs/RELIABILITY.md, the contract at its edges, as a client sees it on a real
 * server: no number a client can put in a path, query or body yields a 5xx; every 405 says what
 * the route takes; null means absent; replies holding tokens, balances or statements are never
 * cached; no reply is sniffed; the HTML pages run no inline script and leak no Referer; and
 * {@code /api/verify} tells no one which account numbers exist.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpContractTest {
    private static final String OPERATOR_KEY = "operator-key-of-the-contract-test";
    private static final Set<String> CLIENT_ERRORS = Set.of("invalid_query", "invalid_field", "not_found",
            "account_not_found");
    /** Numbers at and past the edges of a long, as a client may type them. */
    private static final List<String> HUGE_NUMBERS = List.of("9223372036854775807", "9223372036854775808",
            "9999999999999999999", "99999999999999999999", "-9223372036854775809", "1e400", "0x10");

    @TempDir
    static Path temp;
    TestServer server;
    HttpApi http;
    TestServer.Holder alice;
    TestServer.Holder bob;
    String carol;

    @BeforeAll
    void start() throws Exception {
        server = TestServer.start(temp.resolve("data"), Map.of("operator.key", OPERATOR_KEY));
        http = server.http;
        alice = server.openVerifiedHolder("alice@example.com");
        bob = server.openVerifiedHolder("bob@example.com");
        carol = server.open("carol@example.com");
    }

    @AfterAll
    void stop() throws Exception {
        server.close();
    }

    @Test
    void noNumberInAPathOrAQueryYieldsA5xx() throws Exception {
        // The old 500: a dead letter's seq of 19 nines passed the digit check and overflowed a long.
        HttpApi.Response retry = send("POST", "/api/admin/mail/dead/9999999999999999999/retry");
        assertThat(retry.status()).as(retry.toString()).isEqualTo(404);
        assertThat(retry.error()).isEqualTo("not_found");

        List<String> templates = List.of("/api/admin/mail/dead/%s/retry", "/api/admin/accounts/%s/history",
                "/api/operations/%s", "/api/account?min_seq=%s", "/api/account/export?min_seq=%s",
                "/api/account/transactions?limit=%s",
                "/api/account/transactions?before_seq=%s", "/api/account/transactions?min_seq=%s",
                "/api/admin/events?after_seq=%s", "/api/admin/events?until_seq=%s", "/api/admin/events?limit=%s",
                "/api/admin/events?account=%s", "/api/admin/state?at_seq=%s", "/api/admin/mail/dead?after_seq=%s",
                "/api/admin/mail/dead?limit=%s", "/api/report/sum_transactions?year=%s",
                "/api/report/sum_transactions?year=2026&month=%s", "/api/report/sum_transactions?year=2026&month=1&day=%s",
                "/api/report/sum_transactions?min_seq=%s", "/api/verify?code=x&account_number=%s");
        List<String> failures = new ArrayList<>();
        for (String template : templates) {
            for (String number : HUGE_NUMBERS) {
                String path = template.formatted(java.net.URLEncoder.encode(number, java.nio.charset.StandardCharsets.UTF_8));
                String method = path.endsWith("/retry") ? "POST" : "GET";
                HttpApi.Response response = send(method, path);
                if (response.status() >= 500 || (response.status() >= 400
                        && !CLIENT_ERRORS.contains(response.error()))) {
                    failures.add(method + " " + path + " → " + response);
                }
            }
        }
        for (String time : List.of("+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "9999999999")) {
            for (String path : List.of("/api/admin/state?at_time=", "/api/admin/events?from=", "/api/admin/events?to=")) {
                HttpApi.Response response = send("GET", path + java.net.URLEncoder.encode(time,
                        java.nio.charset.StandardCharsets.UTF_8));
                if (response.status() >= 500) {
                    failures.add("GET " + path + time + " → " + response);
                }
            }
        }
        for (String body : List.of("{\"until_seq\": 99999999999999999999}", "{\"exclude_seqs\": [1e400]}",
                "{\"commands\": [{\"type\": \"withdraw\", \"after_seq\": 9223372036854775808, \"account_number\": \""
                        + alice.number() + "\", \"amount\": 1}]}")) {
            HttpApi.Response response = http.operatorPost("/api/admin/what-if", body, OPERATOR_KEY);
            if (response.status() != 400 || !response.error().equals("invalid_field")) {
                failures.add("POST /api/admin/what-if " + body + " → " + response);
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void every405SaysWhichMethodsTheRouteTakes() throws Exception {
        Map<String, String> allowed = new LinkedHashMap<>();
        allowed.put("DELETE /api/account", "GET, POST");
        allowed.put("GET /api/withdraw", "POST");
        allowed.put("PUT /api/money_transfers", "POST");
        allowed.put("POST /api/verify", "GET");
        allowed.put("PATCH /api/admin/mail/dead/5/retry", "POST");
        allowed.put("POST /health", "GET");
        for (Map.Entry<String, String> route : allowed.entrySet()) {
            String[] methodAndPath = route.getKey().split(" ");
            HttpApi.Response response = send(methodAndPath[0], methodAndPath[1]);
            assertThat(response.status()).as(route.getKey()).isEqualTo(405);
            assertThat(response.error()).isEqualTo("method_not_allowed");
            assertThat(response.header("Allow")).as(route.getKey() + ": Allow").isNotNull();
            assertThat(Set.of(response.header("Allow").split(", "))).as(route.getKey())
                    .isEqualTo(Set.of(route.getValue().split(", ")));
        }
    }

    @Test
    void nullForAnOptionalFieldMeansAbsentAndForARequiredOneMissing() throws Exception {
        HttpApi.Response batch = http.postRaw("/api/money_transfers", "{\"atomic\": null, \"transfers\": [{"
                + "\"to_account_number\": \"" + bob.number() + "\", \"amount\": 1}]}", "application/json",
                alice.token(), null);
        assertThat(batch.status()).as(batch.toString()).isEqualTo(200);
        HttpApi.Response resend = http.postRaw("/api/verify/resend", "{\"email\": null, \"account_number\": \""
                + carol + "\"}", "application/json", null, null);
        assertThat(resend.status()).as(resend.toString()).isEqualTo(202);
        HttpApi.Response whatIf = http.operatorPost("/api/admin/what-if",
                "{\"exclude_seqs\": null, \"commands\": null, \"until_seq\": null}", OPERATOR_KEY);
        assertThat(whatIf.status()).as(whatIf.toString()).isEqualTo(200);

        HttpApi.Response required = http.postRaw("/api/withdraw", "{\"amount\": null}", "application/json",
                alice.token(), null);
        assertThat(required.status()).isEqualTo(400);
        assertThat(required.error()).isEqualTo("invalid_field");
        assertThat(required.json().get("message").asText()).contains("missing");
        HttpApi.Response unknown = http.postRaw("/api/withdraw", "{\"amount\": 1, \"note\": null}",
                "application/json", alice.token(), null);
        assertThat(unknown.error()).as("unknown is unknown, null or not").isEqualTo("unknown_field");
    }

    @Test
    void repliesWithATokenABalanceOrAStatementAreNeverStored() throws Exception {
        Map<String, HttpApi.Response> replies = new LinkedHashMap<>();
        replies.put("login", http.post("/api/login", Map.of("account_number", alice.number(),
                "password", "password-alice@example.com"), null, null));
        replies.put("account", http.get("/api/account", alice.token()));
        replies.put("transactions", http.get("/api/account/transactions", alice.token()));
        replies.put("export", http.get("/api/account/export", alice.token()));
        replies.put("money_transfer", http.post("/api/money_transfer", Map.of("to_account_number", bob.number(),
                "amount", 1), alice.token(), "contract-key"));
        replies.put("money_transfers", http.post("/api/money_transfers", Map.of("transfers",
                List.of(Map.of("to_account_number", bob.number(), "amount", 1))), alice.token(), null));
        replies.put("withdraw", http.post("/api/withdraw", Map.of("amount", 1), alice.token(), null));
        replies.put("operations", http.get("/api/operations/contract-key", alice.token()));
        replies.put("admin state", http.operatorGet("/api/admin/state", OPERATOR_KEY));
        replies.put("admin history", http.operatorGet("/api/admin/accounts/" + alice.number() + "/history",
                OPERATOR_KEY));
        replies.put("admin events", http.operatorGet("/api/admin/events", OPERATOR_KEY));
        replies.put("an error", http.post("/api/withdraw", Map.of("amount", 1), "not.a.token", null));
        for (Map.Entry<String, HttpApi.Response> reply : replies.entrySet()) {
            assertThat(reply.getValue().status()).as(reply.getKey() + ": " + reply.getValue()).isLessThan(500);
            assertThat(reply.getValue().header("Cache-Control")).as(reply.getKey()).isEqualTo("no-store");
        }
    }

    @Test
    void noReplyIsSniffed() throws Exception {
        List<String> paths = List.of("/api/account", "/api/nothing", "/api/withdraw", "/health", "/metrics",
                "/openapi.json", ApiDocs.DOCS_PATH, ApiDocs.DOCS_SCRIPT_PATH,
                ApiDocs.SWAGGER_UI_URL_PREFIX + ApiDocs.SWAGGER_UI_CSS, "/webjars/nothing.js");
        for (String path : paths) {
            HttpApi.Response response = http.get(path, alice.token());
            assertThat(response.header("X-Content-Type-Options")).as(path + " " + response.status())
                    .isEqualTo("nosniff");
        }
        HttpApi.Response tooLarge = http.postRaw("/api/withdraw", "{\"amount\": \"" + "9".repeat(2_000_000) + "\"}",
                "application/json", alice.token(), null);
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(tooLarge.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    @Test
    void theDocsPageRunsNoInlineScriptAndEverythingItLoadsIsServed() throws Exception {
        HttpApi.Response page = http.get(ApiDocs.DOCS_PATH, null);
        assertThat(page.status()).isEqualTo(200);
        String policy = page.header("Content-Security-Policy");
        assertThat(policy).contains("default-src 'none'", "script-src 'self';", "frame-ancestors 'none'");
        assertThat(directive(policy, "script-src")).doesNotContain("unsafe-inline", "unsafe-eval");
        assertThat(page.header("Referrer-Policy")).isEqualTo("no-referrer");

        Matcher scripts = Pattern.compile("<script([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(page.body());
        int count = 0;
        while (scripts.find()) {
            count++;
            assertThat(scripts.group(2).strip()).as("an inline script, which the policy would block").isEmpty();
            String source = attribute(scripts.group(1), "src");
            assertThat(source).as("every script is a file of this server").startsWith("/");
            HttpApi.Response script = http.get(source, null);
            assertThat(script.status()).as(source).isEqualTo(200);
            assertThat(script.header("Content-Type")).as(source).contains("javascript");
        }
        assertThat(count).as("the bundle and the start script").isEqualTo(2);
        Matcher links = Pattern.compile("<link([^>]*)>").matcher(page.body());
        int stylesheets = 0;
        while (links.find()) {
            String href = attribute(links.group(1), "href");
            assertThat(href).startsWith("/");
            HttpApi.Response linked = http.get(href, null);
            assertThat(linked.status()).as(href).isEqualTo(200);
            if (links.group(1).contains("stylesheet")) {
                stylesheets++;
                assertThat(linked.header("Content-Type")).as(href).contains("text/css");
            }
        }
        assertThat(stylesheets).isEqualTo(1);
        assertThat(page.body()).doesNotContain("style=", "<style", "onload=", "javascript:");
        assertThat(http.get(ApiDocs.DOCS_SCRIPT_PATH, null).body()).contains("SwaggerUIBundle", ApiDocs.OPENAPI_PATH);
    }

    @Test
    void verifyingAnswersAnUnknownAccountAndAWrongCodeAlike() throws Exception {
        HttpApi.Response wrongCode = http.get("/api/verify?account_number=" + carol + "&code=wrong", null);
        HttpApi.Response unknown = http.get("/api/verify?account_number=1000000000000000&code=wrong", null);
        assertThat(wrongCode.status()).isEqualTo(422);
        assertThat(wrongCode.error()).isEqualTo("wrong_code");
        assertThat(unknown.status()).as(unknown.toString()).isEqualTo(wrongCode.status());
        assertThat(unknown.body()).isEqualTo(wrongCode.body());
    }

    private HttpApi.Response send(String method, String path) throws Exception {
        HttpRequest.Builder request = http.request(path, alice.token())
                .method(method, HttpRequest.BodyPublishers.noBody()).header("X-Operator-Key", OPERATOR_KEY);
        return http.send(request.build());
    }

    private static String directive(String policy, String name) {
        for (String directive : policy.split(";")) {
            if (directive.strip().startsWith(name + " ")) {
                return directive.strip();
            }
        }
        return "";
    }

    private static String attribute(String attributes, String name) {
        Matcher matcher = Pattern.compile(name + "=\"([^\"]*)\"").matcher(attributes);
        return matcher.find() ? matcher.group(1) : null;
    }
}
