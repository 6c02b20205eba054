package eventbank.server.http;

/**
 * A reply of the error table (DESIGN.md, "API contract"): {@code {"error": code, "message": sentence}}
 * with its HTTP status. Thrown from a handler; {@link BankServer} writes it.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Integer retryAfterSeconds;
    private final String leaderUrl;

    public ApiException(int status, String code, String message) {
        this(status, code, message, null);
    }

    public ApiException(int status, String code, String message, Integer retryAfterSeconds) {
        this(status, code, message, retryAfterSeconds, null);
    }

    private ApiException(int status, String code, String message, Integer retryAfterSeconds, String leaderUrl) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
        this.leaderUrl = leaderUrl;
    }

    /**
     * 503 {@code not_leader}: in a cluster, commands go to the leader, whose {@code node.url}
     * the reply gives as {@code leader_url} (absent while no node leads).
     */
    static ApiException notLeader(String leaderUrl) {
        return new ApiException(503, "not_leader", leaderUrl == null
                ? "This node does not lead, and no node leads now; retry in a moment."
                : "This node does not lead; send commands to the leader at " + leaderUrl + ".", 1, leaderUrl);
    }

    /** The leader's URL, for a {@code not_leader} reply; else null. */
    public String leaderUrl() {
        return leaderUrl;
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
