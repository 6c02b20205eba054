package eventbank.server.readmodel;

/**
 * One line of an account's statement, as {@code GET /api/account/transactions} lists it.
 *
 * @param seq                       the event's seq
 * @param timeMicros                the event's time, microseconds since the epoch (UTC)
 * @param type                      what moved the money
 * @param amount                    cents, always positive; {@link #type} says which way
 * @param counterpartyAccountNumber the other account of a transfer; null for a withdrawal
 * @param balanceAfter              the account's balance after this entry, in cents
 */
public record StatementEntry(long seq, long timeMicros, Type type, long amount, Long counterpartyAccountNumber,
                             long balanceAfter) {

    public enum Type {
        TRANSFER_IN("transfer_in"),
        TRANSFER_OUT("transfer_out"),
        WITHDRAWAL("withdrawal"),
        /** An unverified account's opening bonus, given up when it closed. */
        FORFEIT("forfeit");

        private final String code;

        Type(String code) {
            this.code = code;
        }

        /** The name the API contract uses. */
        public String code() {
            return code;
        }

        /** What this entry does to the balance, for an amount. */
        public long signed(long amount) {
            return this == TRANSFER_IN ? amount : -amount;
        }
    }
}
