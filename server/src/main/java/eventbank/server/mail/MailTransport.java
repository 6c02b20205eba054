package eventbank.server.mail;

import java.io.IOException;

/**
 * Hands one mail to the world: a file in the outbox directory, an SMTP server, an HTTP mail
 * service. Called by the {@link Outbox} on its own thread, one mail at a time, and again with
 * the same mail (the same Message-ID) after a failure or a restart: delivery is at least once.
 * Resent verification links come from another thread, so {@link #send} may be called from two
 * threads at once.
 */
public interface MailTransport extends AutoCloseable {

    /**
     * Sends the mail, or throws. A plain {@link IOException} is a temporary failure (the disk is
     * full, the server is down) that the outbox retries after a pause; a
     * {@link PermanentMailException} says that retrying cannot help (the server refuses the
     * address) and is not retried.
     */
    void send(OutgoingMail mail) throws IOException;

    /** Lets go of what the transport holds open (a connection); by default nothing. */
    @Override
    default void close() {}
}
