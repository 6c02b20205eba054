package eventbank.server.http;

import eventbank.core.Limits;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;

/**
 * The rule for an account's email address (DESIGN.md, "Trust fixes"): one account, one
 * mailbox. An address is one mailbox that Jakarta Mail's strict parser accepts exactly as
 * written: no list ({@code a@example.com,} or {@code x@evil.com,victim.com} once opened one
 * account whose mail went to two domains), no group, no display name or comment, nothing
 * around it; a domain with at least one dot; at most 254 characters.
 *
 * <p>Two further limits, decided here because the parser would let them through:
 * <ul>
 * <li>Printable ASCII only. The parser accepts {@code ü@example.com}, but emails are unique
 * compared case-insensitively with no Unicode normalization, so the composed and decomposed
 * spellings of one mailbox would open two accounts; and the mail transports do not ask the
 * SMTP server for SMTPUTF8, so such an address could never get its link.</li>
 * <li>No quoted local part and no domain literal: {@code "alice"@example.com} is the mailbox
 * {@code alice@example.com} under another spelling, and {@code a@[192.0.2.1]} names a host,
 * not a domain with a dot.</li>
 * </ul>
 * What is left is RFC 5322's dot-atom form, which {@link #PATTERN} (the OpenAPI description's
 * pattern) states as a regular expression; {@code ApiDocsTest} checks the two agree.
 */
final class EmailAddresses {
    /** The same rule as a regular expression (ECMA-262 and Java alike), as the API description gives it. */
    static final String PATTERN = "^(?=.{1,254}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
            + "@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";

    private EmailAddresses() {}

    static boolean isValid(String email) {
        if (email == null || email.isEmpty() || email.length() > Limits.EMAIL_LENGTH_MAX) {
            return false;
        }
        for (int i = 0; i < email.length(); i++) {
            char c = email.charAt(i);
            // Outside printable ASCII, or the characters of a quoted string or a domain literal.
            if (c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '[' || c == ']') {
                return false;
            }
        }
        InternetAddress parsed;
        try {
            parsed = new InternetAddress(email, true);
        } catch (AddressException e) {
            return false;
        }
        // The parser takes the first of a list, drops a display name and comments: what it kept must be all there was.
        if (parsed.isGroup() || parsed.getPersonal() != null || !email.equals(parsed.getAddress())) {
            return false;
        }
        String domain = email.substring(email.lastIndexOf('@') + 1);
        return domain.indexOf('.') > 0;
    }

    /** Answers 400 {@code invalid_field} unless {@code email} is an address by the rule above. */
    static void check(String email) {
        if (!isValid(email)) {
            throw ApiException.invalidField("The field 'email' must be one email address, such as "
                    + "ada@example.com: printable ASCII, no name and no list, a domain with a dot, at most "
                    + Limits.EMAIL_LENGTH_MAX + " characters.");
        }
    }
}
