package eventbank.server.mail;

import java.io.IOException;

/** Asked of a node that does not lead the cluster: only the leader sends mail, and it was not sent. */
public final class OutboxNotLeadingException extends IOException {
    private static final long serialVersionUID = 1L;

    public OutboxNotLeadingException(String message) {
        super(message);
    }
}
