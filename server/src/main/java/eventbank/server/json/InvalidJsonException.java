package eventbank.server.json;

/**
 * A request read by {@link JsonBody} (an HTTP body, or the file of {@code eventbank what-if})
 * that is not what it must be: {@code code} is {@code malformed_json}, {@code unknown_field} or
 * {@code invalid_field}, and the message says what is wrong in a sentence. The HTTP API answers
 * it 400 with that code; the command line, as a usage error.
 */
public final class InvalidJsonException extends RuntimeException {
    public static final String MALFORMED_JSON = "malformed_json";
    public static final String UNKNOWN_FIELD = "unknown_field";
    public static final String INVALID_FIELD = "invalid_field";

    private final String code;

    InvalidJsonException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    static InvalidJsonException invalidField(String message) {
        return new InvalidJsonException(INVALID_FIELD, message);
    }

    public String code() {
        return code;
    }

    /** The same problem, its message prefixed with where in the request it is: {@code transfers[3]: ...}. */
    public InvalidJsonException at(String where) {
        return new InvalidJsonException(code, where + ": " + getMessage());
    }
}
