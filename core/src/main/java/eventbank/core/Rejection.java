package eventbank.core;

/**
 * Every reason the bank refuses a command, with the error code clients see and a sentence for
 * people. The HTTP status of each code is chosen in one place, in the server.
 */
public enum Rejection {
    EMAIL_INVALID("invalid_field", "The email address is not valid."),
    EMAIL_TAKEN("email_taken", "An account with this email address already exists."),
    ACCOUNT_NUMBER_TAKEN("account_number_taken", "This account number is in use or is not a 16-digit number."),
    OPENING_BALANCE_INVALID("invalid_field", "The opening balance must be between 0 and the maximum amount."),
    PASSWORD_HASH_INVALID("invalid_field", "The password hash is missing or longer than 512 characters."),
    ACCOUNT_NOT_FOUND("account_not_found", "The account does not exist."),
    RECIPIENT_NOT_FOUND("account_not_found", "The recipient account does not exist."),
    WRONG_CODE("wrong_code", "The verification code is not right for this account."),
    ACCOUNT_NOT_VERIFIED("account_not_verified", "The account's email address is not verified yet."),
    RECIPIENT_NOT_VERIFIED("recipient_not_verified", "The recipient's email address is not verified yet."),
    SAME_ACCOUNT("same_account", "Money cannot be transferred to the account it comes from."),
    AMOUNT_NOT_POSITIVE("invalid_field", "The amount must be at least 1 cent."),
    AMOUNT_TOO_LARGE("invalid_field", "The amount must be at most 1,000,000,000,000 cents."),
    INSUFFICIENT_FUNDS("insufficient_funds", "The balance is lower than the amount."),
    BATCH_SIZE_INVALID("invalid_field", "A batch holds from 1 to 1,000 transfers."),
    IDEMPOTENCY_KEY_REUSED("idempotency_key_reused",
            "This Idempotency-Key was already used for a different request."),
    BALANCE_NOT_ZERO("balance_not_zero",
            "A verified account closes only at a balance of zero: transfer or withdraw what it holds first."),
    ACCOUNT_CLOSED("account_closed", "The account is closed: it sends and receives nothing."),
    RECIPIENT_CLOSED("account_closed", "The recipient account is closed: it receives nothing."),
    ACCOUNT_NOT_CLOSED("account_not_closed", "Only a closed account can be forgotten: its holder closes it first."),
    ACCOUNT_NOT_FORGETTABLE("account_not_forgettable",
            "This account was opened before eventbank encrypted personal data: its email address and"
                    + " password hash are in the log in plain text, which an append-only, hash-chained log"
                    + " cannot erase. It can be closed, not forgotten.");

    private final String code;
    private final String message;

    Rejection(String code, String message) {
        this.code = code;
        this.message = message;
    }

    /** The stable, machine-readable error code of the API contract. */
    public String code() {
        return code;
    }

    /** A human sentence explaining the refusal. */
    public String message() {
        return message;
    }
}
