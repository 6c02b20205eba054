package eventbank.server.mail;

/**
 * The outbox stopped before a mail was sent: the transport failed beyond the outbox's limits,
 * refused the mail for good, or the outbox was closed. The mail and every later one are sent
 * after the next start, since the checkpoint stays before it.
 */
public final class OutboxStoppedException extends Exception {
    private static final long serialVersionUID = 1L;

    public OutboxStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}
