package eventbank.server.http;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Who sends a request: a holder, by the bearer token {@code POST /api/login} issued, or the
 * operator, by the operator key. Each check answers the error reply when it fails.
 */
final class Authenticator {
    static final String OPERATOR_KEY_HEADER = "X-Operator-Key";

    private final Tokens tokens;
    /** The operator key's UTF-8 bytes, or null when none is configured. */
    private final byte[] operatorKey;

    Authenticator(Tokens tokens, Optional<String> operatorKey) {
        this.tokens = tokens;
        this.operatorKey = operatorKey.map(key -> key.getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    /** The account number of the holder whose bearer token came with the request. */
    long holder(Context ctx) {
        String authorization = ctx.header("Authorization");
        if (authorization == null || authorization.isBlank()) {
            throw new ApiException(401, "missing_token", "This route needs an Authorization: Bearer token; "
                    + "get one from POST /api/login.");
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "invalid_token", "The Authorization header must be 'Bearer <token>'.");
        }
        return tokens.verify(authorization.substring(7).strip());
    }

    /**
     * Lets an operator through: {@code X-Operator-Key} must equal {@code operator.key}
     * (compared in constant time). None configured → 403 operator_key_not_configured; missing or
     * wrong → 401 operator_key_invalid. A holder's bearer token opens no operator route.
     */
    void operator(Context ctx) {
        if (operatorKey == null) {
            throw new ApiException(403, "operator_key_not_configured", "Operator routes are off: set operator.key "
                    + "(or EVENTBANK_OPERATOR_KEY), at least 16 characters, and restart the server.");
        }
        String sent = ctx.header(OPERATOR_KEY_HEADER);
        if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), operatorKey)) {
            throw new ApiException(401, "operator_key_invalid", "This route needs the operator key in the "
                    + OPERATOR_KEY_HEADER + " header.");
        }
    }
}
