package eventbank.server.mail;

import java.io.IOException;

/**
 * A mail that no retry can deliver: the message cannot be built from its fields, or the server
 * refused it for good (an SMTP 5xx). The outbox does not retry it: it sets the mail aside in its
 * {@link DeadLetters} and goes on.
 */
public final class PermanentMailException extends IOException {
    private static final long serialVersionUID = 1L;

    public PermanentMailException(String message, Throwable cause) {
        super(message, cause);
    }
}
