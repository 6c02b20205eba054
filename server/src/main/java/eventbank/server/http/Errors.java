package eventbank.server.http;

import eventbank.core.Rejection;
import eventbank.engine.write.Outcome;

/** The one table from the bank's refusals and the engine's failures to HTTP statuses. */
final class Errors {
    private Errors() {}

    /**
     * An error reply's body: {@code {"error": code, "message": sentence}}, and the leader's URL
     * when the error is {@code not_leader}.
     */
    record Body(String error, String message,
                @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
                String leaderUrl) {}

    static int statusOf(Rejection rejection) {
        return switch (rejection) {
            case EMAIL_INVALID, OPENING_BALANCE_INVALID, PASSWORD_HASH_INVALID, AMOUNT_NOT_POSITIVE,
                 AMOUNT_TOO_LARGE, BATCH_SIZE_INVALID -> 400;
            case ACCOUNT_NOT_FOUND, RECIPIENT_NOT_FOUND -> 404;
            case EMAIL_TAKEN, IDEMPOTENCY_KEY_REUSED, ACCOUNT_NUMBER_TAKEN, ACCOUNT_NOT_CLOSED,
                 ACCOUNT_NOT_FORGETTABLE -> 409;
            case WRONG_CODE, ACCOUNT_NOT_VERIFIED, RECIPIENT_NOT_VERIFIED, SAME_ACCOUNT, INSUFFICIENT_FUNDS,
                 BALANCE_NOT_ZERO, ACCOUNT_CLOSED, RECIPIENT_CLOSED -> 422;
        };
    }

    static ApiException of(Rejection rejection) {
        return new ApiException(statusOf(rejection), rejection.code(), rejection.message());
    }

    static ApiException of(Outcome.Unavailable unavailable) {
        String message = switch (unavailable.failure()) {
            case BUSY -> "The server is busy; retry in a moment.";
            case JOURNAL_FAILED -> "The journal failed; the server takes no more changes until it restarts.";
            case COMMIT_OUTCOME_UNKNOWN -> "The change may or may not have been recorded; retry with the same "
                    + "Idempotency-Key after the server restarts.";
            case STOPPED -> "The server is stopping; retry in a moment.";
            case NOT_LEADER -> "This node does not lead; send commands to the leader.";
        };
        return new ApiException(503, unavailable.failure().code(), message, 1);
    }

    static ApiException readModelLagging() {
        return new ApiException(503, "read_model_lagging",
                "The data asked for (min_seq) is not readable yet; retry in a moment.", 1);
    }
}
