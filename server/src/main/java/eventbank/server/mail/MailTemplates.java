package eventbank.server.mail;

import eventbank.core.EpochMicros;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;

/**
 * The words of the outbox's mails, plain text and HTML. Whatever a client chose (today only the
 * email address) is HTML-escaped in the HTML part; numbers are written by the server.
 */
final class MailTemplates {

    private MailTemplates() {}

    static OutgoingMail verification(OutboxSettings settings, long seq, Instant time, long accountNumber,
                                     String email, String code) {
        return verification(settings, seq, OutgoingMail.Kind.VERIFICATION,
                messageId(seq, OutgoingMail.Kind.VERIFICATION, accountNumber, settings.messageIdDomain()),
                time, accountNumber, email, code);
    }

    /**
     * The verification mail again, the same link (the code depends on the AccountOpened only).
     * Each resend gets a Message-ID of its own, made unique by its time: a mailbox that has the
     * earlier mail, deleted or filtered away, may drop a second mail carrying the same one.
     */
    static OutgoingMail verificationResent(OutboxSettings settings, long openedSeq, Instant time,
                                           long accountNumber, String email, String code) {
        OutgoingMail.Kind kind = OutgoingMail.Kind.VERIFICATION_RESENT;
        String id = messageId(openedSeq, kind, accountNumber, settings.messageIdDomain());
        long micros = EpochMicros.of(time);
        String unique = id.substring(0, id.indexOf('@')) + "." + micros + id.substring(id.indexOf('@'));
        return verification(settings, openedSeq, kind, unique, time, accountNumber, email, code);
    }

    private static OutgoingMail verification(OutboxSettings settings, long seq, OutgoingMail.Kind kind,
                                             String messageId, Instant time, long accountNumber, String email,
                                             String code) {
        String link = verificationLink(settings.publicUrl(), accountNumber, code);
        String text = """
                Hello,

                an eventbank account was opened for %s.
                Account number: %d

                Confirm your email address by opening this link:
                %s

                If you did not open this account, ignore this mail: nothing happens until the link is opened.
                """.formatted(email, accountNumber, link);
        String html = page("""
                <p>Hello,</p>
                <p>an eventbank account was opened for <strong>%s</strong>.<br>
                Account number: %d</p>
                <p><a href="%s">Confirm your email address</a></p>
                <p>If you did not open this account, ignore this mail:
                nothing happens until the link is opened.</p>
                """.formatted(escape(email), accountNumber, escape(link)));
        return new OutgoingMail(seq, kind, messageId, settings.from(), email, "Confirm your eventbank account", time,
                text, html, link);
    }

    static OutgoingMail withdrawal(OutboxSettings settings, long seq, Instant time, long accountNumber,
                                   String email, long amountCents, long balanceCents) {
        String amount = dollars(amountCents);
        String balance = dollars(balanceCents);
        String text = """
                Hello,

                %s was withdrawn from your eventbank account %d.
                Balance after the withdrawal: %s

                If you did not make this withdrawal, change your password and tell us at once.
                """.formatted(amount, accountNumber, balance);
        String html = page("""
                <p>Hello,</p>
                <p><strong>%s</strong> was withdrawn from your eventbank account %d.<br>
                Balance after the withdrawal: <strong>%s</strong></p>
                <p>If you did not make this withdrawal, change your password and tell us at once.</p>
                """.formatted(escape(amount), accountNumber, escape(balance)));
        return new OutgoingMail(seq, OutgoingMail.Kind.WITHDRAWAL,
                messageId(seq, OutgoingMail.Kind.WITHDRAWAL, accountNumber, settings.messageIdDomain()),
                settings.from(), email, "Withdrawal of " + amount + " from your eventbank account", time,
                text, html, null);
    }

    /** {@code {public.url}/api/verify?account_number=…&code=…}. */
    static String verificationLink(String publicUrl, long accountNumber, String code) {
        // The code is base64url already; encoding it anyway keeps the link right whatever it holds.
        return publicUrl + "/api/verify?account_number=" + accountNumber + "&code="
                + URLEncoder.encode(code, StandardCharsets.UTF_8);
    }

    /**
     * A function of facts in the log only, so the mail made again after a crash carries the same
     * Message-ID. The account number (random, never reused) is in it besides (seq, kind, domain):
     * two servers with the same domain, or one whose data directory was wiped, count seqs from 1
     * again, and a mailbox that has seen a Message-ID may drop a second mail carrying it.
     */
    static String messageId(long seq, OutgoingMail.Kind kind, long accountNumber, String domain) {
        return "<eventbank." + seq + "." + kind.label() + "." + accountNumber + "@" + domain + ">";
    }

    /** Whole cents as dollars: 1234 is $12.34, 100000 is $1,000.00. */
    static String dollars(long cents) {
        if (cents < 0) {
            throw new IllegalArgumentException("amounts and balances are never negative: " + cents);
        }
        return String.format(Locale.ROOT, "$%,d.%02d", cents / 100, cents % 100);
    }

    /** Escapes text for HTML, in element content and in quoted attribute values alike. */
    static String escape(String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> escaped.append("&amp;");
                case '<' -> escaped.append("&lt;");
                case '>' -> escaped.append("&gt;");
                case '"' -> escaped.append("&quot;");
                case '\'' -> escaped.append("&#39;");
                default -> escaped.append(c);
            }
        }
        return escaped.toString();
    }

    private static String page(String body) {
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>eventbank</title></head>\n"
                + "<body>\n" + body + "</body></html>\n";
    }
}
