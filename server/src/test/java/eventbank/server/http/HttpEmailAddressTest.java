package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One account, one mailbox (DESIGN.md, "Trust fixes"): which addresses opening and resending
 * take, over HTTP, and the API description stating the same rule as the server.
 */
class HttpEmailAddressTest {
    /** Addresses the server takes: each opens an account. */
    static final List<String> ACCEPTED = List.of(
            "alice@example.com",
            "a.b+tag@sub.example.co",
            "o'brien@example.org",
            "under_score-dash@ex-ample.com",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "x@e.c",
            "1@2.3",
            "l".repeat(64) + "@" + "d".repeat(185) + ".com"); // 254 characters

    /** Addresses the server refuses (400 invalid_field), each with why. */
    static final Map<String, String> REFUSED = refused();

    private static Map<String, String> refused() {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("alice@example.com,", "a list of one, beside alice@example.com: uniqueness bypassed");
        refused.put("x@evil.com,victim.com", "a list: mail to two domains");
        refused.put("x@evil.com;victim.com", "a list with a semicolon");
        refused.put("a@example.com, b@example.com", "a list of two");
        refused.put("Alice <alice@example.com>", "a display name");
        refused.put("alice@example.com (Alice)", "a comment");
        refused.put("group: a@example.com;", "a group");
        refused.put("\"alice\"@example.com", "a quoted local part: alice@example.com spelt otherwise");
        refused.put("\"a b\"@example.com", "a quoted local part with a space");
        refused.put("a@[192.0.2.1]", "a domain literal");
        refused.put("0@com", "no dot in the domain");
        refused.put("a@localhost", "no dot in the domain");
        refused.put("ü@example.com", "not ASCII: no Unicode normalization behind uniqueness, no SMTPUTF8");
        refused.put("a@bücher.example", "not ASCII in the domain");
        refused.put(" a@example.com", "a space before");
        refused.put("a@example.com ", "a space after");
        refused.put("a@example.com\n", "a line break after");
        refused.put("a..b@example.com", "two dots in a row");
        refused.put(".a@example.com", "a leading dot");
        refused.put("a@example..com", "two dots in the domain");
        refused.put("a@example.com.", "a trailing dot");
        refused.put("a@b@example.com", "two at signs");
        refused.put("a@exam_ple.com", "an underscore in the domain");
        refused.put("@example.com", "no local part");
        refused.put("a@", "no domain");
        refused.put("example.com", "no at sign");
        refused.put("", "empty");
        refused.put("l".repeat(65) + "@" + "d".repeat(185) + ".com", "255 characters");
        return refused;
    }

    @TempDir
    Path temp;

    @Test
    void openingTakesOneMailboxAndNothingElse() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("http.open_rate_per_minute", "0"))) {
            for (String email : ACCEPTED) {
                HttpApi.Response opened = open(server, email);
                assertThat(opened.status()).as("%s: %s", email, opened).isEqualTo(201);
            }
            for (Map.Entry<String, String> refused : REFUSED.entrySet()) {
                HttpApi.Response opened = open(server, refused.getKey());
                assertThat(opened.status()).as("'%s' (%s): %s", refused.getKey(), refused.getValue(), opened)
                        .isEqualTo(400);
                assertThat(opened.error()).isEqualTo("invalid_field");
                assertThat(opened.json().path("message").asText()).contains("email");
            }
            HttpApi.Response again = open(server, "ALICE@Example.com");
            assertThat(again.error()).as("unique without regard to case").isEqualTo("email_taken");
        }
    }

    @Test
    void resendChecksTheAddressLikeOpeningAndTellsNothingOfAnAccount() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("http.open_rate_per_minute", "0"))) {
            String number = server.open("known@example.com");
            for (String email : ACCEPTED) {
                HttpApi.Response resent = resend(server, Map.of("email", email));
                assertThat(resent.status()).as("%s (no such account): %s", email, resent).isEqualTo(202);
            }
            for (Map.Entry<String, String> refused : REFUSED.entrySet()) {
                HttpApi.Response resent = resend(server, Map.of("email", refused.getKey()));
                assertThat(resent.status()).as("'%s' (%s): %s", refused.getKey(), refused.getValue(), resent)
                        .isEqualTo(400);
                assertThat(resent.error()).isEqualTo("invalid_field");
            }
            // JSON null for the other field means it is absent.
            Map<String, Object> byEmail = new HashMap<>();
            byEmail.put("email", "known@example.com");
            byEmail.put("account_number", null);
            assertThat(resend(server, byEmail).status()).isEqualTo(202);
            Map<String, Object> byNumber = new HashMap<>();
            byNumber.put("email", null);
            byNumber.put("account_number", number);
            assertThat(resend(server, byNumber).status()).isEqualTo(202);
            Map<String, Object> neither = new HashMap<>();
            neither.put("email", null);
            neither.put("account_number", null);
            HttpApi.Response none = resend(server, neither);
            assertThat(none.status()).isEqualTo(400);
            assertThat(none.error()).isEqualTo("invalid_field");
        }
    }

    /**
     * The pattern of the description's Email schema, served at /openapi.json, takes exactly what
     * the server takes: the table above, and strings drawn from the characters that matter.
     */
    @Test
    void theDescriptionStatesTheServersRule() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"))) {
            JsonNode email = server.http.get("/openapi.json", null).json().at("/components/schemas/Email");
            // Matched as a whole: Java's $ also matches before a final line break, ECMA-262's (JSON Schema's) does not.
            Pattern pattern = Pattern.compile(email.path("pattern").asText());
            assertThat(email.path("pattern").asText()).isEqualTo(EmailAddresses.PATTERN);
            assertThat(email.path("maxLength").asInt()).isEqualTo(254);
            List<String> samples = new ArrayList<>(ACCEPTED);
            samples.addAll(REFUSED.keySet());
            for (String sample : samples) {
                assertThat(pattern.matcher(sample).matches()).as("'%s'", sample).isEqualTo(ACCEPTED.contains(sample));
                assertThat(EmailAddresses.isValid(sample)).as("'%s'", sample).isEqualTo(ACCEPTED.contains(sample));
            }
            long seed = 20261206L;
            SplittableRandom random = new SplittableRandom(seed);
            String alphabet = "aZ09.@-_+!#$%&'*/=?^`{|}~\"()<>,;:\\[] \tü";
            int valid = 0;
            for (int n = 0; n < 200_000; n++) {
                StringBuilder text = new StringBuilder();
                int length = 1 + random.nextInt(12);
                for (int i = 0; i < length; i++) {
                    text.append(random.nextInt(3) == 0 ? 'a' : alphabet.charAt(random.nextInt(alphabet.length())));
                }
                if (random.nextBoolean()) {
                    text.insert(random.nextInt(text.length() + 1), "@x.y");
                }
                String sample = text.toString();
                boolean takes = EmailAddresses.isValid(sample);
                valid += takes ? 1 : 0;
                assertThat(pattern.matcher(sample).matches()).as("'%s' (seed %d)", sample, seed).isEqualTo(takes);
            }
            assertThat(valid).as("the random strings hold valid addresses too").isGreaterThan(1_000);
        }
    }

    private static HttpApi.Response open(TestServer server, String email) throws Exception {
        return server.http.post("/api/account", Map.of("email", email, "password", "correct horse battery"),
                null, null);
    }

    private static HttpApi.Response resend(TestServer server, Map<String, ?> body) throws Exception {
        return server.http.post("/api/verify/resend", body, null, null);
    }
}
