package eventbank.server.http;

/**
 * A reply of the error table (DESIGN.md, "API contract"): {@code {"error": code, "message": sentence}}
 * with its HTTP status. Thrown from a handler; {@link BankServer} writes it.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Integer retryAfterSeconds;

    public ApiException(int status, String code, String message) {
        this(status, code, message, null);
    }

    public ApiException(int status, String code, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Seconds for a Retry-After header, or null. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    static ApiException invalidField(String message) {
        return new ApiException(400, "invalid_field", message);
    }

    static ApiException invalidQuery(String message) {
        return new ApiException(400, "invalid_query", message);
    }
}
