package eventbank.server.mail;

/** How the SMTP session is protected ({@code mail.smtp.security}), and its usual port. */
public enum SmtpSecurity {
    /** Plain text: only for a relay on the same machine or network, never with a password sent afar. */
    NONE(25),
    /** Plain connection upgraded with STARTTLS before anything else is sent; refused if the server cannot. */
    STARTTLS(587),
    /** TLS from the first byte (implicit TLS, "SMTPS"). */
    SMTPS(465);

    private final int defaultPort;

    SmtpSecurity(int defaultPort) {
        this.defaultPort = defaultPort;
    }

    /** The port used when {@code mail.smtp.port} is not set: 25, 587 or 465. */
    public int defaultPort() {
        return defaultPort;
    }
}
