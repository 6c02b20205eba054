package eventbank.server.mail;

import java.net.URI;

/** Where the Mailgun account lives ({@code mail.mailgun.region}): each region has its own API host. */
public enum MailgunRegion {
    US(URI.create("https://api.mailgun.net")),
    EU(URI.create("https://api.eu.mailgun.net"));

    private final URI apiBaseUrl;

    MailgunRegion(URI apiBaseUrl) {
        this.apiBaseUrl = apiBaseUrl;
    }

    /** The API's base URL, without a trailing slash: messages are posted to {@code /v3/{domain}/messages}. */
    public URI apiBaseUrl() {
        return apiBaseUrl;
    }
}
