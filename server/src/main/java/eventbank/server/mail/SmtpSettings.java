package eventbank.server.mail;

/**
 * What the SMTP transport needs, checked together: a host, and a user with a password or
 * neither. {@link #toString()} masks the password.
 *
 * @param host     the SMTP server's host name or address
 * @param port     its port; by default the usual one for {@code security}
 * @param security how the session is protected
 * @param user     the user to log in as, or null to send without logging in
 * @param password the password, or null exactly when {@code user} is
 */
public record SmtpSettings(String host, int port, SmtpSecurity security, String user, String password) {

    public SmtpSettings {
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("an SMTP user needs a password, and a password a user");
        }
    }

    /** Whether the transport logs in (AUTH) before sending. */
    public boolean hasLogin() {
        return user != null;
    }

    @Override
    public String toString() {
        return "SmtpSettings[host=" + host + ", port=" + port + ", security=" + security + ", user=" + user
                + ", password=" + (password == null ? null : "***") + "]";
    }
}
