package eventbank.server.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The API description against DESIGN.md's API contract, and the page that shows it. That it
 * describes exactly the routes the server registers is {@code RouteTableTest}'s to check.
 */
class ApiDocsTest {

    /** The routes a later issue delivers: marked planned in the description. */
    static final List<String> PLANNED_ROUTES = List.of();

    /** The routes that change state and so take an Idempotency-Key. */
    static final List<String> IDEMPOTENT_ROUTES = List.of(
            "POST /api/account", "POST /api/money_transfer", "POST /api/money_transfers", "POST /api/withdraw");

    /** Every error code of DESIGN.md's "Errors" paragraph, with its status. */
    static final Map<String, Integer> DESIGN_ERROR_CODES = Map.ofEntries(
            Map.entry("malformed_json", 400), Map.entry("invalid_field", 400),
            Map.entry("unknown_field", 400), Map.entry("invalid_query", 400),
            Map.entry("missing_token", 401), Map.entry("invalid_token", 401),
            Map.entry("invalid_credentials", 401), Map.entry("operator_key_invalid", 401),
            Map.entry("operator_key_not_configured", 403), Map.entry("forbidden", 403),
            Map.entry("not_found", 404), Map.entry("account_not_found", 404),
            Map.entry("method_not_allowed", 405),
            Map.entry("email_taken", 409), Map.entry("idempotency_key_reused", 409),
            Map.entry("body_too_large", 413), Map.entry("unsupported_media_type", 415),
            Map.entry("insufficient_funds", 422), Map.entry("account_not_verified", 422),
            Map.entry("recipient_not_verified", 422), Map.entry("same_account", 422),
            Map.entry("wrong_code", 422), Map.entry("too_many_attempts", 429),
            Map.entry("too_many_requests", 429),
            Map.entry("busy", 503), Map.entry("journal_failed", 503),
            Map.entry("commit_outcome_unknown", 503), Map.entry("read_model_lagging", 503),
            Map.entry("starting", 503),
            // DESIGN.md, "Personal data" and "Trust fixes": closing and forgetting.
            Map.entry("account_not_closed", 409), Map.entry("account_not_forgettable", 409),
            Map.entry("balance_not_zero", 422), Map.entry("account_closed", 422));

    /**
     * The codes of issue 4's dead-letter retry, which DESIGN.md's list does not hold (its
     * statuses are from the list): the mail server refused the mail for good again, or could
     * not take it now.
     */
    static final Map<String, Integer> ISSUE_ERROR_CODES = Map.of("mail_refused", 422, "mail_unavailable", 503,
            "not_leader", 503);

    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
    private static final Pattern CODE_IN_BACKTICKS = Pattern.compile("`([a-z_]+)`");

    static String json;
    static JsonNode root;

    @BeforeAll
    static void parse() throws Exception {
        json = new String(ApiDocs.openapiJson(), StandardCharsets.UTF_8);
        root = new ObjectMapper().readTree(ApiDocs.openapiJson());
    }

    @Test
    void isOpenApi3() {
        assertThat(root.path("openapi").asText()).startsWith("3.");
        assertThat(root.path("info").path("title").asText()).isNotBlank();
        assertThat(root.path("info").path("version").asText()).isNotBlank();
        assertThat(root.path("paths").isObject()).isTrue();
    }

    @Test
    void everyOperationHasAnIdAndAnExampleOfEachBodyItDescribes() {
        Set<String> ids = new HashSet<>();
        operations().forEach((route, operation) -> {
            assertThat(ids.add(operation.path("operationId").asText())).as(route + " operationId").isTrue();
            List<JsonNode> bodies = new ArrayList<>();
            operation.path("requestBody").path("content").forEach(bodies::add);
            operation.path("responses").forEach(response -> response.path("content").forEach(bodies::add));
            assertThat(bodies).as(route + " has bodies").isNotEmpty();
            for (JsonNode body : bodies) {
                assertThat(body.has("example") || body.path("examples").size() > 0)
                        .as(route + ": every request and response body has an example").isTrue();
            }
        });
    }

    @Test
    void everyOperationWithABodyDocuments400And413And415() {
        operations().forEach((route, operation) -> {
            if (operation.has("requestBody")) {
                JsonNode responses = operation.path("responses");
                assertThat(responses.has("400")).as(route + " documents 400").isTrue();
                assertThat(codesOf(responses.path("400"))).as(route).contains("malformed_json", "unknown_field");
                assertThat(responses.has("413")).as(route + " documents 413").isTrue();
                assertThat(responses.has("415")).as(route + " documents 415").isTrue();
            }
        });
    }

    @Test
    void everyErrorResponseUsesTheErrorSchemaAndListsItsCodesInItsDescription() {
        Set<String> known = new HashSet<>();
        root.at("/components/schemas/ErrorCode/enum").forEach(code -> known.add(code.asText()));
        // DESIGN.md's codes, plus the 500 a bug in the server answers with.
        Set<String> expected = new HashSet<>(DESIGN_ERROR_CODES.keySet());
        expected.addAll(ISSUE_ERROR_CODES.keySet());
        expected.add("internal_error");
        assertThat(known).containsExactlyInAnyOrderElementsOf(expected);
        operations().forEach((route, operation) -> operation.path("responses").properties().forEach(entry -> {
            int status = Integer.parseInt(entry.getKey());
            JsonNode response = entry.getValue();
            if (status < 400 || route.startsWith("GET /health")) {
                return; // The health routes' 503 carries the health body, not an error.
            }
            JsonNode media = response.path("content").path("application/json");
            assertThat(media.path("schema").path("$ref").asText())
                    .as(route + " " + status).isEqualTo("#/components/schemas/Error");
            Set<String> described = codesOf(response);
            assertThat(described).as(route + " " + status + " lists its codes").isNotEmpty();
            for (String code : described) {
                assertThat(ISSUE_ERROR_CODES.getOrDefault(code, DESIGN_ERROR_CODES.get(code)))
                        .as(route + " " + status + " " + code).isEqualTo(status);
                assertThat(media.path("examples").path(code).at("/value/error").asText())
                        .as(route + " " + status + " example of " + code).isEqualTo(code);
            }
        }));
    }

    @Test
    void everyErrorCodeOfTheDesignAppearsInSomeRoute() {
        Set<String> used = new HashSet<>();
        operations().values().forEach(operation ->
                operation.path("responses").forEach(response -> used.addAll(codesOf(response))));
        // 404 not_found (no such route) and 405 method_not_allowed apply to every route: the
        // description's introduction says so instead of repeating them on each route.
        Set<String> everywhere = Set.of("not_found", "method_not_allowed");
        String introduction = root.at("/info/description").asText();
        for (String code : DESIGN_ERROR_CODES.keySet()) {
            if (everywhere.contains(code)) {
                assertThat(introduction).contains("`" + code + "`");
            } else {
                assertThat(used).as("routes answering " + code).contains(code);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Rejection.class)
    void everyRejectionCodeAppears(Rejection rejection) {
        assertThat(json).contains(rejection.code());
    }

    @Test
    void stateChangingRoutesTakeAnIdempotencyKeyAndMayBeReplayed() {
        JsonNode key = root.at("/components/parameters/IdempotencyKey");
        assertThat(key.path("name").asText()).isEqualTo("Idempotency-Key");
        assertThat(key.path("in").asText()).isEqualTo("header");
        JsonNode value = root.at("/components/schemas/IdempotencyKeyValue");
        assertThat(value.path("minLength").asInt()).isEqualTo(1);
        assertThat(value.path("maxLength").asInt()).isEqualTo(255);
        Pattern pattern = Pattern.compile(value.path("pattern").asText());
        assertThat(pattern.matcher("3f1c9a7e-transfer-0001").matches()).isTrue();
        assertThat(pattern.matcher("x".repeat(255)).matches()).isTrue();
        assertThat(pattern.matcher("x".repeat(256)).matches()).isFalse();
        assertThat(pattern.matcher("é").matches()).isFalse();
        assertThat(pattern.matcher("a\tb").matches()).isFalse();
        for (String sample : List.of("", " ", "~", "a b", "a\u007fb", "ünï", "k".repeat(255), "k".repeat(256))) {
            assertThat(pattern.matcher(sample).matches()).as("'" + sample + "'").isEqualTo(Idempotency.isValidKey(sample));
        }
        operations().forEach((route, operation) -> {
            boolean takesKey = parameterRefs(operation).contains("#/components/parameters/IdempotencyKey");
            assertThat(takesKey).as(route + " takes Idempotency-Key").isEqualTo(IDEMPOTENT_ROUTES.contains(route));
            if (takesKey) {
                JsonNode success = operation.path("responses").path(route.equals("POST /api/account") ? "201" : "200");
                assertThat(success.at("/headers/Idempotent-Replayed/$ref").asText())
                        .isEqualTo("#/components/headers/IdempotentReplayed");
                assertThat(codesOf(operation.path("responses").path("409"))).contains("idempotency_key_reused");
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /api/account", "GET /api/account/transactions", "GET /api/operations/{idempotency_key}",
            "GET /api/account/export"})
    void holderReadsTakeMinSeq(String route) {
        assertThat(parameterRefs(operations().get(route))).contains("#/components/parameters/MinSeq");
        assertThat(codesOf(operations().get(route).path("responses").path("503"))).contains("read_model_lagging");
    }

    @Test
    void securitySchemesAreBearerJwtForHoldersAndTheOperatorKeyHeader() {
        JsonNode schemes = root.at("/components/securitySchemes");
        assertThat(schemes.at("/bearerAuth/type").asText()).isEqualTo("http");
        assertThat(schemes.at("/bearerAuth/scheme").asText()).isEqualTo("bearer");
        assertThat(schemes.at("/bearerAuth/bearerFormat").asText()).isEqualTo("JWT");
        assertThat(schemes.at("/operatorKey/type").asText()).isEqualTo("apiKey");
        assertThat(schemes.at("/operatorKey/in").asText()).isEqualTo("header");
        assertThat(schemes.at("/operatorKey/name").asText()).isEqualTo("X-Operator-Key");
        operations().forEach((route, operation) -> {
            String path = route.substring(route.indexOf(' ') + 1);
            String scheme = operation.at("/security/0").properties().stream()
                    .map(Map.Entry::getKey).findFirst().orElse("none");
            String expected = path.startsWith("/api/report/") || path.startsWith("/api/admin/") ? "operatorKey"
                    : Set.of("GET /api/account", "GET /api/account/transactions", "POST /api/money_transfer",
                            "POST /api/money_transfers", "POST /api/withdraw", "GET /api/operations/{idempotency_key}",
                            "POST /api/account/close", "GET /api/account/export")
                            .contains(route) ? "bearerAuth" : "none";
            assertThat(scheme).as(route).isEqualTo(expected);
            if (expected.equals("operatorKey")) {
                assertThat(codesOf(operation.at("/responses/401"))).as(route).contains("operator_key_invalid");
                assertThat(codesOf(operation.at("/responses/403"))).as(route).contains("operator_key_not_configured");
            }
            if (expected.equals("bearerAuth")) {
                assertThat(codesOf(operation.at("/responses/401"))).as(route).contains("missing_token", "invalid_token");
            }
        });
    }

    @Test
    void plannedRoutesAreMarked() {
        operations().forEach((route, operation) -> assertThat(operation.path("x-eventbank-status").asText())
                .as(route).isEqualTo(PLANNED_ROUTES.contains(route) ? "planned" : ""));
    }

    @Test
    void accountNumbersAreSixteenDigitStringsAndAmountsAreBoundedIntegers() {
        JsonNode account = root.at("/components/schemas/AccountNumber");
        assertThat(account.path("type").asText()).isEqualTo("string");
        Pattern pattern = Pattern.compile(account.path("pattern").asText());
        assertThat(pattern.matcher(Long.toString(Limits.ACCOUNT_NUMBER_MIN)).matches()).isTrue();
        assertThat(pattern.matcher(Long.toString(Limits.ACCOUNT_NUMBER_MAX)).matches()).isTrue();
        assertThat(pattern.matcher("0123456789012345").matches()).isFalse();
        assertThat(pattern.matcher("123456789012345").matches()).isFalse();
        JsonNode amount = root.at("/components/schemas/Amount");
        assertThat(amount.path("type").asText()).isEqualTo("integer");
        assertThat(amount.path("minimum").asLong()).isEqualTo(Limits.AMOUNT_MIN);
        assertThat(amount.path("maximum").asLong()).isEqualTo(Limits.AMOUNT_MAX);
        assertThat(root.at("/components/schemas/Email/maxLength").asInt()).isEqualTo(Limits.EMAIL_LENGTH_MAX);
    }

    @Test
    void everyReferenceResolves() {
        Matcher refs = Pattern.compile("\"\\$ref\"\\s*:\\s*\"#([^\"]+)\"").matcher(json);
        int count = 0;
        while (refs.find()) {
            count++;
            assertThat(root.at(refs.group(1)).isMissingNode()).as(refs.group(1)).isFalse();
        }
        assertThat(count).isPositive();
    }

    /**
     * JSON null for an optional field means absent, everywhere (finding 8 of
     * docs/RELIABILITY.md): so every optional property of a request body must allow null, and a
     * client generated from the description may send it.
     */
    @Test
    void everyOptionalFieldOfARequestBodyIsNullable() {
        List<String> notNullable = new java.util.ArrayList<>();
        int optional = 0;
        for (Map.Entry<String, JsonNode> operation : operations().entrySet()) {
            JsonNode body = operation.getValue().path("requestBody").path("content").path("application/json")
                    .path("schema");
            if (!body.isMissingNode()) {
                optional += collectOptional(body, operation.getKey(), notNullable, new java.util.HashSet<>());
            }
        }
        assertThat(notNullable).isEmpty();
        assertThat(optional).as("optional fields seen (atomic, what-if's, resend's)").isGreaterThanOrEqualTo(6);
    }

    /** Walks a request schema; adds each optional property that does not allow null; counts the optional ones. */
    private static int collectOptional(JsonNode schema, String where, List<String> notNullable, Set<String> seen) {
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            return seen.add(ref) ? collectOptional(root.at(ref.substring(1)), ref, notNullable, seen) : 0;
        }
        int optional = 0;
        Set<String> required = new java.util.HashSet<>();
        schema.path("required").forEach(name -> required.add(name.asText()));
        for (Map.Entry<String, JsonNode> property : schema.path("properties").properties()) {
            JsonNode type = resolved(property.getValue()).path("type");
            if (!required.contains(property.getKey())) {
                optional++;
                if (!allowsNull(resolved(property.getValue()))) {
                    notNullable.add(where + " " + property.getKey() + " " + type);
                }
            }
            optional += collectOptional(property.getValue(), where + "." + property.getKey(), notNullable, seen);
        }
        if (schema.has("items")) {
            optional += collectOptional(schema.get("items"), where + "[]", notNullable, seen);
        }
        for (String combination : List.of("oneOf", "anyOf", "allOf")) {
            for (JsonNode part : schema.path(combination)) {
                optional += collectOptional(part, where, notNullable, seen);
            }
        }
        return optional;
    }

    /** {@code "type": "null"}, a type list holding "null", or a oneOf or anyOf with such a part. */
    private static boolean allowsNull(JsonNode schema) {
        JsonNode type = schema.path("type");
        if (type.asText().equals("null") || (type.isArray() && type.toString().contains("\"null\""))) {
            return true;
        }
        for (String combination : List.of("oneOf", "anyOf")) {
            for (JsonNode part : schema.path(combination)) {
                if (allowsNull(resolved(part))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static JsonNode resolved(JsonNode schema) {
        return schema.has("$ref") ? root.at(schema.get("$ref").asText().substring(1)) : schema;
    }

    /** Every 429 says when to come back, and the money routes may answer too_many_requests. */
    @Test
    void tooManyRequestsIsDescribedOnTheMoneyRoutesWithRetryAfter() {
        for (String route : List.of("POST /api/money_transfer", "POST /api/money_transfers", "POST /api/withdraw")) {
            JsonNode tooMany = operations().get(route).path("responses").path("429");
            assertThat(codesOf(tooMany)).as(route).contains("too_many_requests");
            assertThat(tooMany.path("headers").has("Retry-After")).as(route).isTrue();
        }
        operations().forEach((route, operation) -> {
            JsonNode tooMany = operation.path("responses").path("429");
            if (!tooMany.isMissingNode()) {
                assertThat(tooMany.path("headers").has("Retry-After")).as(route).isTrue();
            }
        });
    }

    /** An unknown account and a wrong code are answered alike: no 404 that tells them apart. */
    @Test
    void verifyingAnswersAnUnknownAccountAsAWrongCode() {
        JsonNode responses = operations().get("GET /api/verify").path("responses");
        assertThat(responses.has("404")).isFalse();
        assertThat(codesOf(responses.path("422"))).contains("wrong_code");
    }

    @Test
    void theOpenapiJsonIsLoadedOnce() {
        assertThat(ApiDocs.openapiJson()).isSameAs(ApiDocs.openapiJson());
    }

    @Test
    void thePageLoadsTheDescriptionAndTheSwaggerAssetsFromThisServer() {
        String html = new String(ApiDocs.docsHtml(), StandardCharsets.UTF_8);
        assertThat(html).startsWith("<!doctype html>");
        assertThat(new String(ApiDocs.docsScript(), StandardCharsets.UTF_8)).contains("url: \"/openapi.json\"");
        assertThat(html).contains("src=\"/docs/start.js\"");
        assertThat(html).contains("src=\"/webjars/swagger-ui/5.34.1/swagger-ui-bundle.js\"");
        assertThat(html).contains("href=\"/webjars/swagger-ui/5.34.1/swagger-ui.css\"");
        assertThat(html).doesNotContain("http://", "https://", "//cdn", "unpkg");
    }

    @ParameterizedTest
    @ValueSource(strings = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
    void theSwaggerAssetsAreOnTheClassPath(String file) {
        assertThat(ApiDocs.swaggerUiResourcePrefix()).isEqualTo("META-INF/resources/webjars/swagger-ui/5.34.1/");
        assertThat(ApiDocs.class.getClassLoader().getResource(ApiDocs.swaggerUiResourcePrefix() + file))
                .as(file).isNotNull();
        assertThat(ApiDocs.SWAGGER_UI_URL_PREFIX)
                .isEqualTo("/" + ApiDocs.swaggerUiResourcePrefix().substring("META-INF/resources/".length()));
    }

    /** Every operation as "METHOD path", in document order. */
    private static Map<String, JsonNode> operations() {
        Map<String, JsonNode> operations = new java.util.LinkedHashMap<>();
        root.path("paths").properties().forEach(path -> path.getValue().properties().forEach(method -> {
            if (METHODS.contains(method.getKey())) {
                operations.put(method.getKey().toUpperCase(java.util.Locale.ROOT) + " " + path.getKey(), method.getValue());
            }
        }));
        return operations;
    }

    /** The error codes a response's description names, each in backticks. */
    private static Set<String> codesOf(JsonNode response) {
        Set<String> codes = new HashSet<>();
        Matcher matcher = CODE_IN_BACKTICKS.matcher(response.path("description").asText());
        while (matcher.find()) {
            if (DESIGN_ERROR_CODES.containsKey(matcher.group(1)) || ISSUE_ERROR_CODES.containsKey(matcher.group(1))) {
                codes.add(matcher.group(1));
            }
        }
        return codes;
    }

    private static Set<String> parameterRefs(JsonNode operation) {
        Set<String> refs = new HashSet<>();
        for (Iterator<JsonNode> it = operation.path("parameters").elements(); it.hasNext(); ) {
            refs.add(it.next().path("$ref").asText());
        }
        return refs;
    }
}
