package eventbank.server.readmodel;

/**
 * One event of an account's history, as {@code GET /api/admin/accounts/{number}/history} lists it.
 *
 * @param seq          the event's seq
 * @param timeMicros   the event's time, microseconds since the epoch (UTC)
 * @param type         what happened to the account
 * @param delta        the signed change of the balance in cents: the opening balance for
 *                     {@code opened}, 0 for {@code verified}, negative for money going out
 * @param balanceAfter the balance after the event, in cents
 */
public record HistoryItem(long seq, long timeMicros, Type type, long delta, long balanceAfter) {

    public enum Type {
        OPENED, VERIFIED, TRANSFER_IN, TRANSFER_OUT, WITHDRAWAL, FORFEIT;

        /** The name the API uses: {@code opened}, {@code transfer_in}, ... */
        public String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Type of(StatementEntry.Type type) {
            return switch (type) {
                case TRANSFER_IN -> TRANSFER_IN;
                case TRANSFER_OUT -> TRANSFER_OUT;
                case WITHDRAWAL -> WITHDRAWAL;
                case FORFEIT -> FORFEIT;
            };
        }
    }
}
