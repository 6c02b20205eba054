package eventbank.server.mail;

import java.net.URI;

/**
 * What the Mailgun transport needs. {@link #toString()} masks the API key.
 *
 * @param domain the sending domain registered with Mailgun
 * @param apiKey the API key (a secret)
 * @param region the region of the account, which chooses the API host
 */
public record MailgunSettings(String domain, String apiKey, MailgunRegion region) {

    /** Where messages are posted: {@code https://api.mailgun.net/v3/{domain}/messages} in the US region. */
    public URI messagesUrl() {
        return URI.create(region.apiBaseUrl() + "/v3/" + domain + "/messages");
    }

    @Override
    public String toString() {
        return "MailgunSettings[domain=" + domain + ", apiKey=***, region=" + region + "]";
    }
}
