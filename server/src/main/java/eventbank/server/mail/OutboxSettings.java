package eventbank.server.mail;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the outbox is configured with: where links point, who mails come from, and its limits,
 * kept together.
 *
 * @param publicUrl       the server's address as the recipient reaches it ({@code public.url}),
 *                        without a trailing slash; the verification link starts with it
 * @param from            the From address ({@code mail.from}), {@code name <address>} or a bare address
 * @param messageIdDomain the right-hand side of every Message-ID (by default the domain of {@code from})
 * @param backoffMillisMin the pause after the first failed attempt; each further pause doubles
 * @param backoffMillisMax the longest pause between two attempts ({@code mail.retry_backoff_max}):
 *                         a temporary failure is retried without end, at least this often
 */
public record OutboxSettings(String publicUrl, String from, String messageIdDomain, long backoffMillisMin,
                             long backoffMillisMax) {
    /** With the defaults, the pause goes 0.25 s, 0.5 s, 1 s, ... up to 60 s, then stays there. */
    public static final long BACKOFF_MILLIS_MIN_DEFAULT = 250;
    public static final long BACKOFF_MILLIS_MAX_DEFAULT = 60_000;

    private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?");

    public OutboxSettings {
        Objects.requireNonNull(publicUrl, "publicUrl");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(messageIdDomain, "messageIdDomain");
        if (!publicUrl.startsWith("http://") && !publicUrl.startsWith("https://")) {
            throw new IllegalArgumentException("public.url must start with http:// or https://: " + publicUrl);
        }
        while (publicUrl.endsWith("/")) {
            publicUrl = publicUrl.substring(0, publicUrl.length() - 1);
        }
        parseFrom(from);
        if (!DOMAIN.matcher(messageIdDomain).matches()) {
            throw new IllegalArgumentException("not a domain for Message-IDs: " + messageIdDomain);
        }
        if (backoffMillisMin < 1 || backoffMillisMax < backoffMillisMin) {
            throw new IllegalArgumentException(
                    "backoff must satisfy 1 <= backoffMillisMin <= backoffMillisMax");
        }
    }

    /** The default limits, Message-IDs in the domain of the From address. */
    public static OutboxSettings of(String publicUrl, String from) {
        String address = parseFrom(from).getAddress();
        String domain = address.substring(address.lastIndexOf('@') + 1);
        return new OutboxSettings(publicUrl, from, domain, BACKOFF_MILLIS_MIN_DEFAULT, BACKOFF_MILLIS_MAX_DEFAULT);
    }

    /** These settings with pauses from {@code millisMin} doubling up to {@code millisMax}. */
    public OutboxSettings withBackoff(long millisMin, long millisMax) {
        return new OutboxSettings(publicUrl, from, messageIdDomain, millisMin, millisMax);
    }

    /** These settings with the cap {@code millisMax}; the first pause is the default or, below it, the cap. */
    public OutboxSettings withBackoffMax(long millisMax) {
        return withBackoff(Math.min(BACKOFF_MILLIS_MIN_DEFAULT, millisMax), millisMax);
    }

    /** The pause after failed attempt number {@code attempt} (from 1): doubling, capped. */
    public long backoffMillisAfter(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempts count from 1");
        }
        long pause = backoffMillisMin;
        // At most 63 doublings reach any cap; checking against half the cap never overflows.
        for (int i = 1; i < attempt && pause < backoffMillisMax; i++) {
            pause = pause > backoffMillisMax / 2 ? backoffMillisMax : pause * 2;
        }
        return pause;
    }

    private static InternetAddress parseFrom(String from) {
        try {
            InternetAddress address = new InternetAddress(from, true);
            if (address.getAddress().lastIndexOf('@') < 1) {
                throw new IllegalArgumentException("mail.from needs a domain: " + from);
            }
            return address;
        } catch (AddressException e) {
            throw new IllegalArgumentException("mail.from is not an address: " + from
                    + " (" + e.getMessage() + ")", e);
        }
    }
}
