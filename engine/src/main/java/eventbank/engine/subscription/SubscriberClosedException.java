package eventbank.engine.subscription;

/**
 * Thrown by a subscriber that was closed while events were still due to it (the mail outbox
 * closed at shutdown before its last mails went out). Not a failure: the subscription stops
 * and logs one line, and the subscriber resumes from its checkpoint at the next start.
 */
public class SubscriberClosedException extends Exception {
    private static final long serialVersionUID = 1L;

    public SubscriberClosedException(String message) {
        super(message);
    }
}
