package eventbank.bench.faults;

/**
 * One state-changing request of the harness, as its checker records it: what was asked, with
 * which Idempotency-Key, and what is known of its outcome. An operation ends
 * {@link State#ACKNOWLEDGED} (the server answered its seq, first time or on a retry) or
 * {@link State#REJECTED} (the bank's rules refused it, which records nothing); until then it is
 * {@link State#UNKNOWN} (no reply, or 503) and is retried with the same key after the next fault.
 */
final class Operation {
    enum Kind { OPEN, TRANSFER, WITHDRAW }

    enum State { PENDING, ACKNOWLEDGED, REJECTED, UNKNOWN }

    final String key;
    final Kind kind;
    /** The holder; for OPEN the account being opened (its number is known once acknowledged). */
    final Account account;
    /** The receiver of a transfer, else null. */
    final Account to;
    final long amount;

    private State state = State.PENDING;
    private long seq;
    private String lastAnswer = "";
    private int attempts;

    Operation(String key, Kind kind, Account account, Account to, long amount) {
        this.key = key;
        this.kind = kind;
        this.account = account;
        this.to = to;
        this.amount = amount;
    }

    synchronized State state() {
        return state;
    }

    synchronized long seq() {
        return seq;
    }

    synchronized String lastAnswer() {
        return lastAnswer;
    }

    synchronized int attempts() {
        return attempts;
    }

    synchronized void attempted() {
        attempts++;
    }

    /**
     * Records an outcome. Answers a sentence when it contradicts an earlier one (a key
     * acknowledged with another seq, or refused after it was acknowledged), else null.
     */
    synchronized String settle(State outcome, long outcomeSeq, String answer) {
        lastAnswer = answer;
        if (state != State.ACKNOWLEDGED) {
            state = outcome;
            seq = outcomeSeq;
            return null;
        }
        if (outcome == State.UNKNOWN || outcome == State.ACKNOWLEDGED && outcomeSeq == seq) {
            return null; // no news, or the same news again
        }
        return "key " + key + " was acknowledged as seq " + seq + ", and a retry answered " + answer;
    }

    @Override
    public synchronized String toString() {
        return kind + " " + key + " (" + state + (state == State.ACKNOWLEDGED ? " seq " + seq : "") + ", "
                + attempts + " attempts, last answer: " + lastAnswer + ")";
    }
}
