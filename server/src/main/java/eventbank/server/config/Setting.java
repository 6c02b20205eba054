package eventbank.server.config;

/**
 * One key's value as text and where it came from, before it is parsed.
 *
 * @param key    the key
 * @param text   the value, stripped of surrounding white space; never blank
 * @param source where it came from
 */
record Setting(ConfigKey key, String text, Source source) {

    /** The value as messages and the start-up log may show it: a secret is {@code ***}. */
    String shown() {
        return key.secret() ? Config.MASK : text;
    }

    /** The start of every message about this value: {@code http.port=abc (from environment EVENTBANK_HTTP_PORT)}. */
    String described() {
        return key.key() + "=" + shown() + " (" + source.phrase() + ")";
    }
}
